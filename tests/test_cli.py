"""The `lab` command as a user meets it: help everywhere, clear one-line errors with exit code 2."""

import pytest
from typer.testing import CliRunner

from lab.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["worlds"], ["worlds", "list"], ["worlds", "show"], ["worlds", "check"],
                                     ["worlds", "demo"], ["train"], ["eval"], ["report"], ["llm"],
                                     ["llm", "check"], ["skills"], ["skills", "search"], ["skills", "show"]])
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_worlds_lists_every_world_with_its_tasks(lab):
    result = lab("worlds")
    assert result.returncode == 0, result.stderr
    for name in ("ant", "humanoid", "pusher", "playground", "put_in_drawer", "stand_still"):
        assert name in result.stdout


def test_show_prints_fields_tasks_and_the_writers_text(lab):
    result = lab("worlds", "show", "playground", "--task", "stack(cube_green, cube_blue)")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "cube_red_pos" in out and "drawer_opening" in out
    assert "put the cube_green on top of the cube_blue" in out
    assert "robot.move_to(point" in out and "def state(self)" not in out, "a skill acts through the robot"
    assert "_stack_success" not in out  # success code is never shown to writers
    reward = lab("worlds", "show", "playground", "--task", "stack(cube_green, cube_blue)", "--role", "reward").stdout
    assert "def state(self)" in reward and "_stack_success" not in reward


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["worlds", "show", "hoper"], "unknown world: 'hoper'"),
        (["worlds", "show", "playground", "--task", "place(cube_pink)"], "cube_pink"),
        (["worlds", "show", "playground", "--task", "place("], "cannot read task"),
        (["worlds", "check"], "name one world or pass --all"),
        (["worlds", "show", "ant", "--role", "critic"], "unknown role"),
    ],
)
def test_user_mistakes_are_one_clear_line_and_exit_2(args, message, lab):
    result = lab(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_check_reports_every_check_on_a_healthy_world(lab):
    result = lab("worlds", "check", "reacher")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check_env" in result.stdout and "same seed" in result.stdout


def test_demo_runs_reference_solutions_and_writes_a_video(tmp_path, lab):
    video = tmp_path / "demo.mp4"
    result = lab("worlds", "demo", "playground", "--task", "press_button", "--video", str(video))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "press_button" in result.stdout and "yes" in result.stdout
    assert video.stat().st_size > 10_000


def test_train_eval_report_from_the_command_line(tmp_path, lab):
    out = tmp_path / "run"
    result = lab("train", "reacher", "reach", "--steps", "600", "--eval-episodes", "2", "--out", str(out),
                 "--set", "ppo.n_steps=32", "--video")
    assert result.returncode == 0, result.stderr
    assert "evaluation over 2 seeds" in result.stdout
    assert (out / "policy.npz").is_file() and (out / "video.mp4").stat().st_size > 0
    result = lab("eval", str(out), "--seeds", "3,4", "--video", str(tmp_path / "again.gif"))
    assert result.returncode == 0, result.stderr
    assert "10000" not in result.stdout and (tmp_path / "again.gif").stat().st_size > 0
    result = lab("report", str(out))
    assert result.returncode == 0, result.stderr
    report = (out / "report.html").read_text()
    assert report.count("<svg") >= 6 and "compute_reward" in report and "fitness_mean" in report


@pytest.mark.parametrize("args,message", [
    (["train", "reacher", "reach", "--reward", "missing.py"], "no reward program at missing.py"),
    (["train", "reacher", "reach", "--reward", "dense"], "no reward program at dense"),
    (["train", "ant", "turn", "--reward", "human"], "there is no human reward for ant/turn"),
    (["train", "raecher", "reach"], "unknown world: 'raecher'"),
    (["train", "reacher", "reach", "--set", "ppo.n_stepz=3"], "invalid training settings: ppo.n_stepz"),
    (["train", "reacher", "reach", "--algo", "dqn"], "invalid training settings: algo"),
    (["eval", "."], "is not a run directory"),
    (["report", "."], "is not a run directory"),
])
def test_training_commands_explain_bad_input(args, message, tmp_path, lab):
    result = lab(*args, "--out", str(tmp_path / "x")) if args[0] == "train" else lab(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr


def test_a_reward_program_that_breaks_the_rules_is_reported_line_by_line(tmp_path, lab):
    program = tmp_path / "evil.py"
    program.write_text("import os\n\ndef compute_reward(state, action):\n    return open('x').read(), {}\n")
    result = lab("train", "reacher", "reach", "--reward", str(program), "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert "line 1: import: `import os` is not allowed" in result.stderr
    assert "line 4: forbidden name: `open`" in result.stderr


@pytest.mark.parametrize(("command", "model", "arguments"), [
    ("reward", "lab.search.config:SearchConfig", ("world", "task")),
    ("train", "lab.training.config:TrainConfig", ("world", "task")),
    ("curriculum", "lab.curriculum.config:CurriculumConfig", ("world",)),
])
def test_every_setting_is_an_option_with_the_models_help_and_default(lab, command: str, model: str,
                                                                      arguments: tuple[str, ...]) -> None:
    import importlib

    from lab.cli_options import scalar_fields

    module, name = model.split(":")
    settings = getattr(importlib.import_module(module), name)
    shown = lab(command, "--help")
    assert shown.returncode == 0, shown.stderr
    for field in scalar_fields(settings, arguments):
        assert f"--{field.replace('_', '-')}" in shown.stdout, field
    first = next(f for f in scalar_fields(settings, arguments) if settings.model_fields[f].description)
    assert settings.model_fields[first].description.split()[0] in shown.stdout


def test_a_resumed_session_keeps_its_settings(tmp_path, lab) -> None:
    run = tmp_path / "session"
    run.mkdir()
    (run / "config.json").write_text('{"command": "curriculum", "curriculum": {"world": "playground"}}')
    done = lab("curriculum", "--resume", str(run), "--verify-seeds", "3")
    assert done.returncode == 2 and "verify_seeds cannot change" in done.stderr, done.stderr


def test_prompts_shows_what_each_role_is_told(lab) -> None:
    listed = lab("prompts", "list")
    assert listed.returncode == 0 and "reward_initial" in listed.stdout and "skill_rejected" in listed.stdout
    reward = lab("prompts", "show", "reward_designer", "--world", "halfcheetah", "--task", "forward")
    assert reward.returncode == 0, reward.stderr
    assert "300,000 env steps" in reward.stdout and "params['speed'] = 1.0" in reward.stdout
    skill = lab("prompts", "show", "skill_writer", "--world", "playground", "--task", "reach(cube_red)")
    assert "def reach(robot, obj)" in skill.stdout and "3,000 robot steps" in skill.stdout
    assert "state[" not in skill.stdout
    refused = lab("prompts", "show", "nonsense")
    assert refused.returncode == 2 and "roles: reward_designer" in refused.stderr
