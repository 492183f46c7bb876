"""A curriculum session stores a written skill through the library's gate: the active version of its name is verified
on the same seeds and bindings, a worse rewrite is kept as a candidate (and the journal says so), and the session
ends with an audit of what it changed in the library and how to undo each change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from lab.cli import app
from lab.curriculum.audit import session_audit
from lab.curriculum.session import CurriculumConfig, Session
from lab.curriculum.writer import verification_tasks
from lab.llm.config import LLMSettings
from lab.runs import Run
from lab.skills import Skill, SkillLibrary
from lab.worlds import get_world

WORLD = get_world("playground")
TASK = WORLD.task("reach(cube_red)")
REACH = '''def reach(robot, obj):
    """Come down on the object from above."""
    robot.open()
    p = robot.position(obj)
    robot.move_to((p[0], p[1], p[2] + 0.08))
    robot.move_to(robot.position(obj))
'''


def reaching_only(*objects: str, but: bool = False) -> str:
    """A reach that does nothing for every object but `objects` (or, with `but`, for `objects`)."""
    test = "in" if but else "not in"
    return REACH.replace("    robot.open()\n", f"    if obj {test} {objects!r}:\n        return\n    robot.open()\n")


def settings(tmp_path: Path, server: Any) -> dict[str, Any]:
    llm = LLMSettings(model="offline", roles={"skill_writer": "openai/writer"}, api_base=server.url, cache=False)
    return {"world": "playground", "budget": 1, "library": str(tmp_path / "lib"), "verify_seeds": 4,
            "threshold": 0.5, "tasks": [TASK.id], "llm": llm.model_dump(mode="json")}


def test_a_worse_rewrite_is_kept_as_a_candidate_and_a_better_one_made_active(tmp_path: Path, embedder,
                                                                             model_server, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    rotation = [t.param_map["obj"] for t in verification_tasks(WORLD, TASK, 0)[:4]]
    assert rotation[0] == "cube_red" and len(set(rotation)) == 4, "seed i is played on binding i"
    # the active version reaches every object but the red cube: it fails the proposed task, so the session writes
    # a new version, and succeeds on 3 of the 4 seeds the writer verifies on (one per binding)
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        library.add(Skill(name="reach", description="reach an object", kind="code", world="playground",
                          task=TASK.id, params={"obj": None}, source=reaching_only("cube_red", but=True)))
    model_server.answer = lambda request, index: f"```python\n{reaching_only(*rotation[:2])}```"

    with SkillLibrary(tmp_path / "lib", embedder) as library:
        run = Run.create("curriculum", "test", out=tmp_path / "worse")
        summary = Session(CurriculumConfig.model_validate(settings(tmp_path, model_server)), library).run(run)
        attempt = next(e for e in run.events() if e["event"] == "attempted")
        assert attempt["success"] and attempt["skill"] == "reach@2" and attempt["kept_active"] == "reach@1"
        assert attempt["compared"] == ("reach@2 verified 2/4 on seeds 0-3 (task reach(obj=cube_red) and 3 other "
                                       "binding(s)), active reach@1 verified 3/4 on the same seeds")
        assert summary.skills_learned == ["reach@2"]
        assert library.get("reach").version == 1 and library.get("reach", 2).status == "candidate"
        verification = library.get("reach", 2).verification
        assert verification is not None and verification.tasks == [f"reach(obj={o})" for o in rotation]
        [change] = session_audit(library, run.path)
        assert change.ref == "reach@2" and change.change == "kept as a candidate"
        assert change.command == "lab skills approve reach@2" and "active reach@1 verified 3/4" in change.evidence

    from lab.report.html import write_report

    report = write_report(run.path).read_text()
    assert "Library changes" in report and "lab skills approve reach@2" in report

    # a rewrite that reaches every object succeeds on all 4: the `lab curriculum` command makes it active and its
    # audit says how to go back
    model_server.answer = lambda request, index: f"```python\n{REACH}```"
    curriculum = tmp_path / "better.yaml"
    curriculum.write_text(yaml.safe_dump({k: v for k, v in settings(tmp_path, model_server).items() if k != "llm"}
                                         | {"llm": {"roles": {"skill_writer": "openai/writer"},
                                                    "api_base": model_server.url, "cache": False}}))
    shown = CliRunner().invoke(app, ["curriculum", str(curriculum), "--out", str(tmp_path / "better")],
                               env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert f"library changes in {tmp_path / 'lib'}:\n" in shown.output
    assert ("  reach@3 made active, replacing reach@1; undo (pins it: pin a newer one later to move on): "
            "`lab skills pin reach@1`\n") in shown.output
    assert "    reach@3 verified 4/4 on seeds 0-3" in shown.output
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        assert library.get("reach").version == 3
