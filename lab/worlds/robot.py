"""Errors of robot primitives, and running a program through a world's robot API.

Skill programs call a world's robot API; when a call fails, the error's message is the feedback the program's
writer reads (as Voyager's primitives report "no block to mine" or "cannot reach"). `play_program` is the one way
a program is played and judged: by the world checks, the demo videos and the skill sandbox.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from lab.errors import (  # noqa: F401 - the primitives' errors, re-exported where worlds look for them
    CATCHABLE,
    Blocked,
    LabError,
    NothingToGrasp,
    OutOfReach,
    RobotError,
    StepBudgetExceeded,
    UnknownObject,
)
from lab.worlds.core import as_batch, read_state

if TYPE_CHECKING:
    import gymnasium as gym

    from lab.worlds.core import Task, World


SETTLE_STEPS = 10
"""Steps the world runs after a program returns, so what it set down comes to rest before success is judged."""
PROGRAM_STEPS = 3000
"""The robot steps a skill program may take in one episode (its primitives count theirs)."""


@dataclass
class ProgramOutcome:
    """How a program's episode ended: the task's episode success and fitness, the steps used, what stopped it."""

    success: bool
    fitness: float
    steps: int
    error: str = ""


def play_program(world: World, task: Task, env: gym.Env, program: Callable[..., object],
                 params: Mapping[str, Any], *, max_steps: int | None = PROGRAM_STEPS, settle: int = SETTLE_STEPS,
                 on_step: Callable[[int], None] | None = None,
                 describe: Callable[[Exception], str] | None = None) -> ProgramOutcome:
    """Run `program(robot, **params)` on `env` (already reset) within a step budget, let the world settle, and
    judge the episode by the task's success check and fitness, read after every step.

    `on_step(steps)` runs after each step (e.g. to take video frames); `describe` words an exception for the
    program's writer (default: its type and message).
    """
    robot = world.robot(env)
    if robot is None:
        raise LabError(f"world {world.name!r} has no robot API to run a program with")
    successes: list[np.ndarray] = []
    fitness: list[float] = []

    def record() -> None:
        state = as_batch(read_state(env))
        successes.append(task.step_success(state)[0])
        fitness.append(float(task.fitness(state)[0]))
        if on_step is not None:
            on_step(robot.steps)

    def words(error: Exception) -> str:
        return describe(error) if describe is not None else f"{type(error).__name__}: {error}"

    robot.max_steps, robot.on_step = max_steps, record
    error = ""
    try:
        program(robot, **params)
    except Exception as failure:  # a failing program is an outcome to report, not a crash
        error = words(failure)
    robot.max_steps = None
    try:
        robot.wait(settle)
    except Exception as failure:  # the world failing while it settles is reported the same way
        error = error or words(failure)
    if not successes:
        record()
    return ProgramOutcome(bool(task.episode_success(np.array(successes))),
                          float(task.episode_fitness(np.array(fitness))), int(robot.steps), error)
