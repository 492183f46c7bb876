"""Code skills run sandboxed, compose through the library, and are stored only when verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.cli_skills import add_seed_skills
from lab.errors import LabError
from lab.sandbox import ProgramError
from lab.skills import SkillLibrary
from lab.skills.runtime import SkillRunner, add_code_skill, verify
from lab.worlds import get_world

WORLD = get_world("playground")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seeded")
    assert add_seed_skills(folder, seeds=3) == ["reach@1", "pick@1", "place@1", "stack@1", "open_drawer@1",
                                                "press_button@1"]
    return folder


def run_once(source: str, name: str = "skill", task: str = "reach(cube_red)", **options) -> object:
    with SkillRunner(WORLD, WORLD.task(task), name, source, **options) as runner:
        return runner.run(0)


def test_seed_skills_verify_and_stack_composes_from_place_and_pick(seeded: Path, embedder) -> None:
    with SkillLibrary(seeded, embedder) as library:
        stack = library.get("stack")
        assert stack.calls == ["place"] and library.get("place").calls == ["pick"]
        assert stack.verified and stack.verification is not None and stack.verification.world_version == \
            WORLD.version
        verification, _ = verify(WORLD, WORLD.task("stack(cube_green, cube_red)"), "stack", stack.source, library,
                                 seeds=[5, 6])
        assert verification.passed


def test_a_composite_goal_no_single_seed_skill_solves(seeded: Path, embedder) -> None:
    source = ("def tower_of_two_and_press(robot):\n    \"\"\"Stack green on red, then press the button.\"\"\"\n"
              "    stack(robot, 'cube_green', 'cube_red')\n    press_button(robot)\n")
    with SkillLibrary(seeded, embedder) as library:
        outcome = add_code_skill(library, WORLD, WORLD.task("stack(cube_green, cube_red)"),
                                 "tower_of_two_and_press", source, seeds=[0, 1])
        assert outcome.stored and outcome.skill is not None
        assert outcome.skill.calls == ["press_button", "stack"]


def test_cycles_are_refused(seeded: Path, embedder) -> None:
    with SkillLibrary(seeded, embedder) as library:
        first = add_code_skill(library, WORLD, WORLD.task("reach(cube_red)"), "go_a",
                               "def go_a(robot):\n    \"\"\"Reach.\"\"\"\n    reach(robot, 'cube_red')\n", seeds=[0])
        assert first.stored
        add_code_skill(library, WORLD, WORLD.task("reach(cube_red)"), "go_b",
                       "def go_b(robot):\n    \"\"\"Reach via a.\"\"\"\n    go_a(robot)\n", seeds=[0])
        with pytest.raises(LabError, match="cycle: go_a -> go_b -> go_a"):
            add_code_skill(library, WORLD, WORLD.task("reach(cube_red)"), "go_a",
                           "def go_a(robot):\n    \"\"\"Loop.\"\"\"\n    go_b(robot)\n", seeds=[0])


def test_a_failing_primitive_reports_its_own_message_and_the_line() -> None:
    result = run_once("def skill(robot):\n    robot.move_to((2.0, 0.0, 0.1))\n")
    assert not result.success  # type: ignore[attr-defined]
    assert result.error.startswith("OutOfReach:") and "line 2" in result.error  # type: ignore[attr-defined]


def test_a_skill_cannot_reach_past_the_robot_api() -> None:
    result = run_once("def skill(robot):\n    robot.env.data.qpos[0] = 1.0\n")
    assert "AttributeError" in result.error and "line 2" in result.error  # type: ignore[attr-defined]
    result = run_once("def skill(robot):\n    robot.max_steps = None\n    while True:\n        robot.wait(5)\n",
                      max_steps=100)
    assert result.error.startswith("StepBudgetExceeded"), "the facade's attribute is not the budget"  # type: ignore[attr-defined]


def test_the_step_budget_and_the_time_limit_stop_runaway_skills() -> None:
    result = run_once("def skill(robot):\n    while True:\n        robot.wait(5)\n", max_steps=200)
    assert result.error.startswith("StepBudgetExceeded") and result.steps <= 215  # type: ignore[attr-defined]
    with pytest.raises(ProgramError, match="took longer than its limit of 2 s"):
        run_once("def skill(robot):\n    while True:\n        pass\n", episode_seconds=2.0)


def test_skills_break_the_same_rules_as_reward_programs() -> None:
    with pytest.raises(ProgramError, match="`import os` is not allowed"):
        run_once("import os\ndef skill(robot):\n    os.system('id')\n")
    with pytest.raises(ProgramError, match="private attribute"):
        run_once("def skill(robot):\n    robot.__dict__\n")


def test_an_unverified_skill_is_not_stored(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        outcome = add_code_skill(library, WORLD, WORLD.task("lift(cube_red)"), "wave",
                                 "def wave(robot):\n    \"\"\"Wave.\"\"\"\n    robot.move_by(0.05, 0.0, 0.0)\n",
                                 seeds=[0, 1])
        assert not outcome.stored and outcome.verification.successes == 0
        assert len(library) == 0


def test_a_long_rendered_episode_comes_back_whole() -> None:
    """Frames come back in the episode's reply: a rendered episode of 300 steps is 150 frames (about 138 MB)."""
    with SkillRunner(WORLD, WORLD.task("reach(cube_red)"), "skill", "def skill(robot):\n    robot.wait(290)\n",
                     render=True, max_steps=400) as runner:
        result = runner.run(0)
    assert result.error == "" and len(result.frames) >= 145
