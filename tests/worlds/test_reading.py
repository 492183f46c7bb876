"""Goals in words read as the world's tasks without a model: the family by meaning and shared words, the
parameters by the values the text names, in order."""

from __future__ import annotations

import pytest

from lab.curriculum.proposer import every_task
from lab.errors import LabError
from lab.worlds import get_world
from lab.worlds.reading import closest_task, mentions, read_goal

WORLD = get_world("playground")
POOL = every_task(WORLD)


@pytest.mark.parametrize(("goal", "task"), [
    ("stack the green cube on top of the red cube", "stack(a=cube_green, b=cube_red)"),
    ("put the blue cube on the red cube", "stack(a=cube_blue, b=cube_red)"),
    ("put the red cube in the blue zone", "place(obj=cube_red, zone=zone_blue)"),
    ("push the ball into the green zone", "push(obj=ball, zone=zone_green)"),
    ("pick up the ball", "lift(obj=ball, height=0.08)"),
    ("put the green cube inside the drawer", "put_in_drawer(obj=cube_green)"),
    ("open the drawer", "open_drawer(amount=0.12)"),
    ("press the button", "press_button"),
])
def test_goals_read_as_the_tasks_they_name(goal: str, task: str, embedder) -> None:
    found, similarity = closest_task(WORLD, goal, embedder, POOL)
    assert found.id == task and 0.5 < similarity <= 1.0


def test_one_word_names_one_value_and_order_counts() -> None:
    both_blue = mentions(WORLD.task("place(cube_blue, zone_blue)"), "lift the blue cube")
    assert both_blue.named == 1
    right = mentions(WORLD.task("stack(cube_green, cube_red)"), "the green cube on the red cube")
    swapped = mentions(WORLD.task("stack(cube_red, cube_green)"), "the green cube on the red cube")
    assert right.in_order and not swapped.in_order and right.score > swapped.score


@pytest.mark.parametrize(("goal", "task"), [
    ("lift the green cube", "lift(obj=cube_green, height=0.08)"),
    ("reach the red cube", "reach(obj=cube_red)"),
    ("sort the cubes", "sort"),
    ("lift the ball 15 cm", "lift(obj=ball, height=0.15)"),
    ("open the drawer 0.1 m", "open_drawer(amount=0.1)"),
])
def test_read_goal_takes_the_family_name_and_a_number(goal: str, task: str, embedder) -> None:
    found, _ = read_goal(WORLD, goal, embedder, POOL)
    assert found.id == task


@pytest.mark.parametrize(("goal", "says"), [
    ("fly to the moon", "means none of the playground world's tasks"),
    ("make me a sandwich", "means none of the playground world's tasks"),
    ("turn on the lights", "means none of the playground world's tasks"),
    ("lift the purple cube", "has nothing purple"),
    ("put the cube in the yellow zone", "has nothing yellow"),
    ("lift the ball 5 m", "outside [0.01, 0.25]"),
    ("press the button 3 times", "takes no number"),
])
def test_read_goal_refuses_what_the_world_cannot_do(goal: str, says: str, embedder) -> None:
    with pytest.raises(LabError) as refused:
        read_goal(WORLD, goal, embedder, POOL)
    assert says in refused.value.message and "\n" not in str(refused.value)
    if "means none" in says:
        assert "press_button" in str(refused.value.hint) and "--llm" in str(refused.value.hint)


def test_read_goal_on_its_own_considers_every_binding(embedder) -> None:
    """What `lab reward --task-text` does without a model: no pool given, the values the goal names still bind."""
    found, _ = read_goal(WORLD, "push the ball into the green zone", embedder)
    assert found.id == "push(obj=ball, zone=zone_green)"
