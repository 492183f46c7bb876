"""`lab bench rewards`: the reward search run task by task over a suite, against the human rewards.

Eureka's headline is a scoreboard: on how many tasks the searched reward trains a policy at least as good as the
human-written one (83% of 29). This runs `RewardSearch` on each task of a suite (the Gymnasium adapter worlds, the
DeepMind Control suite, or both) at one named budget, and keeps one row per task: the best's, human's and sparse's
held-out fitness with their 95% intervals, the human-normalized score with its interval, and whether the best is
above, below or indistinguishable from human. The count comes with a Wilson interval, as 10-30 tasks leave it
wide. Each task is a reward run of its own under `tasks/`, journaled as usual, so a killed scoreboard resumes: a
finished task is read back, a stopped one goes on from its journal. The table is written after every task
(`scoreboard.json`, write-then-rename) and as a report.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lab.embedding import SentenceEmbedder
from lab.errors import LabError
from lab.llm.config import LLMSettings
from lab.runs import SUMMARY, Run, slugify
from lab.search.config import SearchConfig
from lab.search.records import SearchResult
from lab.settings import merged, validated

SCOREBOARD = "scoreboard.json"
GYMNASIUM_TASKS = ("ant forward", "halfcheetah forward", "hopper forward", "walker2d forward", "humanoid forward",
                   "swimmer forward", "reacher reach", "pusher push")
"""The Gymnasium adapter worlds' own tasks (their human reward is the environment's built-in one)."""
DMC_PREFIX = "dmc-"

BUDGETS: dict[str, dict[str, Any]] = {
    "smoke": {"samples": 1, "iterations": 1, "steps": 512, "short_fraction": 1.0, "seeds": 1, "eval_seeds": 2,
              "select_episodes": 2, "train": {"n_envs": 4, "ppo": {"n_steps": 64}}},
    "short": {"samples": 4, "iterations": 1, "steps": 200_000, "seeds": 1, "eval_seeds": 10},
    "medium": {"samples": 4, "iterations": 2, "steps": 500_000, "seeds": 2, "eval_seeds": 10},
    "full": {"samples": 4, "iterations": 3, "steps": 1_000_000, "seeds": 3, "eval_seeds": 10},
}
"""Search settings per named budget. smoke: does it run (seconds a task); short: one training seed, 12 tasks took
27 min on 2 cores with the plain PPO settings (each world's preset now: halfcheetah, walker2d, hopper and the dmc
worlds train 1.3-5x slower per step, learning more per step); medium: two seeds; full: Eureka-like, for a GPU or a
cluster."""

Standing = Literal["above", "indistinguishable", "below", "failed"]
"""Where a task's best stands against human, by the interval of their difference; `failed`: the search, or the
human baseline it needs, did not train (counted as not at or above human: the lab did not deliver)."""


class ScoreboardConfig(BaseModel):
    """One scoreboard: which tasks, at which budget, with which designer."""

    model_config = ConfigDict(extra="forbid")

    suite: Literal["gymnasium", "dmc", "all"] = Field("gymnasium", description="the tasks: the Gymnasium adapter "
                                                                               "worlds', the DeepMind Control "
                                                                               "suite's, or both")
    tasks: list[str] = Field(default_factory=list, description="only these tasks, as `WORLD TASK` (e.g. "
                                                               "'hopper forward'); default: the whole suite")
    budget: Literal["smoke", "short", "medium", "full"] = Field("short", description="named search budget per "
                                                                                      "task (see BUDGETS)")
    search: dict[str, Any] = Field(default_factory=dict, description="search settings over the budget's "
                                                                     "(e.g. steps, samples, max_parallel)")
    seed: int = Field(0, ge=0, description="seeds every task's search")
    llm: LLMSettings = Field(default_factory=lambda: LLMSettings(), description="the designer's model")

    @field_validator("search")
    @classmethod
    def _no_library_writes(cls, search: dict[str, Any]) -> dict[str, Any]:
        if search.get("promote"):
            raise ValueError("a scoreboard measures and never writes into rewards/: leave promote out (promote a "
                             "task's best with `lab reward ... --promote`)")
        return search

    @field_validator("tasks")
    @classmethod
    def _world_and_task(cls, tasks: list[str]) -> list[str]:
        bad = [t for t in tasks if len(t.split()) != 2]
        if bad:
            raise ValueError(f"a task is `WORLD TASK`, e.g. 'hopper forward'; not {', '.join(map(repr, bad))}")
        return [" ".join(t.split()) for t in tasks]

    def task_list(self) -> list[str]:
        """The scoreboard's tasks, `WORLD TASK` each, in order; every one checked to exist with both baselines."""
        tasks = self.tasks or suite_tasks(self.suite)
        for entry in tasks:
            world, task = entry.split()
            check_task(world, task)
        return tasks

    def search_config(self, entry: str) -> SearchConfig:
        """The search of one task: the budget's settings, then the user's, then the task, seed and designer."""
        world, task = entry.split()
        values = {**merged(BUDGETS[self.budget], self.search), "world": world, "task": task, "seed": self.seed,
                  "llm": self.llm.model_dump()}
        return validated(SearchConfig, values, f"search settings of {entry}",
                         hint="`lab reward --help` lists the search settings")


