"""Evaluate a trained policy over seeded episodes: the task's fitness and success, and the reward's components."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lab.policy import Actor
from lab.rewards.wrapper import EPISODE_KEY, EpisodeStats, RewardFunction, make_rewarded_env
from lab.video import VIDEO_FPS, write_video
from lab.worlds.core import Task, World

AT_REST = 1e-2
"""A step whose observation changes by less than this (its largest entry's change, in the world's own units: metres,
radians, their rates) leaves the robot at rest; an episode's `still_fraction` is the share of its second half's
steps at rest, which tells a policy that freezes in a posture apart from one that moves."""


@dataclass
class Evaluation:
    """Per-episode results of an evaluation and their summary."""

    seeds: list[int]
    episodes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fitness(self) -> np.ndarray:
        return np.array([e["fitness"] for e in self.episodes])

    def summary(self) -> dict[str, float]:
        if not self.episodes:
            return {}
        return {
            "episodes": len(self.episodes),
            "fitness_mean": float(self.fitness.mean()),
            "fitness_std": float(self.fitness.std()),
            "success_rate": float(np.mean([e["success"] for e in self.episodes])),
            "episode_length": float(np.mean([e["length"] for e in self.episodes])),
            "reward_mean": float(np.mean([e["reward"] for e in self.episodes])),
            "still_fraction": float(np.mean([e.get("still_fraction", 0.0) for e in self.episodes])),
            **{f"component/{name}": float(np.mean([e.get("components", {}).get(name, 0.0) for e in self.episodes]))
               for name in sorted({n for e in self.episodes for n in e.get("components", {})})},
        }

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), **asdict(self)}


def evaluate_policy(policy: Actor, world: World, task: Task, seeds: list[int], reward_fn: RewardFunction,
                    deterministic: bool = True) -> Evaluation:
    """One episode per seed, all stepped together; each episode's fitness, success, length, reward terms and the
    share of its second half spent at rest (`still_fraction`)."""
    venv = make_rewarded_env(world, task, reward_fn, seeds)
    results: list[EpisodeStats | None] = [None] * len(seeds)
    moved: list[list[float]] = [[] for _ in seeds]
    try:
        observations = venv.reset()
        while any(r is None for r in results):
            previous = np.asarray(observations, dtype=np.float64).reshape(len(seeds), -1)
            observations, _, _, infos = venv.step(policy.act(observations, deterministic))
            change = np.abs(np.asarray(observations, dtype=np.float64).reshape(len(seeds), -1) - previous).max(axis=1)
            for index, info in enumerate(infos):
                if results[index] is None and EPISODE_KEY in info:
                    results[index] = info[EPISODE_KEY]
                elif results[index] is None:
                    moved[index].append(float(change[index]))
    finally:
        venv.venv.close()
    evaluation = Evaluation(seeds=list(seeds))
    for seed, stats, changes in zip(seeds, results, moved, strict=True):
        assert stats is not None
        evaluation.episodes.append({"seed": seed, **stats.to_dict(), "still_fraction": still_fraction(changes)})
    return evaluation


def still_fraction(changes: list[float]) -> float:
    """The share of the second half of an episode's steps (by their observation changes) at rest."""
    half = changes[len(changes) // 2:]
    return float(np.mean(np.asarray(half) < AT_REST)) if half else 0.0


def render_policy(policy: Actor, world: World, task: Task, seed: int, path: Path,
                  deterministic: bool = True) -> int:
    """Render one seeded episode of the policy to a video file; returns the number of frames."""
    env = world.make_env(task, seed=seed, render_mode="rgb_array")
    frames = []
    try:
        observation, _ = env.reset()
        every = max(1, round(1.0 / (VIDEO_FPS * float(env.unwrapped.dt))))  # type: ignore[attr-defined]
        frames.append(np.asarray(env.render()))
        step = 0
        while True:
            action = policy.act(np.asarray(observation)[None], deterministic)[0]
            observation, _, terminated, truncated, _ = env.step(action)
            step += 1
            if step % every == 0:
                frames.append(np.asarray(env.render()))
            if terminated or truncated:
                break
    finally:
        env.close()
    write_video(frames, path)
    return len(frames)
