"""Task specs, parameters and episode scoring: what a user types and what a task reports."""

import numpy as np
import pytest

from lab.errors import LabError, UnknownNameError
from lab.worlds import get_world, parse_task_spec


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("reach", ("reach", [], {})),
        ("place(cube_red, zone_blue)", ("place", ["cube_red", "zone_blue"], {})),
        ("place(obj=cube_red, zone = zone_blue)", ("place", [], {"obj": "cube_red", "zone": "zone_blue"})),
        (" lift(cube_red, height=0.1) ", ("lift", ["cube_red"], {"height": "0.1"})),
    ],
)
def test_parse_task_spec(spec, expected):
    assert parse_task_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", "place(", "9lives", "place(a=1, b)", "place(a=1, a=2)", "place(,)"])
def test_malformed_specs_are_refused_with_a_hint(spec):
    with pytest.raises(LabError):
        parse_task_spec(spec)


def test_task_id_round_trips_and_fills_defaults():
    world = get_world("playground")
    task = world.task("place(cube_green, zone_red)")
    assert task.id == "place(obj=cube_green, zone=zone_red)"
    assert world.task(task.id) == task
    assert world.task("lift").param_map == {"obj": "cube_red", "height": 0.08}
    assert "cube_green" in task.description and "zone_red" in task.description


def test_bad_parameters_name_what_exists():
    world = get_world("playground")
    with pytest.raises(UnknownNameError) as unknown_value:
        world.task("place(cube_purple, zone_red)")
    assert "cube_red" in str(unknown_value.value) and "cube_purple" in str(unknown_value.value)
    with pytest.raises(UnknownNameError) as unknown_param:
        world.task("lift(colour=red)")
    assert "height" in str(unknown_param.value)
    with pytest.raises(LabError, match="outside"):
        world.task("lift(cube_red, height=5)")
    with pytest.raises(LabError, match="number"):
        world.task("lift(cube_red, height=high)")
    with pytest.raises(LabError, match="itself"):
        world.task("stack(cube_red, cube_red)")
    with pytest.raises(LabError, match="takes 2"):
        world.task("place(cube_red, zone_red, ball)")
    with pytest.raises(UnknownNameError, match="Did you mean 'stack'"):
        world.task("stak")


def test_episode_scores_follow_the_family_rules():
    world = get_world("playground")
    press = world.task("press_button")  # success at any step, fitness = max
    place = world.task("place")  # success at the final step, fitness = final
    per_step_success = np.array([[False, False], [True, False], [False, False]])
    per_step_fitness = np.array([[0.0, 1.0], [3.0, 0.5], [1.0, 0.2]])
    assert press.episode_success(per_step_success).tolist() == [True, False]
    assert place.episode_success(per_step_success).tolist() == [False, False]
    assert press.episode_fitness(per_step_fitness).tolist() == [3.0, 1.0]
    assert place.episode_fitness(per_step_fitness).tolist() == [1.0, 0.2]
    forward = get_world("halfcheetah").task("forward")
    assert forward.episode_fitness(per_step_fitness).tolist() == pytest.approx([4 / 3, 1.7 / 3])


def test_a_composite_is_judged_part_by_part_in_order():
    world = get_world("playground")
    task = world.task("open_drawer & place(cube_red, zone_blue)")
    drawer_then_place = [[False, False], [True, False], [True, True]]
    place_then_drawer = [[False, False], [False, True], [True, True]]
    together = [[False, False], [True, True]]
    undone_at_the_end = [[True, False], [True, True], [False, True]]
    cases = (drawer_then_place, place_then_drawer, together, undone_at_the_end)
    expected = [True, False, True, False]
    assert [bool(task.episode_success(np.array(case))) for case in cases] == expected
    running = []
    for case in cases:
        held, broken = np.zeros((1, 2), dtype=bool), np.zeros(1, dtype=bool)
        for step in np.array(case):
            broken |= task.breaks_order(held, step[None])
            held |= step[None]
        running.append(bool(np.array(case)[-1].all() and not broken[0]))
    assert running == expected
    assert "then" in task.description


def test_world_version_is_stable_and_names_the_world():
    world = get_world("playground")
    assert world.version.startswith("playground-v1+")
    assert world.version == get_world("playground").version
