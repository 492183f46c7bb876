"""The library's gate: a new version of a skill becomes active only when it verifies at least as well as the active
one on the same seeds and task; a worse one is kept as a candidate, which a person can still make active."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lab.cli import app
from lab.errors import LabError
from lab.skills import Skill, SkillLibrary, Verification
from lab.skills.model import Comparison
from lab.skills.runtime import add_code_skill
from lab.worlds import get_world

WORLD = get_world("playground")
TASK = WORLD.task("reach(cube_red)")
SEEDS = [0, 1, 2, 3]
REACH = '''def reach(robot, obj):
    """Come down on the object from above."""
    robot.open()
    p = robot.position(obj)
    robot.move_to((p[0], p[1], p[2] + 0.08))
    robot.move_to(robot.position(obj))
'''
ONE_SIDE = REACH.replace('    robot.move_to((p[0]', '    if p[1] > -0.25:\n        return\n    robot.move_to((p[0]')
"""Reaches only an object lying far to one side: on seeds 0-3, seeds 0 and 1 (two of four)."""


def add(library: SkillLibrary, source: str, seeds: list[int] = SEEDS):  # type: ignore[no-untyped-def]
    return add_code_skill(library, WORLD, TASK, "reach", source, seeds=seeds, threshold=0.5)


def test_a_worse_rewrite_is_kept_as_a_candidate_until_a_person_approves_it(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        first = add(library, REACH)
        assert first.skill is not None and first.skill.status == "approved" and first.kept_active is None
        worse = add(library, ONE_SIDE)
        assert worse.verification.successes == 2 and worse.verification.passed, "it passes its own threshold"
        assert worse.skill is not None and worse.skill.status == "candidate"
        assert worse.kept_active is not None and worse.kept_active.ref == "reach@1"
        assert worse.reason.startswith("reach@2 verified 2/4 on seeds 0-3 (task reach(obj=cube_red)), active "
                                       "reach@1 verified 4/4 on the same seeds: reach@2 is kept as a candidate")
        assert worse.skill.compared is not None and worse.skill.compared.reused, "the same trial is not replayed"
        assert library.get("reach").version == 1 and [s.ref for s in library.skills()] == ["reach@1"]
        assert [s.ref for s in library.skills(include_pending=True)] == ["reach@1", "reach@2"]
        assert library.get("reach", 2).why_waiting().startswith("kept as a candidate: reach@2 verified 2/4")

        runner = CliRunner()
        listed = runner.invoke(app, ["skills", "list", "--library", str(tmp_path)], env={"COLUMNS": "200"})
        assert listed.exit_code == 0 and "reach@2" not in listed.output and "1 version(s) wait" in listed.output
        waiting = runner.invoke(app, ["skills", "list", "--pending", "--library", str(tmp_path)],
                                env={"COLUMNS": "250"})
        assert "reach@2 (candidate)" in waiting.output
        assert "active reach@1 verified 4/4 on the same seeds; `lab skills approve reach@2`" in waiting.output
        shown = runner.invoke(app, ["skills", "show", "reach", "--library", str(tmp_path)], env={"COLUMNS": "250"})
        assert "versions: 1*, 2 (candidate)" in shown.output and "waiting: reach@2 kept as a candidate" in shown.output

        approved = runner.invoke(app, ["skills", "approve", "reach@2", "--library", str(tmp_path)])
        assert approved.exit_code == 0 and "approved reach@2 (active)" in approved.output
        assert library.get("reach").version == 2 and library.get("reach", 2).status == "approved"


def test_a_rewrite_at_least_as_good_becomes_active_and_a_pin_holds_either_way(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        add(library, ONE_SIDE)
        better = add(library, REACH, seeds=[2, 3, 4, 5])
        assert better.skill is not None and better.skill.ref == "reach@2" and library.get("reach").version == 2
        compared = better.skill.compared
        assert compared is not None and not compared.reused, "other seeds: the active version is played again"
        assert compared.active == "reach@1" and compared.active_successes < compared.successes == 4
        assert better.kept_active is None and better.reason.endswith("reach@2 is active")
        library.pin("reach", 1)
        kept = add(library, REACH)
        assert kept.skill is not None and kept.skill.status == "approved" and library.get("reach").version == 1
        assert kept.reason.endswith("reach@1 is pinned and stays active")
        library.pin("reach", 2)
        worse = add(library, ONE_SIDE)
        assert worse.skill is not None and worse.skill.status == "candidate"
        assert worse.kept_active is not None and worse.kept_active.ref == "reach@2"
        assert library.active_version("reach") == (2, True)


def test_a_library_that_requires_approval_keeps_a_new_version_pending_with_its_comparison(tmp_path: Path,
                                                                                          embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        add(library, REACH)
    with SkillLibrary(tmp_path, embedder, require_approval=True) as library:
        pending = add(library, ONE_SIDE)
        assert pending.skill is not None and pending.skill.status == "pending" and pending.kept_active is None
        assert pending.reason.endswith("reach@2 waits for approval")
        assert library.get("reach", 2).why_waiting().startswith("waiting for approval: reach@2 verified 2/4")


def stored(name: str, successes: int) -> Skill:
    return Skill(name=name, description="reach it", kind="code", world="playground", task=TASK.id,
                 params={"obj": None}, source=REACH.replace("def reach", f"def {name}"),
                 verification=Verification(WORLD.version, TASK.id, SEEDS, successes, 0.5, tasks=[TASK.id]))


def test_a_candidate_can_be_pinned_and_removing_it_leaves_the_active_version_and_its_pin(tmp_path: Path,
                                                                                        embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        library.add(stored("reach", 4))
        candidate = library.add(stored("reach", 1), activate=False)
        assert candidate.status == "candidate" and library.get("reach").version == 1
        pinned = library.pin("reach", 2)
        assert pinned.status == "approved" and library.active_version("reach") == (2, True)
        third = library.add(stored("reach", 3), activate=False)
        assert library.remove("reach", third.version) == ["reach@3"]
        assert library.active_version("reach") == (2, True), "removing a candidate leaves the pin"
        library.remove("reach", 1)
        assert library.active_version("reach") == (2, True)
        library.add(stored("go", 1), activate=False)
        library.remove("go", 1)
        library.add(stored("go", 1), activate=False)
        with pytest.raises(LabError, match="only candidate versions"):
            library.get("go")


def test_a_library_written_before_candidates_still_opens_and_its_verifications_are_played_again(
        tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        library.add(stored("reach", 4))
    db = sqlite3.connect(tmp_path / "library.db")
    body = json.loads(db.execute("SELECT body FROM skills").fetchone()[0])
    del body["compared"], body["verification"]["tasks"]
    db.execute("UPDATE skills SET body = ?", (json.dumps(body),))
    db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    db.commit()
    db.close()
    with SkillLibrary(tmp_path, embedder) as library:
        old = library.get("reach")
        assert old.verification is not None and old.verification.tasks is None and old.compared is None
        assert not old.verification.same_trial(old.verification), "an unknown trial is never taken as the same"
        assert library.meta("schema") == "2"
        again = add(library, ONE_SIDE)
        assert again.skill is not None and again.skill.compared == Comparison(
            "reach@1", 4, 2, SEEDS, TASK.id, reused=False)
        assert again.skill.status == "candidate"


def test_an_exported_candidate_is_imported_as_a_candidate(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path / "a", embedder) as library:
        library.add(stored("reach", 4))
        worse = stored("reach", 1)
        worse.compared = Comparison("reach@1", 4, 1, SEEDS, TASK.id)
        library.add(worse, activate=False)
        library.export(tmp_path / "out")
    with SkillLibrary(tmp_path / "b", embedder) as library:
        assert library.import_from(tmp_path / "out") == ["reach@1", "reach@2"]
        assert library.get("reach").version == 1 and library.get("reach", 2).status == "candidate"
        imported = library.get("reach", 2)
        assert imported.compared is None and imported.provenance["imported_comparison"]["active_successes"] == 4
