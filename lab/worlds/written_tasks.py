"""Tasks given in words: judged by a task program's `compute_success` and `compute_fitness`, which only ever run
in locked-down processes (a sandbox of their own, or the skill sandbox that already runs untrusted programs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from lab.errors import ProgramError
from lab.sandbox import ProgramRules, Sandbox, SandboxLimits, check_program
from lab.worlds.core import State, Task, TaskFamily

TASK_PROGRAM_FILE = "<task program>"
SUCCESS_RULES = ProgramRules("compute_success", ("state",), kind="task success check")
FITNESS_RULES = ProgramRules("compute_fitness", ("state",), kind="task fitness function")


@dataclass
class SandboxedJudge:
    """A task program's `compute_success` and `compute_fitness`, each run in a sandbox of its own (started on first
    use, closed by `close`). The program is checked against the rules when the judge is made."""

    source: str
    limits: SandboxLimits | None = None
    sandboxes: dict[str, Sandbox] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_program(self.source, SUCCESS_RULES)
        check_program(self.source, FITNESS_RULES)

    def caller(self, rules: ProgramRules) -> Callable[[State], Any]:
        def call(state: State) -> Any:
            if rules.entry not in self.sandboxes:
                self.sandboxes[rules.entry] = Sandbox(self.source, rules, limits=self.limits)
            return self.sandboxes[rules.entry].call(state=state)[0]

        return call

    def family(self, world: str, name: str, text: str, horizon: int, success_when: Literal["final", "any"] = "final",
               fitness_over: Literal["mean", "final", "max"] = "mean") -> TaskFamily:
        return judged_family(self.caller(SUCCESS_RULES), self.caller(FITNESS_RULES), name, text, self.source,
                             horizon, success_when, fitness_over)

    def close(self) -> None:
        for sandbox in self.sandboxes.values():
            sandbox.close()
        self.sandboxes.clear()


def _per_env(value: np.ndarray, state: State, what: str) -> np.ndarray:
    n = len(next(iter(state.values())))
    array = np.asarray(value)
    if array.shape not in ((n,), (n, 1)):
        raise ProgramError(f"the task's {what} returned shape {array.shape}; it must return one value per env, "
                           f"shape ({n},)")
    return array.reshape(n)


def judged_by(world: str, success: Callable[[State], Any], fitness: Callable[[State], Any], name: str, text: str,
              source: str, horizon: int, success_when: Literal["final", "any"] = "final",
              fitness_over: Literal["mean", "final", "max"] = "mean") -> Task:
    """The task `text` named `name`, judged by the task program's two functions (however they are run)."""
    return judged_family(success, fitness, name, text, source, horizon, success_when, fitness_over).bind(world)


def judged_family(success: Callable[[State], Any], fitness: Callable[[State], Any], name: str, text: str,
                  source: str, horizon: int, success_when: Literal["final", "any"] = "final",
                  fitness_over: Literal["mean", "final", "max"] = "mean") -> TaskFamily:
    """The task family of a task program's two functions; see `judged_by`."""

    def succeeded(state: State, _: Any) -> np.ndarray:
        return _per_env(success(dict(state)), state, "success check").astype(bool)

    def fit(state: State, _: Any) -> np.ndarray:
        values = _per_env(fitness(dict(state)), state, "fitness function").astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise ProgramError("the task's fitness function returned NaN or infinity")
        return values

    over = {"mean": "averaged over the episode", "final": "at the episode's end", "max": "its best in the episode"}
    return TaskFamily(name, text.replace("{", "{{").replace("}", "}}"), succeeded, fit,
                      f"the task program's fitness, {over[fitness_over]}", horizon, success_when=success_when,
                      fitness_over=fitness_over, program=source)


def compiled_task(spec: dict[str, Any], globals_: dict[str, Any], compile_: Callable[[str, str], Any],
                  world: str) -> Task:
    """A task program's task built inside a locked-down process that already runs untrusted programs (a skill
    sandbox): its functions are compiled there rather than in sandboxes of their own. `spec` is `task_spec`'s."""
    exec(compile_(spec["source"], TASK_PROGRAM_FILE), globals_)
    return judged_by(world, globals_["compute_success"], globals_["compute_fitness"], spec["name"], spec["text"],
                     spec["source"], int(spec["horizon"]), spec.get("success_when", "final"),
                     spec.get("fitness_over", "mean"))



def task_spec(task: Task) -> dict[str, Any] | None:
    """What a sandbox needs to judge `task` when a task program defines it (None for a world's own task)."""
    if task.family.program is None:
        return None
    return {"name": task.family.name, "text": task.description, "source": task.family.program,
            "horizon": task.horizon, "success_when": task.family.success_when,
            "fitness_over": task.family.fitness_over}
