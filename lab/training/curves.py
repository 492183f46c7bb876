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

from lab.rewards.wrapper import EPISODE_KEY, EpisodeStats


class _Window:
    """Statistics of the steps and episodes since the last point."""

    def __init__(self) -> None:
        self.steps = 0
        self.component_sums: dict[str, float] = {}
        self.fitness_sum = 0.0
        self.episodes: list[EpisodeStats] = []

    def add_step(self, info: dict[str, Any]) -> None:
        self.steps += 1
        for name, value in info.get("reward_components", {}).items():
            self.component_sums[name] = self.component_sums.get(name, 0.0) + value
        self.fitness_sum += info.get("task_fitness", 0.0)
        episode = info.get(EPISODE_KEY)
        if episode is not None:
            self.episodes.append(episode)

    def point(self, step: int, elapsed: float) -> dict[str, Any]:
        steps = max(self.steps, 1)
        point: dict[str, Any] = {
            "step": step,
            "time": round(elapsed, 3),
            "step_components": {k: v / steps for k, v in self.component_sums.items()},
            "step_fitness": self.fitness_sum / steps,
            "episodes": len(self.episodes),
        }
        if self.episodes:
            names = sorted({n for e in self.episodes for n in e.components})
            point.update({
                "fitness": float(np.mean([e.fitness for e in self.episodes])),
                "fitness_std": float(np.std([e.fitness for e in self.episodes])),
                "success_rate": float(np.mean([e.success for e in self.episodes])),
                "episode_length": float(np.mean([e.length for e in self.episodes])),
                "episode_reward": float(np.mean([e.reward for e in self.episodes])),
                "episode_env_reward": float(np.mean([e.env_reward for e in self.episodes])),
                "episode_components": {n: float(np.mean([e.components.get(n, 0.0) for e in self.episodes]))
                                       for n in names},
            })
        return point


class LearningCurve(BaseCallback):
    """Gathers training statistics into `points` curve points; stops training once a target fitness is reached.

    `on_point` is called with each point as it is made (to log it); the callback also records every point under
    namespaced keys (`reward/<term>`, `task/fitness`, `task/success_rate`, `rollout/ep_len`) in the model's logger.
    """

    def __init__(self, total_steps: int, points: int = 20, target_fitness: float | None = None,
                 on_point: Callable[[dict[str, Any]], None] | None = None,
                 on_progress: Callable[[int, dict[str, Any] | None], None] | None = None) -> None:
        super().__init__()
        self.total_steps = total_steps
        self.every = max(1, math.ceil(total_steps / points))
        self.target_fitness = target_fitness
        self.on_point = on_point
        self.on_progress = on_progress
        self.points: list[dict[str, Any]] = []
        self.stopped_early = False
        self._window = _Window()
        self._next = self.every
        self._start = 0.0

    def _on_training_start(self) -> None:
        self._start = time.perf_counter()

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            self._window.add_step(info)
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
        if self._window.steps:
            self._flush()
        if self.on_progress is not None:
            self.on_progress(self.num_timesteps, self.points[-1] if self.points else None)

    def _reached_target(self, point: dict[str, Any]) -> bool:
        return self.target_fitness is not None and point.get("fitness", -math.inf) >= self.target_fitness

    def _flush(self) -> dict[str, Any]:
        point = self._window.point(self.num_timesteps, time.perf_counter() - self._start)
        self._window = _Window()
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
