"""Skills no program of primitives can give (every skill of a locomotion world, a motor behaviour the writer
failed at): a reward search trains a policy for the task, and the best policy, verified, becomes a policy skill
that code skills call by name."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lab.curriculum.writer import Written
from lab.errors import LabError
from lab.llm.client import LLM
from lab.llm.config import LLMSettings
from lab.runs import CONFIG, Run
from lab.search.config import SearchConfig
from lab.settings import validated
from lab.skills.runtime import add_policy_skill
from lab.skills.store import SkillLibrary
from lab.worlds.core import Task, World

SMALL_SEARCH: dict[str, Any] = {"samples": 2, "iterations": 1, "steps": 20_000, "baselines": False,
                                "eval_seeds": 3, "select_episodes": 3,
                                "train": {"preset": "plain", "n_envs": 16, "ppo": {"batch_size": 64, "n_epochs": 10}}}
"""A session's reward search unless its curriculum says otherwise: a session attempts many tasks, each on a small
budget, where many gradient steps per sample (16 copies, minibatches of 64, 10 epochs) learn more than the large
batches that suit a million steps."""


class PolicyLearner:
    """Learns a policy skill for one attempt at a task with a reward search in `folder` (a resumed session that
    names the same folder goes on with the same search)."""

    name = "reward search"
    how = "written by reward search (a trained policy)"

    def __init__(self, world: World, library: SkillLibrary, folder: Path, *, search: dict[str, Any] | None = None,
                 llm: LLMSettings | None = None, llms: dict[str, LLM | None] | None = None, verify_seeds: int = 10,
                 threshold: float = 0.8, seed: int = 0, provenance: dict[str, Any] | None = None) -> None:
        """`llms` are the session's models: the search spends from the session's ledger and budget."""
        self.world, self.library, self.folder = world, library, folder
        self.search = {**SMALL_SEARCH, **(search or {})}
        self.llm = llm or LLMSettings()
        self.llms = llms
        self.verify_seeds, self.threshold, self.seed = verify_seeds, threshold, seed
        self.provenance = provenance or {}

    def failure(self, written: Written) -> str:
        """Why no policy was stored, for the session's journal."""
        return f"no policy verified: {written.best_error}"

    def write(self, task: Task, name: str | None = None, on_try: Any = None,
              skills: list[str] | None = None) -> Written:
        """Search rewards for `task`, train, and store the best policy as the skill `name` when it verifies."""
        from lab.search.loop import RewardSearch  # heavy: training loads torch

        name = name or task.family.name
        if task.family.program is not None:
            raise LabError(f"task {task.id} is given in words; a session learns policies for the world's own tasks")
        started = time.perf_counter()
        if (self.folder / CONFIG).is_file():
            run = Run.open(self.folder, made_by="reward")
            config = run.read_config(SearchConfig, "search")
        else:
            config = validated(SearchConfig, {**self.search, "world": self.world.name, "task": task.id,
                                              "seed": self.seed, "llm": self.llm.model_dump()}, "reward search",
                               hint="see the policy: section of the curriculum file")
            run = Run.create("reward", name, out=self.folder)
        written = Written(name, None, None)
        try:
            summary = RewardSearch(config, llms=self.llms, embedder=self.library.embedder).run(run)
        except LabError as error:
            written.best_error = f"the reward search trained no policy: {error.message}"
            return written
        trained = run.path / "candidates" / summary.best / "full"
        seeds = list(range(20_000, 20_000 + self.verify_seeds))
        outcome = add_policy_skill(self.library, trained, name, seeds=seeds, threshold=self.threshold,
                                   provenance={"writer": self.name, "search": str(run.path), "task": task.id,
                                               **self.provenance})
        written.verification, written.results = outcome.verification, outcome.results
        written.seconds = time.perf_counter() - started
        if outcome.skill is None:
            written.best_error = (f"the best policy (reward {summary.best}) succeeded on "
                                  f"{outcome.verification.successes} of {len(seeds)} seeds")
            return written
        written.source, written.stored = outcome.skill.source, outcome.skill
        return written
