"""Reference solutions: scripted programs over the robot API that solve the playground's tasks.

The world checks run them to show that every success check can be met; they are also what a hand-written skill
for each family looks like.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lab.worlds.robot import Blocked, NothingToGrasp

from .constants import CUBE_HALF, CUBES, REST_Z

HOVER = 0.08
"""Height (m) above a target at which the gripper lines up before descending."""
CARRY_Z = 0.14


def shifted(point: np.ndarray, dx: float, dy: float, dz: float) -> np.ndarray:
    """`point` moved by (dx, dy, dz)."""
    return np.asarray(point, dtype=np.float64) + np.array([dx, dy, dz])


def reach(robot: Any, obj: str) -> None:
    """Come down on `obj` from above with the fingers open, so they straddle it instead of knocking it away."""
    robot.open()
    robot.move_to(shifted(robot.position(obj), 0.0, 0.0, HOVER))
    robot.move_to(robot.position(obj))


def pick(robot: Any, obj: str) -> None:
    """Grasp `obj` from above and raise it to carrying height."""
    robot.open()
    target = robot.position(obj)
    robot.move_to(shifted(target, 0.0, 0.0, HOVER))
    robot.move_to(robot.position(obj))
    held = robot.close()
    if held != obj:
        raise RuntimeError(f"meant to grasp {obj} but hold {held}")
    robot.move_by(0.0, 0.0, CARRY_Z - robot.position("gripper")[2])


def lift(robot: Any, obj: str, height: float) -> None:
    pick(robot, obj)
    robot.move_to(shifted(robot.position("gripper"), 0.0, 0.0, REST_Z[obj] + height + 0.01 - robot.position(obj)[2]))
    robot.wait(5)


def release_at(robot: Any, point: np.ndarray) -> None:
    """Lower what is held until its centre is at `point`, let go, and back off upwards."""
    robot.move_to((point[0], point[1], CARRY_Z))
    robot.move_to(shifted(point, 0.0, 0.0, 0.004))
    robot.open()
    robot.move_by(0.0, 0.0, HOVER)


def place(robot: Any, obj: str, zone: str) -> None:
    pick(robot, obj)
    release_at(robot, shifted(robot.position(zone), 0.0, 0.0, REST_Z[obj]))


def push(robot: Any, obj: str, zone: str) -> None:
    """Push `obj` along the table with the closed fingers, in short re-aimed strokes, until it is in the zone."""
    for _ in range(12):
        start, goal = robot.position(obj)[:2], robot.position(zone)[:2]
        direction = goal - start
        distance = float(np.linalg.norm(direction))
        if distance < 0.015:
            return
        direction /= distance
        behind = start - direction * 0.05
        robot.move_to((behind[0], behind[1], 0.09))
        _close_empty(robot)
        robot.move_to((behind[0], behind[1], 0.02))
        stroke = min(distance, 0.08) - (0.005 if distance > 0.08 else 0.0)
        end = behind + direction * stroke
        try:
            robot.move_to((end[0], end[1], 0.02), speed=0.25)
        except Blocked:
            pass
        robot.wait(15)
        robot.move_by(0.0, 0.0, 0.07)


def _close_empty(robot: Any) -> None:
    try:
        robot.close()
    except NothingToGrasp:
        pass


def stack(robot: Any, a: str, b: str) -> None:
    pick(robot, a)
    release_at(robot, shifted(robot.position(b), 0.0, 0.0, 2 * CUBE_HALF))


def tower(robot: Any) -> None:
    bottom, middle, top = CUBES[2], CUBES[1], CUBES[0]
    stack(robot, middle, bottom)
    stack(robot, top, middle)


def open_drawer(robot: Any, amount: float) -> None:
    robot.open()
    handle = robot.position("handle")
    robot.move_to(shifted(handle, 0.0, 0.0, HOVER))
    robot.move_to(handle)
    robot.close()
    robot.move_by(0.0, -(amount + 0.015), 0.0)
    robot.open()
    robot.move_by(0.0, 0.0, HOVER)


def press_button(robot: Any) -> None:
    _close_empty(robot)
    button = robot.position("button")
    robot.move_to(shifted(button, 0.0, 0.0, 0.06))
    try:
        robot.move_to(shifted(button, 0.0, 0.0, 0.002))
    except Blocked:
        pass
    robot.move_by(0.0, 0.0, 0.06)


def put_in_drawer(robot: Any, obj: str) -> None:
    open_drawer(robot, 0.15)
    pick(robot, obj)
    inside = shifted(robot.position("drawer"), 0.0, -0.035, 0.0)
    release_at(robot, shifted(inside, 0.0, 0.0, REST_Z[obj] + 0.01))


def sort(robot: Any) -> None:
    for cube in CUBES:
        place(robot, cube, f"zone_{cube.split('_')[1]}")


SOLUTIONS: dict[str, Callable[..., None]] = {
    "reach": reach, "lift": lift, "push": push, "place": place, "stack": stack, "tower": tower,
    "open_drawer": open_drawer, "press_button": press_button, "put_in_drawer": put_in_drawer, "sort": sort,
}
