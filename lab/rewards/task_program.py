"""Tasks given as free text: a success check and a fitness function written as a program, checked like any other.

A task program defines `compute_success(state) -> bool[n]` and `compute_fitness(state) -> float[n]` over batched
states. It is checked against the same rules as reward programs, dry-run on real states, and runs in sandboxes; the
task it makes judges training and evaluation exactly as a world's own tasks do. Its writer (`lab.search.task_writer`)
is the reward designer's model, in a conversation of its own: the reward writer never sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.errors import LabError
from lab.rewards.program import sample_states
from lab.sandbox import ProgramRules, Sandbox, SandboxLimits, check_program
from lab.worlds.core import State, Task, World
from lab.worlds.written_tasks import judged_by

SUCCESS_RULES = ProgramRules("compute_success", ("state",), kind="task success check")
FITNESS_RULES = ProgramRules("compute_fitness", ("state",), kind="task fitness function")
FAMILY = "custom"


@dataclass
class ProgramTask:
    """A task whose success and fitness are a program's, each in its own sandbox (started on first use); close it
    when done."""

    task: Task
    sandboxes: list[Sandbox] = field(default_factory=list)

    def close(self) -> None:
        for sandbox in self.sandboxes:
            sandbox.close()

    def __enter__(self) -> ProgramTask:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def program_task(world: World, text: str, source: str, horizon: int | None = None,
                 limits: SandboxLimits | None = None, name: str = FAMILY) -> ProgramTask:
    """The task `text` in `world`, judged by the task program `source` (checked here, run sandboxed)."""
    check_program(source, SUCCESS_RULES)
    check_program(source, FITNESS_RULES)
    sandboxes: list[Sandbox] = []
    boxes: dict[str, Sandbox] = {}

    def caller(rules: ProgramRules) -> Callable[[State], Any]:
        def call(state: State) -> Any:
            if rules.entry not in boxes:
                boxes[rules.entry] = Sandbox(source, rules, limits=limits)
                sandboxes.append(boxes[rules.entry])
            return boxes[rules.entry].call(state=state)[0]

        return call

    steps = horizon or max(t.horizon for t in world.default_tasks())
    task = judged_by(world.name, caller(SUCCESS_RULES), caller(FITNESS_RULES), name, text, source, steps)
    return ProgramTask(task, sandboxes)


def dry_run_task(world: World, text: str, source: str, seed: int = 0) -> None:
    """Check a task program and call it on real states; raise a ProgramError saying what is wrong."""
    state, _ = sample_states(world, world.default_tasks()[0], seed)
    with program_task(world, text, source) as made:
        made.task.success(state)
        made.task.fitness(state)
        single = {k: v[:1] for k, v in state.items()}
        made.task.success(single)
        made.task.fitness(single)


def read_task_program(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        raise LabError(f"cannot read the task program {path}: {error}") from None
