"""The offline skill writer: compositional search finds skills from primitives, then composes stored skills."""

from __future__ import annotations

from pathlib import Path

from lab.curriculum.writer import CompositionalWriter
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
