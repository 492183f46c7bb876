"""Bad input is one clear line and exit 2, and nothing is left behind: the cases a newcomer's run and a bad-input
sweep found raising tracebacks."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def assert_one_clear_line(done, message: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output, output
    assert done.stderr.startswith("error: ") and message in done.stderr.splitlines()[0], done.stderr


def curriculum_run(tmp_path: Path) -> Path:
    run = tmp_path / "session"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"command": "curriculum", "curriculum": {"world": "playground"}}))
    return run


def test_eval_of_a_run_that_is_not_a_training_run(tmp_path: Path, lab) -> None:
    done = lab("eval", str(curriculum_run(tmp_path)))
    assert_one_clear_line(done, "is a run of `lab curriculum`, not of `lab train`")


def test_resuming_a_search_from_a_run_that_is_not_a_search(tmp_path: Path, lab) -> None:
    done = lab("reward", "--resume", str(curriculum_run(tmp_path)))
    assert_one_clear_line(done, "is a run of `lab curriculum`, not of `lab reward`")


def test_out_that_is_a_file(tmp_path: Path, lab) -> None:
    target = tmp_path / "a_file"
    target.write_text("mine")
    done = lab("train", "reacher", "reach", "--reward", "human", "--steps", "256", "--out", str(target))
    assert_one_clear_line(done, "is a file, not a directory")
    assert target.read_text() == "mine"


def test_a_set_value_that_is_not_yaml_leaves_no_run(tmp_path: Path, lab) -> None:
    done = lab("train", "reacher", "reach", "--set", "ppo.n_steps=[1", "--out", str(tmp_path / "run"))
    assert_one_clear_line(done, "--set ppo.n_steps=[1: the value is not valid YAML")
    assert not (tmp_path / "run").exists()


def test_a_library_that_is_a_file(tmp_path: Path, lab) -> None:
    target = tmp_path / "library"
    target.write_text("not a folder")
    done = lab("skills", "list", "--library", str(target))
    assert_one_clear_line(done, "is a file; a library is a folder")
    assert not (tmp_path / "config.json").exists()


def test_a_library_that_is_not_a_database(tmp_path: Path, lab) -> None:
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "library.db").write_bytes(b"this is not SQLite" * 100)
    done = lab("skills", "list", "--library", str(tmp_path / "library"))
    assert_one_clear_line(done, "cannot be read")


@pytest.mark.parametrize("damage", ["header", "data page"])
def test_a_library_with_a_damaged_page_is_refused(tmp_path: Path, lab, damage: str) -> None:
    from lab.skills import SkillLibrary

    folder = tmp_path / "library"
    SkillLibrary(folder).close()
    with sqlite3.connect(folder / "library.db") as database:
        database.execute("PRAGMA journal_mode=DELETE")
        database.execute("CREATE TABLE filler (x TEXT)")
        database.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,) for _ in range(400)])
    data = bytearray((folder / "library.db").read_bytes())
    start = 100 if damage == "header" else len(data) // 2
    data[start:start + 512] = b"\xff" * 512
    (folder / "library.db").write_bytes(bytes(data))
    done = lab("skills", "list", "--library", str(folder))
    assert_one_clear_line(done, "cannot be read")


def test_a_threshold_of_zero_would_verify_a_skill_that_never_succeeded(tmp_path: Path, lab) -> None:
    skill = tmp_path / "idle.py"
    skill.write_text("def idle(robot):\n    robot.wait(1)\n")
    done = lab("skills", "add", str(skill), "--world", "playground", "--task", "reach(cube_red)", "--threshold", "0",
               "--library", str(tmp_path / "library"))
    assert_one_clear_line(done, "--threshold 0 must be above 0 and at most 1")
    assert not (tmp_path / "library").exists()


def test_a_yaml_error_names_its_file(tmp_path: Path, lab) -> None:
    curriculum = tmp_path / "broken.yaml"
    curriculum.write_text("world: playground\nbudget: [3\n")
    done = lab("curriculum", str(curriculum), "--out", str(tmp_path / "run"))
    assert_one_clear_line(done, "is not valid YAML")
    assert str(curriculum) in done.stderr and "<unicode string>" not in done.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_solve_without_a_library_makes_the_default_one_first(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "lab.cli", "solve", "playground", "press the button"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "first use of the default library" in done.stdout and "solved with" in done.stdout
    assert (tmp_path / "skills" / "library.db").is_file()


def test_a_search_with_an_unknown_training_setting_fails_before_it_starts(tmp_path: Path, lab) -> None:
    done = lab("reward", "reacher", "reach", "--set", "train.bogus=1", "--out", str(tmp_path / "run"))
    assert_one_clear_line(done, "train: Value error, bogus: Extra inputs are not permitted")
    assert not (tmp_path / "run").exists()
    done = lab("reward", "reacher", "reach", "--set", "train.reward=sparse", "--out", str(tmp_path / "run"))
    assert_one_clear_line(done, "reward are set by the search itself")


def test_a_goal_the_world_cannot_do_is_refused_not_solved(tmp_path: Path, lab) -> None:
    library = tmp_path / "lib"
    assert lab("skills", "init", "--library", str(library)).returncode == 0
    done = lab("solve", "playground", "fly to the moon", "--library", str(library))
    assert_one_clear_line(done, "'fly to the moon' means none of the playground world's tasks")
    assert "press_button" in done.stderr and "solved" not in done.stdout
    done = lab("solve", "playground", "put the purple cube in the blue zone", "--library", str(library))
    assert_one_clear_line(done, "the playground world has nothing purple")


def test_a_task_text_the_world_cannot_do_leaves_no_search(tmp_path: Path, lab) -> None:
    done = lab("reward", "playground", "--task-text", "make me a sandwich", "--out", str(tmp_path / "run"))
    assert_one_clear_line(done, "'make me a sandwich' means none of the playground world's tasks")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("model", "says"), [
    ("nonsense", "litellm knows no provider for the model 'nonsense'"),
    ("file:/proc/no-such-folder", "cannot make the folder /proc/no-such-folder for file: model requests"),
    ("replay:/no/such/cassette.jsonl", "cassette"),
])
def test_a_model_that_cannot_be_called_leaves_no_run(tmp_path: Path, lab, model: str, says: str) -> None:
    done = lab("reward", "reacher", "reach", "--llm", model, "--out", str(tmp_path / "run"))
    assert_one_clear_line(done, says)
    assert not (tmp_path / "run").exists()
    done = lab("curriculum", "playground", "--llm", model, "--out", str(tmp_path / "session"))
    assert_one_clear_line(done, says)
    assert not (tmp_path / "session").exists()


def test_skills_check_repairs_a_skill_without_an_embedding(tmp_path: Path, lab, embedder) -> None:
    from lab.skills import Skill, SkillLibrary

    library = tmp_path / "lib"
    with SkillLibrary(library, embedder) as made:
        made.add(Skill(name="reach", description="move the gripper to an object", kind="code", world="playground",
                       task="reach", source="def reach(robot):\n    pass\n"))
    db = sqlite3.connect(library / "library.db")
    db.execute("DELETE FROM embeddings WHERE skill_id = 1")
    db.commit()
    db.close()
    left = lab("skills", "check", "--library", str(library), "--no-repair")
    assert left.returncode == 1 and "without an embedding" in left.stdout and "reach@1" in left.stdout
    repaired = lab("skills", "check", "--library", str(library))
    assert repaired.returncode == 0 and "embedded again: reach@1" in repaired.stdout and "ok" in repaired.stdout


def test_output_to_a_pipe_is_not_cut_at_80_columns(tmp_path: Path, embedder) -> None:
    import os

    from lab.skills import Skill, SkillLibrary

    description = "Grasp the drawer's handle and pull the drawer open by `amount` metres, then let go of it."
    with SkillLibrary(tmp_path / "lib", embedder) as made:
        made.add(Skill(name="open_drawer", description=description, kind="code", world="playground",
                       task="open_drawer(amount=0.12)", source="def open_drawer(robot):\n    pass\n"))
    environment = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run([sys.executable, "-m", "lab.cli", "skills", "list", "--library", str(tmp_path / "lib")],
                          capture_output=True, text=True, env=environment, timeout=120)
    assert done.returncode == 0, done.stderr
    assert description in done.stdout and "open_drawer(amount=0.12)" in done.stdout
