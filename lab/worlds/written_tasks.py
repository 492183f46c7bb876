"""Tasks given in words: judged by a task program's `compute_success` and `compute_fitness`, which only ever run
in locked-down processes (a sandbox of their own, or the skill sandbox that already runs untrusted programs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lab.errors import ProgramError
from lab.worlds.core import State, Task, TaskFamily

TASK_PROGRAM_FILE = "<task program>"


def _per_env(value: np.ndarray, state: State, what: str) -> np.ndarray:
    n = len(next(iter(state.values())))
    array = np.asarray(value)
    if array.shape not in ((n,), (n, 1)):
        raise ProgramError(f"the task's {what} returned shape {array.shape}; it must return one value per env, "
                           f"shape ({n},)")
    return array.reshape(n)


def judged_by(world: str, success: Callable[[State], Any], fitness: Callable[[State], Any], name: str, text: str,
              source: str, horizon: int) -> Task:
    """The task `text` named `name`, judged by the task program's two functions (however they are run)."""

    def succeeded(state: State, _: Any) -> np.ndarray:
        return _per_env(success(dict(state)), state, "success check").astype(bool)

    def fit(state: State, _: Any) -> np.ndarray:
        values = _per_env(fitness(dict(state)), state, "fitness function").astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise ProgramError("the task's fitness function returned NaN or infinity")
        return values

    family = TaskFamily(name, text.replace("{", "{{").replace("}", "}}"), succeeded, fit,
                        "the task program's fitness, averaged over the episode", horizon, program=source)
    return family.bind(world)


def compiled_task(spec: dict[str, Any], globals_: dict[str, Any], compile_: Callable[[str, str], Any],
                  world: str) -> Task:
    """A task program's task built inside a locked-down process that already runs untrusted programs (a skill
    sandbox): its functions are compiled there rather than in sandboxes of their own. `spec` is `task_spec`'s."""
    exec(compile_(spec["source"], TASK_PROGRAM_FILE), globals_)
    return judged_by(world, globals_["compute_success"], globals_["compute_fitness"], spec["name"], spec["text"],
                     spec["source"], int(spec["horizon"]))



def task_spec(task: Task) -> dict[str, Any] | None:
    """What a sandbox needs to judge `task` when a task program defines it (None for a world's own task)."""
    if task.family.program is None:
        return None
    return {"name": task.family.name, "text": task.description, "source": task.family.program,
            "horizon": task.horizon}
