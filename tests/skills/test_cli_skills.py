"""`lab skills` against a library folder: list, search, show, pin, approve, remove, export and import."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from lab.cli import app
from lab.errors import LabError
from lab.skills import Skill, SkillLibrary, Verification

runner = CliRunner()


def lab(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def seed(folder: Path, embedder) -> None:
    with SkillLibrary(folder, embedder) as library:
        for name, description in (("pick", "grasp an object and lift it"), ("open_drawer", "pull the drawer open")):
            library.add(Skill(name=name, description=description, kind="code", world="playground", task=name,
                              source=f"def {name}(robot):\n    robot.wait(1)\n",
                              verification=Verification("playground-v1+x", name, list(range(10)), 9, 0.8)))
        library.add(Skill(name="pick", description="grasp lower", kind="code", world="playground", task="pick",
                          source="def pick(robot):\n    robot.wait(2)\n"))


def test_list_search_show_pin_rm(tmp_path: Path, embedder) -> None:
    library = tmp_path / "lib"
    seed(library, embedder)
    listed = lab("skills", "list", "--library", str(library))
    assert listed.exit_code == 0, listed.output
    assert "pick@2" in listed.output and "open_drawer@1" in listed.output and "90% of 10" in listed.output
    found = lab("skills", "search", "slide the drawer out", "-k", "1", "--library", str(library))
    assert found.exit_code == 0 and "open_drawer@1" in found.output and "pick" not in found.output
    shown = lab("skills", "show", "pick@1", "--library", str(library))
    assert shown.exit_code == 0 and "robot.wait(1)" in shown.output and "versions: 1, 2*" in shown.output
    assert lab("skills", "pin", "pick@1", "--library", str(library)).exit_code == 0
    assert "versions: 1*, 2  (* active, pinned)" in lab("skills", "show", "pick", "--library", str(library)).output
    assert lab("skills", "rm", "open_drawer", "--library", str(library)).exit_code == 0
    assert "open_drawer" not in lab("skills", "list", "--library", str(library)).output


def test_export_import_and_approval(tmp_path: Path, embedder) -> None:
    seed(tmp_path / "a", embedder)
    assert lab("skills", "export", str(tmp_path / "out"), "--library", str(tmp_path / "a")).exit_code == 0
    assert lab("skills", "init", "--library", str(tmp_path / "b"), "--require-approval").exit_code == 0
    imported = lab("skills", "import", str(tmp_path / "out"), "--library", str(tmp_path / "b"))
    assert imported.exit_code == 0 and "imported 3" in imported.output
    assert "pick" not in lab("skills", "list", "--library", str(tmp_path / "b")).output
    assert "pick@2 (pending)" in lab("skills", "list", "--pending", "--library", str(tmp_path / "b")).output
    assert lab("skills", "approve", "pick@2", "--library", str(tmp_path / "b")).exit_code == 0
    assert "pick@2" in lab("skills", "list", "--library", str(tmp_path / "b")).output


def test_bad_input_is_explained(tmp_path: Path) -> None:
    missing = lab("skills", "list", "--library", str(tmp_path / "nowhere"))
    assert isinstance(missing.exception, LabError) and "no skill library" in missing.exception.message
    bad = lab("skills", "show", "Pick Up", "--library", str(tmp_path))
    assert isinstance(bad.exception, LabError) and "not a valid name" in bad.exception.message
    version = lab("skills", "approve", "pick", "--library", str(tmp_path))
    assert isinstance(version.exception, LabError) and "NAME@VERSION" in version.exception.message


def test_the_default_library_is_made_on_first_use_with_verified_seed_skills(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    listed = lab("skills", "list")
    assert listed.exit_code == 0, listed.output
    assert "first use of the default library" in listed.output
    for name in ("reach@1", "pick@1", "place@1", "stack@1", "open_drawer@1", "press_button@1"):
        assert name in listed.output
    assert (tmp_path / "skills" / "library.db").is_file()
    again = lab("skills", "list")
    assert "first use" not in again.output and "stack@1" in again.output


def test_add_a_training_run_as_a_policy_skill(tmp_path: Path, embedder) -> None:
    from lab.runs import Run
    from lab.training import TrainConfig, train

    run = Run.create("train", "reach", out=tmp_path / "run")
    train(TrainConfig.model_validate({"world": "playground", "task": "reach(cube_red)", "steps": 256, "n_envs": 4,
                                      "eval_episodes": 1, "curve_points": 10, "ppo": {"n_steps": 64}}), run)
    library = tmp_path / "lib"
    mixed = lab("skills", "add", str(run.path), "--world", "playground", "--library", str(library))
    assert mixed.exit_code != 0 and "leave out --world" in str(mixed.exception)
    refused = lab("skills", "add", str(run.path), "--threshold", "0", "--seeds", "2", "--library", str(library))
    assert isinstance(refused.exception, LabError) and "must be above 0" in refused.exception.message
    untrained = lab("skills", "add", str(run.path), "--seeds", "2", "--library", str(library))
    assert isinstance(untrained.exception, LabError) and "not stored" in untrained.exception.message
    from lab.skills.runtime import add_policy_skill

    with SkillLibrary(library, embedder) as opened:  # a 256-step policy verifies only at threshold 0 (API only)
        stored = add_policy_skill(opened, run.path, "reach_cube_red_policy", seeds=[0, 1], threshold=0.0)
    assert stored.skill is not None and stored.skill.ref == "reach_cube_red_policy@1"
    listed = lab("skills", "list", "--kind", "policy", "--library", str(library))
    assert "reach_cube_red_policy@1" in listed.output and "policy" in listed.output
    ran = lab("skills", "run", "reach_cube_red_policy", "--seed", "4", "--library", str(library))
    assert ran.exit_code == 0 and "on reach(obj=cube_red), seed 4" in ran.output
