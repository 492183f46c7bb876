"""Tasks written next to a robot's model: a short `tasks.yaml` beside robot.xml adds task families to its world.

    hop_far:
      description: hop forward as far as it can
      horizon: 500                 # actions per episode (default: the templates' 500)
      success_when: final          # final (the last state) or any (some state)
      fitness_over: final          # mean, final or max of the per-step fitness
      program: |
        import numpy as np

        def compute_success(state):
            return state["displacement"][:, 0] >= 2.0

        def compute_fitness(state):
            return state["displacement"][:, 0]

Each program defines `compute_success(state)` and `compute_fitness(state)` over batched states; it is checked
against the sandbox's rules when the world loads and only ever runs in sandboxes, as a task given in words does.
A file that does not parse, a field that is not known, a bad name or a program the rules refuse is one clear error
naming the file and the task.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lab.errors import LabError, ProgramError
from lab.worlds.core import TaskFamily
from lab.worlds.written_tasks import SandboxedJudge

TASK_FILE = "tasks.yaml"
TASK_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class WrittenTask(BaseModel):
    """One task of a tasks.yaml."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, description="the goal in words, as writers and users read it")
    program: str = Field(min_length=1, description="defines compute_success(state) and compute_fitness(state)")
    horizon: int = Field(500, gt=0, le=100_000, description="actions per episode")
    success_when: Literal["final", "any"] = "final"
    fitness_over: Literal["mean", "final", "max"] = "mean"


def read_task_file(path: Path, world: str, taken: set[str]) -> dict[str, TaskFamily]:
    """The task families `path` (a tasks.yaml) defines for `world`; a name in `taken` (a template's) is refused."""
    where = f"{path}"
    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise LabError(f"{where} could not be read: {str(error).splitlines()[0]}") from None
    if not isinstance(loaded, dict) or not loaded:
        raise LabError(f"{where} must map task names to tasks", hint="see `lab worlds show` and envs/README.md")
    families: dict[str, TaskFamily] = {}
    for name, body in loaded.items():
        if not isinstance(name, str) or not TASK_NAME.match(name):
            raise LabError(f"{where}: {name!r} is not a task name", hint="lower_snake_case, starting with a letter")
        if name in taken:
            raise LabError(f"{where}: task {name!r} has the name of one of the robot's templates",
                           hint="choose another name")
        try:
            task = WrittenTask.model_validate(body)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "the task"
            raise LabError(f"{where}: task {name!r}: {field}: {first['msg']}") from None
        try:
            judge = SandboxedJudge(task.program)
        except ProgramError as error:
            raise LabError(f"{where}: task {name!r}: its program is refused: {str(error).splitlines()[0]}") from None
        families[name] = judge.family(world, name, task.description, task.horizon, task.success_when,
                                      task.fitness_over)
    return families