def suite_tasks(suite: str) -> list[str]:
    """Every task of a suite that has both baselines, `WORLD TASK` each."""
    from lab.rewards.program import baseline_path  # start-up: loads MuJoCo
    from lab.worlds import get_world  # start-up: loads MuJoCo
    from lab.worlds.registry import world_names  # start-up: loads MuJoCo

    tasks = list(GYMNASIUM_TASKS) if suite in ("gymnasium", "all") else []
    if suite in ("dmc", "all"):
        for name in sorted(n for n in world_names() if n.startswith(DMC_PREFIX)):
            tasks += [f"{name} {family}" for family in get_world(name).task_families
                      if baseline_path(name, family, "human") and baseline_path(name, family, "sparse")]
    return tasks


def check_task(world: str, task: str) -> None:
    """A task the scoreboard can score: its world and task exist, and both baselines are written."""
    from lab.rewards.program import baseline_path  # start-up: loads MuJoCo
    from lab.worlds import get_world  # start-up: loads MuJoCo

    family = get_world(world).task(task).family.name
    missing = [kind for kind in ("human", "sparse") if baseline_path(world, family, kind) is None]
    if missing:
        raise LabError(f"{world} {task} has no {' or '.join(missing)} reward to compare with",
                       hint=f"add rewards/{world}/{family}/{missing[0]}.py, or leave the task out")


class TaskRow(BaseModel):
    """One task's line of the scoreboard."""

    task: str
    standing: Standing
    best: float | None = None
    best_interval: tuple[float, float] | None = None
    human: float | None = None
    human_interval: tuple[float, float] | None = None
    sparse: float | None = None
    sparse_interval: tuple[float, float] | None = None
    score: float | None = None
    score_interval: tuple[float, float] | None = None
    seconds: float = 0.0
    run: str = ""
    error: str = ""


