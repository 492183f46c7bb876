"""Tasks given as free text: a success check and a fitness function written as a program, checked like any other.

A task program defines `compute_success(state) -> bool[n]` and `compute_fitness(state) -> float[n]` over batched
states. It is checked against the same rules as reward programs, dry-run on real states, and runs in sandboxes; the
task it makes judges training and evaluation exactly as a world's own tasks do. Its writer (`lab.search.task_writer`)
is the reward designer's model, in a conversation of its own: the reward writer never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lab.errors import LabError
from lab.rewards.program import sample_states
from lab.sandbox import SandboxLimits
from lab.worlds.core import Task, World
from lab.worlds.written_tasks import FITNESS_RULES, SUCCESS_RULES, SandboxedJudge

__all__ = ["FITNESS_RULES", "SUCCESS_RULES", "JudgedTask", "KnownTask", "ProgramTask", "dry_run_task", "make_task",
           "program_task", "read_task_program"]
FAMILY = "custom"


@dataclass
class ProgramTask:
    """A task whose success and fitness are a program's, each in its own sandbox (started on first use); close it
    when done."""

    task: Task
    judge: SandboxedJudge

    def close(self) -> None:
        self.judge.close()

    def __enter__(self) -> ProgramTask:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def program_task(world: World, text: str, source: str, horizon: int | None = None,
                 limits: SandboxLimits | None = None, name: str = FAMILY) -> ProgramTask:
    """The task `text` in `world`, judged by the task program `source` (checked here, run sandboxed)."""
    judge = SandboxedJudge(source, limits)
    steps = horizon or max(t.horizon for t in world.default_tasks())
    return ProgramTask(judge.family(world.name, name, text, steps).bind(world.name), judge)


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


class JudgedTask(Protocol):
    """A task and whatever judges it, to close when training is done."""

    task: Task

    def close(self) -> None: ...


@dataclass
class KnownTask:
    """A world's own task, with nothing to close (the counterpart of a program task)."""

    task: Task

    def close(self) -> None:
        pass


def make_task(world: World, spec: str, task_program: str | None = None) -> JudgedTask:
    """The task a config names: one of the world's, or the words `spec` judged by the task program file."""
    if task_program is None:
        return KnownTask(world.task(spec))
    return program_task(world, spec, read_task_program(Path(task_program)))
