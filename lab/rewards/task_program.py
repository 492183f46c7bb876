"""Tasks given as free text: a success check and a fitness function written as a program, checked like any other.

A task program defines `compute_success(state) -> bool[n]` and `compute_fitness(state) -> float[n]` over batched
states. It is checked against the same rules as reward programs, dry-run on real states, and runs in sandboxes; the
task it makes judges training and evaluation exactly as a world's own tasks do. Its writer is the reward designer's
model, in a conversation of its own: the reward writer never sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lab.errors import LabError
from lab.llm.client import LLM
from lab.llm.extract import ExtractionError, extract_code
from lab.llm.prompting import render
from lab.sandbox import ProgramError, ProgramRules, Sandbox, SandboxLimits, check_program
from lab.worlds.core import State, Task, TaskFamily, World
from lab.worlds.description import describe

SUCCESS_RULES = ProgramRules("compute_success", ("state",), kind="task success check")
FITNESS_RULES = ProgramRules("compute_fitness", ("state",), kind="task fitness function")
FAMILY = "custom"


@dataclass
class ProgramTask:
    """A task whose success and fitness are a program's, each in its own sandbox; close it when done."""

    task: Task
    sandboxes: list[Sandbox] = field(default_factory=list)

    def close(self) -> None:
        for sandbox in self.sandboxes:
            sandbox.close()

    def __enter__(self) -> ProgramTask:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _per_env(value: np.ndarray, state: State, what: str) -> np.ndarray:
    n = len(next(iter(state.values())))
    array = np.asarray(value)
    if array.shape not in ((n,), (n, 1)):
        raise ProgramError(f"the task's {what} returned shape {array.shape}; it must return one value per env, "
                           f"shape ({n},)")
    return array.reshape(n)


def program_task(world: World, text: str, source: str, horizon: int | None = None,
                 limits: SandboxLimits | None = None) -> ProgramTask:
    """The task `text` in `world`, judged by the task program `source` (checked here, run sandboxed)."""
    check_program(source, SUCCESS_RULES)
    check_program(source, FITNESS_RULES)
    success_box = Sandbox(source, SUCCESS_RULES, limits=limits)
    fitness_box = Sandbox(source, FITNESS_RULES, limits=limits)

    def success(state: State, _: Any) -> np.ndarray:
        return _per_env(success_box.call(state=dict(state))[0], state, "success check").astype(bool)

    def fitness(state: State, _: Any) -> np.ndarray:
        values = _per_env(fitness_box.call(state=dict(state))[0], state, "fitness function").astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise ProgramError("the task's fitness function returned NaN or infinity")
        return values

    steps = horizon or max(t.horizon for t in world.default_tasks())
    family = TaskFamily(FAMILY, text.replace("{", "{{").replace("}", "}}"), success, fitness,
                        "the task program's fitness, averaged over the episode", steps)
    return ProgramTask(family.bind(world.name), [success_box, fitness_box])


def dry_run_task(world: World, text: str, source: str, seed: int = 0) -> None:
    """Check a task program and call it on real states; raise a ProgramError saying what is wrong."""
    from lab.rewards.program import sample_states

    state, _ = sample_states(world, world.default_tasks()[0], seed)
    with program_task(world, text, source) as made:
        made.task.success(state)
        made.task.fitness(state)
        single = {k: v[:1] for k, v in state.items()}
        made.task.success(single)
        made.task.fitness(single)


def write_task_program(llm: LLM, world: World, text: str, repairs: int = 2) -> tuple[str, list[str]]:
    """Ask the model for the task's success check and fitness, sending failures back `repairs` times; returns the
    source and the errors met on the way."""
    messages = render("task_program", world_description=describe(world, None, "reward"), task_text=text)
    errors: list[str] = []
    for attempt in range(repairs + 1):
        reply = llm.complete(messages, n=1, role="reward_designer").texts[0]
        messages = [*messages, {"role": "assistant", "content": reply}]
        try:
            source = extract_code(reply, "compute_success")
            dry_run_task(world, text, source)
            return source, errors
        except (ExtractionError, ProgramError) as error:
            problem = error.feedback() if isinstance(error, ProgramError) else error.message
            errors.append(problem)
            if attempt < repairs:
                messages = [*messages, *render("program_repair", error=problem,
                                               signature="compute_success(state) and compute_fitness(state)")]
    raise LabError(f"the model did not write a usable task program in {repairs + 1} tries; last error: "
                   f"{errors[-1]}", hint="reword --task-text, or name one of the world's tasks")


def closest_task(world: World, text: str, embedder: Any, tasks: list[Task] | None = None) -> tuple[Task, float]:
    """The world's known task (of `tasks`, default one per family) whose description is nearest in meaning to
    `text` (for runs without a model)."""
    tasks = tasks or world.default_tasks()
    vectors = embedder.encode([text, *[t.description for t in tasks]])
    scores = vectors[1:] @ vectors[0]
    best = int(np.argmax(scores))
    return tasks[best], float(scores[best])


def read_task_program(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        raise LabError(f"cannot read the task program {path}: {error}") from None
