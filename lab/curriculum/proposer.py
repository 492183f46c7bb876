"""The offline curriculum: a learning-progress teacher over the world's task families.

It proposes the next task from what the session has done: tasks whose prerequisites are mastered, whose estimated
success is neither 0 nor 1 (learning progress, p(1 - p) of a Beta estimate per family), far in meaning from what
is already mastered, and never one just failed: a failed task, and its family, back off for twice as long each
time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np

from lab.worlds.core import Task, World


@dataclass
class Progress:
    """What the session knows: attempts and successes per family, mastered tasks, back-off per family."""

    attempts: dict[str, int] = field(default_factory=dict)
    successes: dict[str, int] = field(default_factory=dict)
    mastered: dict[str, str] = field(default_factory=dict)
    """Task id -> the skill that solves it."""
    failures: dict[str, int] = field(default_factory=dict)
    """Task id -> times it failed in a row."""
    waiting: dict[str, int] = field(default_factory=dict)
    """Task id -> the iteration from which it may be proposed again."""
    family_waiting: dict[str, int] = field(default_factory=dict)
    """Family -> the iteration from which any of its tasks may be proposed again: skills are verified across
    their family's bindings, so one binding failing says the others would fail now too."""

    def record(self, task_id: str, iteration: int, success: bool, skill: str = "") -> None:
        family = task_id.partition("(")[0]
        self.attempts[family] = self.attempts.get(family, 0) + 1
        if success:
            self.successes[family] = self.successes.get(family, 0) + 1
            self.mastered[task_id] = skill
            self.failures.pop(task_id, None)
            return
        failures = self.failures.get(task_id, 0) + 1
        self.failures[task_id] = failures
        self.waiting[task_id] = iteration + 2 ** failures
        family_failures = self.attempts[family] - self.successes.get(family, 0)
        self.family_waiting[family] = iteration + 2 ** family_failures

    @property
    def mastered_families(self) -> set[str]:
        return {task_id.partition("(")[0] for task_id in self.mastered}


def task_pool(world: World, per_family: int = 3, seed: int = 0) -> list[Task]:
    """Tasks to draw from: every family with its default parameters and a few other bindings."""
    rng = np.random.default_rng(seed)
    pool: dict[str, Task] = {}
    for family in world.task_families.values():
        pool.setdefault(family.bind(world.name).id, family.bind(world.name))
        choices = [p.choices for p in family.params if p.choices]
        names = [p.name for p in family.params if p.choices]
        if not names:
            continue
        bindings = [dict(zip(names, values, strict=True)) for values in product(*choices)]
        for index in rng.permutation(len(bindings))[:per_family]:
            try:
                task = family.bind(world.name, bindings[int(index)])
            except Exception:  # a binding the family refuses (e.g. a cube stacked on itself) is not a task
                continue
            pool.setdefault(task.id, task)
    return list(pool.values())


def every_task(world: World) -> list[Task]:
    """Every task of the world: each family over all its choice parameters (numbers at their defaults)."""
    return [task for family in world.task_families.values() for task in family.bindings(world.name)]


class LearningProgressCurriculum:
    """Proposes tasks by learning progress, prerequisites and novelty (in embedding space)."""

    name = "learning-progress"

    def __init__(self, world: World, embedder: Any, seed: int = 0, per_family: int = 3,
                 tasks: list[Task] | None = None) -> None:
        self.world = world
        self.pool = tasks or task_pool(world, per_family, seed)
        self.tasks = {t.id: t for t in self.pool}
        self.rng = np.random.default_rng(seed)
        vectors = embedder.encode([t.description for t in self.pool])
        self.vectors = {t.id: v for t, v in zip(self.pool, vectors, strict=True)}

    def propose(self, progress: Progress, iteration: int) -> Task | None:
        """The next task; while every open task is backing off, the one whose wait ends first; None when no task
        is open (all mastered, or the rest need families not mastered)."""
        mastered = progress.mastered_families
        best: tuple[float, Task] | None = None
        soonest: tuple[int, Task] | None = None
        for task in self.pool:
            if task.id in progress.mastered or not set(task.family.prerequisites) <= mastered:
                continue
            until = max(progress.waiting.get(task.id, 0), progress.family_waiting.get(task.family.name, 0))
            if until > iteration:
                if soonest is None or until < soonest[0]:
                    soonest = (until, task)
                continue
            score = self.score(task, progress) + 1e-3 * float(self.rng.random())
            if best is None or score > best[0]:
                best = (score, task)
        if best is not None:
            return best[1]
        return soonest[1] if soonest else None

    def score(self, task: Task, progress: Progress) -> float:
        family = task.family.name
        tries, wins = progress.attempts.get(family, 0), progress.successes.get(family, 0)
        p = (wins + 1) / (tries + 2)
        learning = p * (1 - p)
        known = [self.vectors[t] for t in progress.mastered if t in self.vectors]
        novelty = 1.0 - max((float(self.vectors[task.id] @ v) for v in known), default=0.0)
        simpler = 0.05 * (3 - min(3, len(task.family.prerequisites)))
        return learning + novelty + simpler
