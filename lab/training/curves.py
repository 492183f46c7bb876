"""Learning curves: training statistics gathered into points, logged, and a callback that can stop training early.

Each point covers a window of env steps and carries the per-step mean of every reward component and of the task
fitness, and, over the episodes that ended in the window, the mean episode return of every component, the task's
episode fitness, the success rate and the episode length.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from lab.rewards.wrapper import RewardVecEnv, Window


def make_point(window: Window, step: int, elapsed: float) -> dict[str, Any]:
    """One curve point from the totals of a window of training."""
    steps = max(window.steps, 1)
    episodes = window.episodes
    point: dict[str, Any] = {
        "step": step,
        "time": round(elapsed, 3),
        "step_components": {k: v / steps for k, v in window.component_sums.items()},
        "step_fitness": window.fitness_sum / steps,
        "episodes": len(episodes),
    }
    if episodes:
        names = sorted({n for e in episodes for n in e.components})
        point.update({
            "fitness": float(np.mean([e.fitness for e in episodes])),
            "fitness_std": float(np.std([e.fitness for e in episodes])),
            "success_rate": float(np.mean([e.success for e in episodes])),
            "episode_length": float(np.mean([e.length for e in episodes])),
            "episode_reward": float(np.mean([e.reward for e in episodes])),
            "episode_env_reward": float(np.mean([e.env_reward for e in episodes])),
            "episode_components": {n: float(np.mean([e.components.get(n, 0.0) for e in episodes]))
                                   for n in names},
        })
    return point


class LearningCurve(BaseCallback):
    """Gathers training statistics into `points` curve points; stops training once a target fitness is reached.

The statistics are the totals kept by `rewarded` (the env that computes the rewards), taken at each point.

    `on_point` is called with each point as it is made (to log it); the callback also records every point under
    namespaced keys (`reward/<term>`, `task/fitness`, `task/success_rate`, `rollout/ep_len`) in the model's logger.
    """

    def __init__(self, rewarded: RewardVecEnv, total_steps: int, points: int = 20, target_fitness: float | None = None,
                 on_point: Callable[[dict[str, Any]], None] | None = None,
                 on_progress: Callable[[int, dict[str, Any] | None], None] | None = None) -> None:
        super().__init__()
        self.rewarded = rewarded
        self.total_steps = total_steps
        self.every = max(1, math.ceil(total_steps / points))
        self.target_fitness = target_fitness
        self.on_point = on_point
        self.on_progress = on_progress
        self.points: list[dict[str, Any]] = []
        self.stopped_early = False
        self._next = self.every
        self._start = 0.0

    def _on_training_start(self) -> None:
        self._start = time.perf_counter()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            while self._next <= self.num_timesteps:
                self._next += self.every
            point = self._flush()
            if self.on_progress is not None:
                self.on_progress(self.num_timesteps, point)
            if self._reached_target(point):
                self.stopped_early = True
                return False
        return True

    def _on_training_end(self) -> None:
        if self.rewarded.window.steps:
            self._flush()
        if self.on_progress is not None:
            self.on_progress(self.num_timesteps, self.points[-1] if self.points else None)

    def _reached_target(self, point: dict[str, Any]) -> bool:
        return self.target_fitness is not None and point.get("fitness", -math.inf) >= self.target_fitness

    def _flush(self) -> dict[str, Any]:
        point = make_point(self.rewarded.take_window(), self.num_timesteps, time.perf_counter() - self._start)
        self.points.append(point)
        for name, value in point["step_components"].items():
            self.logger.record(f"reward/{name}", value)
        self.logger.record("task/step_fitness", point["step_fitness"])
        if "fitness" in point:
            self.logger.record("task/fitness", point["fitness"])
            self.logger.record("task/success_rate", point["success_rate"])
            self.logger.record("rollout/ep_len", point["episode_length"])
            self.logger.record("rollout/ep_reward", point["episode_reward"])
            for name, value in point["episode_components"].items():
                self.logger.record(f"reward_episode/{name}", value)
        self.logger.dump(self.num_timesteps)
        if self.on_point is not None:
            self.on_point(point)
        return point
