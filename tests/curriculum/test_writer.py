"""The offline skill writer: compositional search finds skills from primitives, then composes stored skills."""

from __future__ import annotations

from pathlib import Path

from lab.curriculum.writer import CompositionalWriter, verification_tasks
from lab.skills import Skill, SkillLibrary
from lab.skills.runtime import ProgramPlayer, analyse
from lab.worlds import get_world

WORLD = get_world("playground")


def store(library: SkillLibrary, written, task_spec: str) -> None:  # type: ignore[no-untyped-def]
    task = WORLD.task(task_spec)
    library.add(Skill(name=written.name, description=task.family.description, kind="code", world=WORLD.name,
                      task=task.id, params=analyse(written.name, written.source).params, calls=written.calls,
                      source=written.source, verification=written.verification))


def test_from_an_empty_library_search_writes_reach_and_lift_then_composes_place_from_lift(
        tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        writer = CompositionalWriter(WORLD, library)
        reach = writer.write(WORLD.task("reach(cube_red)"))
        assert reach.found and reach.calls == [] and reach.verification.passed
        assert "def reach(robot, obj):" in reach.source
        store(library, reach, "reach(cube_red)")
        lift = writer.write(WORLD.task("lift(cube_red)"))
        assert lift.found and "robot.close()" in lift.source
        store(library, lift, "lift(cube_red)")
        place = writer.write(WORLD.task("place(cube_red, zone_blue)"))
        assert place.found and place.calls == ["lift"] and "lift(robot, obj=obj)" in place.source
        assert place.verification.success_rate >= 0.8 and place.episodes < 1500
        other = WORLD.task("place(ball, zone_green)")
        with ProgramPlayer(WORLD, other, library) as player:
            assert sum(player.play("place", place.source, seed).success for seed in range(5)) >= 3


def test_one_player_process_survives_bad_programs(tmp_path: Path) -> None:
    task = WORLD.task("reach(cube_red)")
    with ProgramPlayer(WORLD, task, episode_seconds=2.0) as player:
        refused = player.play("reach", "import os\n\ndef reach(robot, obj):\n    os.getpid()\n", 0)
        assert "`import os` is not allowed" in refused.error
        stuck = player.play("reach", "def reach(robot, obj):\n    while True:\n        pass\n", 0)
        assert "longer than its limit" in stuck.error
        raised = player.play("reach", "def reach(robot, obj):\n    robot.move_to((9.0, 0.0, 0.1))\n", 0)
        assert "OutOfReach" in raised.error and "line 2" in raised.error
        fine = player.play("reach", "def reach(robot, obj):\n    robot.move_to(robot.position(obj))\n", 1)
        assert fine.error == "" and fine.steps > 0 and player.episodes == 3


def test_a_skill_is_verified_across_its_parameters_so_one_that_ignores_them_is_refused() -> None:
    writer = CompositionalWriter(WORLD, None, verify_seeds=6)
    task = WORLD.task("reach(cube_red)")
    bindings = verification_tasks(WORLD, task, writer.search_seed)
    assert bindings[0] == task and {t.id for t in bindings} == {f"reach(obj={o})" for o in
                                                                 ("cube_red", "cube_green", "cube_blue", "ball")}
    general = "def reach(robot, obj):\n    robot.move_to(robot.position(obj))\n"
    fixed = 'def reach(robot, obj):\n    robot.move_to(robot.position("cube_red"))\n'
    with ProgramPlayer(WORLD, task) as player:
        assert player.play("reach", fixed, 1).success
        assert writer._verify(player, task, "reach", general)[0].passed
        assert not writer._verify(player, task, "reach", fixed)[0].passed
    stacked = verification_tasks(WORLD, WORLD.task("stack(cube_red, cube_blue)"), writer.search_seed)
    assert all(t.param_map["a"] != t.param_map["b"] for t in stacked) and len(stacked) == 6


def test_search_grasps_before_the_task_fitness_moves_and_writes_no_detours() -> None:
    writer = CompositionalWriter(WORLD, None)
    push = writer.write(WORLD.task("push(cube_green, zone_red)"))
    assert push.found and push.verification.passed
    statements = [line for line in push.source.split('"""')[-1].splitlines() if line.strip()]
    assert "robot.close()" in push.source and len(statements) <= 5
    press = writer.write(WORLD.task("press_button"))
    assert press.found and "except NothingToGrasp:" in press.source
