"""Curriculum sessions: skills learned from an empty library, a session resumes, the library and the journal agree,
and `solve` composes stored skills without storing anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab.curriculum.proposer import LearningProgressCurriculum, Progress
from lab.curriculum.session import CurriculumConfig, Session, solve
from lab.runs import Run
from lab.skills import Skill, SkillLibrary
from lab.worlds import get_world

WORLD = get_world("playground")


def session(tmp_path: Path, library: SkillLibrary, **settings: Any) -> tuple[CurriculumConfig, Run]:
    values = {"world": "playground", "budget": 3, "library": str(library.folder), "verify_seeds": 5,
              "episode_budget": 300, **settings}
    config = CurriculumConfig.model_validate(values)
    run = Run.create("curriculum", "test", out=tmp_path / "run")
    return config, run


def test_the_curriculum_starts_where_there_are_no_prerequisites_and_backs_off_failures(embedder) -> None:
    curriculum = LearningProgressCurriculum(WORLD, embedder)
    progress = Progress()
    first = curriculum.propose(progress, 0)
    assert first is not None and not first.family.prerequisites
    progress.record(first.id, 0, False)
    waiting = curriculum.propose(progress, 1)
    assert waiting is not None and not waiting.family.prerequisites
    assert progress.family_waiting[first.family.name] == 2
    progress.record(first.id, 2, True, "x@1")
    later = [curriculum.propose(progress, i) for i in range(3, 5)]
    assert all(t is not None and t.id != first.id for t in later)
    everything = Progress(mastered={t.id: "x@1" for t in curriculum.pool})
    assert curriculum.propose(everything, 5) is None


def test_a_session_learns_skills_from_an_empty_library_and_resumes(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        config, run = session(tmp_path, library)
        seen: list[str] = []
        summary = Session(config, library, progress=lambda record: seen.append(record.event)).run(run)
        assert summary.iterations == 3 and len(summary.skills_learned) >= 2
        stored = library.skills()
        assert {s.ref for s in stored} >= set(summary.skills_learned)
        assert all(s.provenance["run"] == str(run.path) and s.verification.passed for s in stored)
        config.budget = 5
        resumed = Session(config, library).take_up(Run.open(run.path))
        assert resumed.iterations == 3
        resumed.run(resumed.run_dir)
        iterations = [e["iteration"] for e in run.events() if e["event"] == "attempted"]
        assert iterations == [0, 1, 2, 3, 4]
        from lab.report.html import write_report

        report = write_report(run.path).read_text()
        assert "Milestones" in report and "Failures by reason" in report and "<svg" in report
        assert f"curriculum: playground ({run.path.name})" in report and "count" in report


def test_a_skill_stored_just_before_a_kill_is_counted_on_resume(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        config, run = session(tmp_path, library)
        task = WORLD.task("reach(cube_red)")
        source = ("def reach(robot, obj):\n    \"\"\"Move to it.\"\"\"\n"
                  "    robot.move_to(robot.position(obj))\n")
        library.add(Skill(name="reach", description="move to it", kind="code", world="playground", task=task.id,
                          params={"obj": None}, source=source, provenance={"run": str(run.path)}))
        resumed = Session(config, library).take_up(run)
        assert task.id in resumed.progress.mastered and resumed.iterations == 1
        assert [e["task"] for e in run.events() if e["event"] == "attempted"] == [task.id]
        assert resumed.result().skills_learned == ["reach@1"]


@pytest.mark.slow
def test_solve_composes_stored_skills_and_stores_nothing(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        config, run = session(tmp_path, library, budget=2)
        config.episode_budget = 600
        Session(config, library).run(run)
        before = len(library)
        task, similarity, written = solve("playground", "pick up the red cube and lift it off the table", library)
        assert task.family.name == "lift" and similarity > 0.5
        assert written.found and written.verification.passed and len(library) == before


@pytest.mark.slow
def test_solve_reaches_a_composite_goal_that_no_single_stored_skill_reaches(tmp_path: Path, embedder) -> None:
    from lab.skills.runtime import ProgramPlayer, analyse

    seeds = Path("skills/seed")
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        for name, spec in (("pick", "lift(cube_red)"), ("place", "place(cube_red, zone_blue)"),
                           ("open_drawer", "open_drawer")):
            source = (seeds / f"{name}.py").read_text()
            signature = analyse(name, source)
            library.add(Skill(name=name, description=signature.docstring, kind="code", world="playground",
                              task=WORLD.task(spec).id, params=signature.params, source=source))
        before = len(library)
        task, _, solved = solve("playground", "open the drawer, then put the green cube in the red zone", library)
        assert task.id == "open_drawer(amount=0.12) & place(obj=cube_green, zone=zone_red)"
        assert solved.found and solved.verification.passed and set(solved.calls) == {"open_drawer", "place"}
        assert len(library) == before
        assert list(solved.calls).index("open_drawer") < list(solved.calls).index("place")
        alone = ["def alone(robot):\n    open_drawer(robot)\n",
                 "def alone(robot):\n    place(robot, obj='cube_green', zone='zone_red')\n"]
        reversed_order = ("def alone(robot):\n    place(robot, obj='cube_green', zone='zone_red')\n"
                          "    open_drawer(robot)\n")
        with ProgramPlayer(WORLD, task, library) as player:
            for source in alone:
                assert not any(player.play("alone", source, seed).success for seed in range(3))
            assert not any(player.play("alone", reversed_order, seed).success for seed in range(2))


BROKEN_SKILL = "```python\ndef reach(robot, obj):\n    robot.fly_to(obj)\n```"
GOOD_SKILL = '''```python
import numpy as np

def reach(robot, obj):
    """Come down on the object from above."""
    robot.move_to(robot.position(obj) + np.array([0.0, 0.0, 0.08]))
    robot.move_to(robot.position(obj))
```'''


def test_a_model_writes_skills_through_the_session_with_feedback(tmp_path: Path, embedder, model_server,
                                                                  monkeypatch) -> None:
    from lab.llm.config import LLMSettings

    def answer(request: dict[str, Any], index: int) -> str:
        fed_back = any("was run in simulation" in m["content"] for m in request["messages"])
        return GOOD_SKILL if fed_back else BROKEN_SKILL

    model_server.answer = answer
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    llm = LLMSettings(model="offline", roles={"skill_writer": "openai/writer"}, api_base=model_server.url,
                      cache=False)
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        config, run = session(tmp_path, library, budget=1, llm=llm.model_dump())
        summary = Session(config, library).run(run)
        assert summary.skills_learned == ["reach@1"]
        feedback = model_server.requests[1]["messages"][-1]["content"]
        assert "the robot has no method 'fly_to'; its methods are:" in feedback and "move_to" in feedback
        assert "seeds 0, 1, 2, 3, 4: " in feedback and feedback.count("fly_to") <= 2, "one line for every seed"
        assert "robot.move_to(point" in model_server.requests[0]["messages"][1]["content"]
        assert library.get("reach").verification.passed


@pytest.mark.slow
def test_in_a_world_without_a_robot_api_the_session_learns_a_policy_skill_by_reward_search(
        tmp_path: Path, embedder) -> None:
    policy = {"samples": 2, "iterations": 1, "steps": 1024, "eval_seeds": 2, "select_episodes": 2,
              "max_parallel": 2, "short_fraction": 1.0,
              "train": {"n_envs": 2, "ppo": {"n_steps": 64}, "curve_points": 10}}
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        config, run = session(tmp_path, library, world="halfcheetah", budget=1, tasks=["stand_still(radius=10.0)"],
                              verify_seeds=3, policy=policy)
        summary = Session(config, library).run(run)
        assert summary.skills_learned == ["stand_still@1"], summary
        skill = library.get("stand_still")
        assert skill.kind == "policy" and skill.verification.passed and skill.provenance["run"] == str(run.path)
        assert (run.path / "policies" / "0-stand_still" / "summary.json").is_file()
        attempt = next(e for e in run.events() if e["event"] == "attempted")
        assert attempt["how"] == "written by reward search (a trained policy)"
        resumed = Session(config, library).take_up(Run.open(run.path))
        assert resumed.progress.mastered == {"stand_still(radius=10)": "stand_still@1"}


@pytest.mark.parametrize("path", sorted(Path("curricula").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_curriculum_is_valid_and_names_real_tasks(path: Path) -> None:
    from lab.settings import read_yaml_mapping

    config = CurriculumConfig.model_validate(read_yaml_mapping(path))
    world = get_world(config.world)
    assert all(world.task(spec).world == world.name for spec in config.tasks)
    assert config.budget >= 1 and str(config.library).startswith("skills/sessions/")


def test_the_cli_says_what_is_wrong_with_a_curriculum_or_a_goal(tmp_path: Path, lab) -> None:
    (tmp_path / "broken.yaml").write_text("world: playground\nbudget: [\n")
    (tmp_path / "mars.yaml").write_text("world: mars\n")
    (tmp_path / "typo.yaml").write_text("world: playground\nbugdet: 3\n")
    broken, mars, typo = (lab("curriculum", str(tmp_path / f"{n}.yaml")) for n in ("broken", "mars", "typo"))
    assert broken.returncode == 2 and "broken.yaml" in broken.stderr
    assert mars.returncode == 2 and "mars" in mars.stderr and "playground" in mars.stderr
    assert typo.returncode == 2 and "bugdet" in typo.stderr
    missing = lab("solve", "playground", "stack the cubes", "--library", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "nowhere" in missing.stderr
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.slow
def test_kill_9_mid_session_then_resume_loses_at_most_the_attempt_in_flight(tmp_path: Path, kill_9, lab) -> None:
    (tmp_path / "c.yaml").write_text("world: playground\nbudget: 3\nverify_seeds: 4\nepisode_budget: 300\n"
                                     f"library: {tmp_path / 'lib'}\n")
    out = tmp_path / "killed"
    kill_9(["curriculum", str(tmp_path / "c.yaml"), "--out", str(out)], out, "attempted", 1)
    resumed = lab("curriculum", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    attempts = [e for e in Run.open(out).events() if e["event"] == "attempted"]
    assert [e["iteration"] for e in attempts] == [0, 1, 2]
    with SkillLibrary(tmp_path / "lib", create=False) as library:
        stored = {s.ref for s in library.skills(include_pending=True) if s.provenance.get("run") == str(out)}
    assert stored == {e["skill"] for e in attempts if e["success"] and e["how"].startswith(("written", "found"))}


def test_a_program_the_library_already_holds_is_not_stored_again(tmp_path: Path, embedder) -> None:
    from lab.curriculum.writer import Written

    with SkillLibrary(tmp_path / "lib", embedder) as library:
        config, run = session(tmp_path, library)
        source = "def reach(robot, obj):\n    \"\"\"Move to it.\"\"\"\n    robot.move_to(robot.position(obj))\n"
        library.add(Skill(name="reach", description="move to it", kind="code", world="playground",
                          task="reach(obj=cube_red)", params={"obj": None}, source=source))
        session_ = Session(config, library).take_up(run)
        again = source.replace("Move to it.", "Go to the object (written again).")
        assert session_._same_program(Written("reach", again, None)).ref == "reach@1"
        other = source.replace("robot.position(obj))", "robot.position(obj) + 0.0)")
        assert session_._same_program(Written("reach", other, None)) is None