class Scoreboard(BaseModel):
    """The whole table and its count, as `scoreboard.json` holds it."""

    budget: str
    designer: str
    rows: list[TaskRow] = Field(default_factory=list)

    def count(self, *standings: Standing) -> int:
        return sum(r.standing in standings for r in self.rows)

    def summary(self) -> str:
        """Where the best stands against human over the scored tasks, by the interval of their difference (above,
        indistinguishable, below), the share not below human with its Wilson interval, and Eureka's own count
        (the best's mean at least human's, noise or not)."""
        tasks = len(self.rows)
        if not tasks:
            return "no task has finished"
        at_least = self.count("above", "indistinguishable")
        low, high = wilson(at_least, tasks)
        by_mean = sum(r.best is not None and r.human is not None and r.best >= r.human for r in self.rows)
        failed = f", failed on {self.count('failed')} (counted as not at or above)" if self.count("failed") else ""
        return (f"of {tasks} tasks: above human on {self.count('above')}, indistinguishable on "
                f"{self.count('indistinguishable')}, below on {self.count('below')}{failed}; not below human on "
                f"{at_least} ({at_least / tasks:.0%}, 95% interval {low:.0%} to {high:.0%}); best mean >= human "
                f"mean on {by_mean} of {tasks}")


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion (sound at small counts and at 0 or all)."""
    if total == 0:
        return 0.0, 1.0
    share = successes / total
    centre = (share + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def task_row(entry: str, summary: SearchResult, seconds: float, run: Run) -> TaskRow:
    """A finished search as a scoreboard row: where the best stands against human by its difference's interval
    (the verdict's), and the three policies' means with their intervals."""
    intervals = summary.fitness_intervals
    difference = summary.differences.get("human")
    error = "" if difference is not None else "the human baseline did not train (see the task's events.jsonl)"
    standing: Standing = ("failed" if difference is None else "above" if difference[0] > 0
                          else "below" if difference[1] < 0 else "indistinguishable")
    mean = {name: evaluation.fitness_mean for name, evaluation in summary.baselines.items()}
    return TaskRow(task=entry, standing=standing, error=error, best=summary.final_evaluation.fitness_mean,
                   best_interval=intervals.get("best"), human=mean.get("human"),
                   human_interval=intervals.get("human"), sparse=mean.get("sparse"),
                   sparse_interval=intervals.get("sparse"), score=summary.human_normalized_score,
                   score_interval=summary.human_normalized_interval, seconds=round(seconds, 1), run=str(run.path))


def run_scoreboard(config: ScoreboardConfig, run: Run, on_row: Callable[[TaskRow], None] | None = None,
                   progress: Any = None) -> Scoreboard:
    """Score every task of `config` in `run`, going on from wherever it stopped; the table is rewritten after each
    task. `on_row` sees each row as it is done; `progress` is handed to each task's search as its watcher."""
    from lab.search.loop import RewardSearch  # heavy: loads training (torch)

    tasks = config.task_list()
    run.check_config("bench", config, "scoreboard")
    earlier = {row.task: row for row in read_scoreboard(run).rows} if run.file(SCOREBOARD).is_file() else {}
    board = Scoreboard(budget=config.budget, designer=config.llm.model_for("reward_designer"))
    embedder = SentenceEmbedder()  # one model for every task's offline designer, loaded once, if ever
    for entry in tasks:
        folder = run.path / "tasks" / slugify(entry.replace(" ", "-"), 80)
        started = time.perf_counter()
        if (folder / SUMMARY).is_file():
            task_run = Run.open(folder, made_by="reward")
            summary = validated(SearchResult, task_run.read_json(SUMMARY), f"search result ({folder / SUMMARY})")
            row = task_row(entry, summary, earlier[entry].seconds if entry in earlier else 0.0, task_run)
        else:
            task_run = Run.at(folder, "reward")
            try:
                summary = RewardSearch(config.search_config(entry), progress=progress, embedder=embedder).run(task_run)
                row = task_row(entry, summary, time.perf_counter() - started, task_run)
            except LabError as error:
                row = TaskRow(task=entry, standing="failed", error=str(error), run=str(folder),
                              seconds=round(time.perf_counter() - started, 1))
        board.rows.append(row)
        run.write_json(SCOREBOARD, {**board.model_dump(mode="json"), "summary": board.summary()})
        if on_row is not None:
            on_row(row)
    return board


def read_scoreboard(run: Run) -> Scoreboard:
    """The table a scoreboard run has written so far."""
    return validated(Scoreboard, run.read_json(SCOREBOARD), f"scoreboard ({run.file(SCOREBOARD)})")
