"""Learning curves: training statistics gathered into points, logged, and a callback that can stop training early.

Each point covers a window of env steps and carries the per-step mean of every reward component and of the task
fitness, and, over the episodes that ended in the window, the mean episode return of every component, the task's
episode fitness, the success rate and the episode length.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from lab.rewards.wrapper import Window


class HasWindow(Protocol):
    """An env that keeps running training totals (RewardVecEnv, RewardedBatch)."""

    @property
    def window(self) -> Window: ...

    def take_window(self) -> Window: ...


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


class CurveRecorder:
    """Gathers training statistics into `points` curve points and says when a target fitness is reached.

    The statistics are the totals kept by the env that computes the rewards (`take_window`), taken at each point.
    `on_point` is called with each point as it is made (to log it); every point is also recorded under namespaced
    keys (`reward/<term>`, `task/fitness`, `task/success_rate`, `rollout/ep_len`) in `logger` (SB3's logger, which
    writes TensorBoard), when one is given.
    """

    def __init__(self, rewarded: HasWindow, total_steps: int, points: int = 20, target_fitness: float | None = None,
                 on_point: Callable[[dict[str, Any]], None] | None = None,
                 on_progress: Callable[[int, dict[str, Any] | None], None] | None = None,
                 logger: Any | None = None) -> None:
        self.rewarded = rewarded
        self.total_steps = total_steps
        self.every = max(1, math.ceil(total_steps / points))
        self.target_fitness = target_fitness
        self.on_point = on_point
        self.on_progress = on_progress
        self.logger = logger
        self.points: list[dict[str, Any]] = []
        self.stopped_early = False
        self._next = self.every
        self._start = time.perf_counter()

    def start(self) -> None:
        self._start = time.perf_counter()

    def step(self, num_timesteps: int) -> bool:
        """Make a point when one is due; False once the target fitness is reached (training should stop)."""
        if num_timesteps >= self._next:
            while self._next <= num_timesteps:
                self._next += self.every
            point = self._flush(num_timesteps)
            if self.on_progress is not None:
                self.on_progress(num_timesteps, point)
            if self._reached_target(point):
                self.stopped_early = True
                return False
        return True

    def end(self, num_timesteps: int) -> None:
        if self.rewarded.window.steps:
            self._flush(num_timesteps)
        if self.on_progress is not None:
            self.on_progress(num_timesteps, self.points[-1] if self.points else None)

    def _reached_target(self, point: dict[str, Any]) -> bool:
        return self.target_fitness is not None and point.get("fitness", -math.inf) >= self.target_fitness

    def _flush(self, num_timesteps: int) -> dict[str, Any]:
        point = make_point(self.rewarded.take_window(), num_timesteps, time.perf_counter() - self._start)
        self.points.append(point)
        if self.logger is not None:
            self._log(point, num_timesteps)
        if self.on_point is not None:
            self.on_point(point)
        return point

    def _log(self, point: dict[str, Any], num_timesteps: int) -> None:
        logger: Any = self.logger
        for name, value in point["step_components"].items():
            logger.record(f"reward/{name}", value)
        logger.record("task/step_fitness", point["step_fitness"])
        if "fitness" in point:
            logger.record("task/fitness", point["fitness"])
            logger.record("task/success_rate", point["success_rate"])
            logger.record("rollout/ep_len", point["episode_length"])
            logger.record("rollout/ep_reward", point["episode_reward"])
            for name, value in point["episode_components"].items():
                logger.record(f"reward_episode/{name}", value)
        logger.dump(num_timesteps)


class LearningCurve(BaseCallback):
    """A CurveRecorder as a stable-baselines3 callback (it logs to the model's logger, and stops the model)."""

    def __init__(self, rewarded: HasWindow, total_steps: int, points: int = 20, target_fitness: float | None = None,
                 on_point: Callable[[dict[str, Any]], None] | None = None,
                 on_progress: Callable[[int, dict[str, Any] | None], None] | None = None) -> None:
        super().__init__()
        self.recorder = CurveRecorder(rewarded, total_steps, points, target_fitness, on_point, on_progress)

    @property
    def points(self) -> list[dict[str, Any]]:
        return self.recorder.points

    @property
    def stopped_early(self) -> bool:
        return self.recorder.stopped_early

    def _on_training_start(self) -> None:
        self.recorder.logger = self.logger
        self.recorder.start()

    def _on_step(self) -> bool:
        return self.recorder.step(self.num_timesteps)

    def _on_training_end(self) -> None:
        self.recorder.end(self.num_timesteps)
