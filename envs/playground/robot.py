"""The playground's robot API: the primitives skill programs call.

Every call steps the simulation until it is done, and either succeeds or raises a RobotError whose message says
in plain words why not (out of reach, nothing to grasp, blocked), as Voyager's primitives do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from lab.worlds.robot import Blocked, NothingToGrasp, OutOfReach, StepBudgetExceeded, UnknownObject

from .constants import FINGER_MAX, GRASPABLE, GRIP_OFFSET, MAX_DELTA, OBJECTS, WORKSPACE_HIGH, WORKSPACE_LOW, ZONES

if TYPE_CHECKING:
    from .world import PlaygroundEnv

ARRIVED = 0.005
"""How close (m) the grip point must come to a target for a move to count as done."""
SETTLE_STEPS = 25
"""Extra steps a move may take, beyond the straight-line time, before it counts as blocked."""
FINGER_STEPS = 20
PLACES = ("gripper", "handle", "button", "drawer")

ROBOT_API_DOC = f"""\
The robot is a two-finger gripper above a table (table top at z = 0, x to the right, y away from the viewer, z up;
metres). The gripper point is between the fingers, 1.5 cm above the fingertips. Every call below moves the
simulation forward until it is done; a call that cannot do what it was asked raises an error whose message says why.

robot.position(name) -> np.ndarray of shape (3,)
    Where a thing is now. Names: {", ".join(OBJECTS)} (object centres); {", ".join(ZONES)} (zone centres on the
    table, discs of radius 0.05); "handle" (the drawer handle); "drawer" (the middle of the drawer's inner floor);
    "button" (top of the push button); "gripper" (the gripper point).
robot.move_to(point, speed=1.0) -> None
    Move the gripper point to point = (x, y, z) in a straight line at speed x 0.6 m/s (speed in (0, 1]). Reachable: x in
    [{WORKSPACE_LOW[0]}, {WORKSPACE_HIGH[0]}], y in [{WORKSPACE_LOW[1]}, {WORKSPACE_HIGH[1]}], z in
    [{WORKSPACE_LOW[2]}, {WORKSPACE_HIGH[2]}]. Raises OutOfReach outside that box, Blocked when something stops
    the gripper before it arrives (the message names what it touches). A held object moves with the gripper.
robot.move_by(dx, dy, dz, speed=1.0) -> None
    move_to(the gripper point + (dx, dy, dz), speed).
robot.open() -> None
    Open the fingers fully (gap 0.09 m), letting go of anything held.
robot.close() -> str
    Close the fingers and return the name of what they hold ({", ".join(GRASPABLE)}). Raises NothingToGrasp when
    they close on nothing; the fingers stay closed. To grasp, open, put the gripper point at the object's centre,
    then close.
robot.held() -> str | None
    The name of what both fingers touch now, or None.
robot.wait(steps=10) -> None
    Let the simulation run for that many steps (0.02 s each) without moving.
robot.names() -> list[str]
    Every name position() accepts.
"""


class PlaygroundRobot:
    """Primitives over one playground env; `steps` counts the env steps they have used."""

    def __init__(self, env: PlaygroundEnv, max_steps: int | None = None,
                 on_step: Callable[[], None] | None = None) -> None:
        self.env = env
        self.max_steps = max_steps
        self.on_step = on_step
        self.steps = 0
        self._finger = 1.0 if env.data.ctrl[0] > FINGER_MAX / 2 else -1.0

    # ----- reading the world
    def names(self) -> list[str]:
        return [*OBJECTS, *ZONES, *PLACES]

    def position(self, name: str) -> np.ndarray:
        state = self.env.state()
        key = {"gripper": "gripper_pos", "drawer": "drawer_inside_pos"}.get(name, f"{name}_pos")
        if name not in self.names() or key not in state:
            raise UnknownObject(f"there is no {name!r} in the playground; known names: {', '.join(self.names())}")
        return state[key].copy()

    def held(self) -> str | None:
        touching = self.env.touching()
        for index, name in enumerate(GRASPABLE):
            if touching[index].all():
                return name
        return None

    # ----- acting
    def move_to(self, point: Sequence[float] | np.ndarray, speed: float = 1.0) -> None:
        target = self._point(point)
        if not 0.0 < speed <= 1.0:
            raise OutOfReach(f"speed must be in (0, 1], a fraction of the top speed; got {speed!r}")
        if np.any(target < WORKSPACE_LOW) or np.any(target > WORKSPACE_HIGH):
            raise OutOfReach(
                f"the point {_fmt(target)} is out of reach: the gripper point can go to x in "
                f"[{WORKSPACE_LOW[0]}, {WORKSPACE_HIGH[0]}], y in [{WORKSPACE_LOW[1]}, {WORKSPACE_HIGH[1]}], "
                f"z in [{WORKSPACE_LOW[2]}, {WORKSPACE_HIGH[2]}]"
            )
        grip = self._grip()
        budget = math.ceil(np.linalg.norm(target - grip) / (MAX_DELTA * speed)) + SETTLE_STEPS
        for _ in range(budget):
            grip = self._grip()
            if np.linalg.norm(target - grip) <= ARRIVED:
                return
            mocap_grip = self.env.data.mocap_pos[self.env._mocap] + GRIP_OFFSET
            delta = np.clip((target - mocap_grip) / MAX_DELTA, -speed, speed)
            self._step(delta)
        grip = self._grip()
        gap = np.linalg.norm(target - grip)
        if gap <= ARRIVED:
            return
        names = self.env.gripper_contacts()
        what = f"; it is touching {', '.join(names)}" if names else ""
        raise Blocked(f"blocked: the gripper stopped at {_fmt(grip)}, {100 * gap:.1f} cm short of {_fmt(target)}{what}")

    def move_by(self, dx: float, dy: float, dz: float, speed: float = 1.0) -> None:
        self.move_to(self._grip() + self._point((dx, dy, dz)), speed)

    def open(self) -> None:
        self._finger = 1.0
        self._settle_fingers()

    def close(self) -> str:
        self._finger = -1.0
        self._settle_fingers()
        held = self.held()
        if held is None:
            nearest = min(OBJECTS, key=lambda o: float(np.linalg.norm(self.position(o) - self._grip())))
            distance = np.linalg.norm(self.position(nearest) - self._grip())
            raise NothingToGrasp(
                f"nothing to grasp: the fingers closed on nothing; the nearest object, {nearest}, is "
                f"{100 * distance:.1f} cm from the gripper point (open, move the gripper point to its centre, "
                "then close)"
            )
        return held

    def wait(self, steps: int = 10) -> None:
        for _ in range(max(0, int(steps))):
            self._step(np.zeros(3))

    # ----- helpers
    def _act(self, action: np.ndarray) -> None:
        """One step with a raw env action (policy skills act through this); later moves keep its finger command."""
        action = np.minimum(np.maximum(np.asarray(action, dtype=np.float64).reshape(4), -1.0), 1.0)
        self._finger = float(action[3])
        self._step(action[:3])

    def _settle_fingers(self) -> None:
        previous = self.env.state()["finger_gap"]
        for _ in range(FINGER_STEPS):
            self._step(np.zeros(3))
            gap = self.env.state()["finger_gap"]
            if abs(gap - previous) < 2e-4:
                break
            previous = gap

    def _step(self, delta: np.ndarray) -> None:
        if self.max_steps is not None and self.steps >= self.max_steps:
            raise StepBudgetExceeded(f"the program used its whole budget of {self.max_steps} simulation steps")
        self.env.step(np.array([*delta, self._finger]))
        self.steps += 1
        if self.on_step is not None:
            self.on_step()

    def _grip(self) -> np.ndarray:
        return self.env.data.site_xpos[self.env._grip_site].copy()

    @staticmethod
    def _point(point: Sequence[float] | np.ndarray) -> np.ndarray:
        try:
            array = np.asarray(point, dtype=np.float64).reshape(3)
        except (TypeError, ValueError):
            raise OutOfReach(f"a point must be three numbers (x, y, z), got {point!r}") from None
        if not np.all(np.isfinite(array)):
            raise OutOfReach(f"a point must be finite, got {_fmt(array)}")
        return array


def _fmt(point: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.3f}" for v in point) + ")"
