"""What the skill writer is told: how its skill is judged (the step budget, the settling, the check's moment, the
task score's meaning, the seeds and the threshold) before anything fails; not the state table or the state code it
cannot read; the signature with the task's parameters. And feedback that says what happened: a rule violation was
not run, one error over many seeds is told once, an episode without success says what its score means."""

from __future__ import annotations

from lab.curriculum.llm_writer import failure_lines, skill_judging
from lab.llm.prompting import render
from lab.skills.model import skill_rules
from lab.skills.runtime import EpisodeResult
from lab.worlds import get_world
from lab.worlds.description import describe

WORLD = get_world("playground")


def test_the_skill_writer_is_told_how_the_skill_is_judged_and_not_what_it_cannot_read() -> None:
    task = WORLD.task("place(cube_red, zone_blue)")
    messages = render("skill_writer", world_description=describe(WORLD, task, "skill"), task_text=task.description,
                      skill_name="place", signature="def place(robot, obj, zone)", skills="(none yet)",
                      how_judged=skill_judging(task, 10, 0.8))
    prompt = "\n".join(m["content"] for m in messages)
    assert "3,000 robot steps" in prompt and "10 more steps without commands" in prompt
    assert "read at the last step" in prompt and task.family.fitness_meaning in prompt
    assert "verified on 10 seeded episodes" in prompt and "at least 80% succeed" in prompt
    assert "the other values of its parameters" in prompt
    assert "def place(robot, obj, zone)" in prompt and "act on the function's parameters" in prompt
    assert "state[" not in prompt and "## How the state is computed" not in prompt
    assert "global dict `params`" not in prompt and "An episode lasts at most" not in prompt
    assert "## Robot API" in prompt


def test_feedback_tells_each_failure_once_with_what_the_score_means() -> None:
    task = WORLD.task("reach(cube_red)")
    missing = "AttributeError: the robot has no method 'goto'; its methods are: move_to, open_gripper"
    results = [EpisodeResult(seed, False, -0.06, 40, missing if seed < 3 else "") for seed in range(5)]
    lines = failure_lines(task, results)
    assert lines[0] == f"seeds 0, 1, 2: {missing}"
    assert lines[1].startswith("seeds 3, 4: finished without success: task score -0.06 (minus the distance (m)")


def test_a_program_that_was_not_run_is_told_so_with_the_signature_asked_for() -> None:
    text = render("skill_rejected", error="line 1: import: os is not allowed",
                  signature="def reach(robot, obj)")[0]["content"]
    assert text.startswith("The program above was not run:") and "def reach(robot, obj)" in text
    assert "run in simulation" not in text
    assert skill_rules("reach").signature() == "def reach(robot, ...)"


def test_the_curriculum_is_told_families_done_and_left_not_bindings_one_by_one() -> None:
    from lab.curriculum.llm_curriculum import LLMCurriculum
    from lab.curriculum.proposer import Progress

    curriculum = LLMCurriculum(None, WORLD, None, None)  # type: ignore[arg-type]
    progress = Progress(mastered={"reach(obj=cube_red)": "reach@1", "reach(obj=ball)": "reach@1"})
    completed, failed = curriculum._history(progress)
    assert completed.startswith("reach (a skill serves every object and value of its family)")
    assert "families left: lift, open_drawer" in completed and "reach" not in completed.split("left:")[1]
    assert "cube_red" not in completed and failed == "none"
