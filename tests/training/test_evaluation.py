"""Evaluation tells a policy that freezes in a posture from one that moves (`still_fraction`)."""

from __future__ import annotations

import numpy as np

from lab.rewards import SandboxedReward
from lab.rewards.program import resolve_reward
from lab.training import evaluate_policy
from lab.training.evaluation import still_fraction
from lab.worlds import get_world


class Constant:
    """A policy that always sends the same action (zero: a robot left to settle)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def act(self, observations: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return np.zeros((len(observations), self.size))


class Flailing:
    """A policy that sends a different random action every step."""

    def __init__(self, size: int) -> None:
        self.size, self.rng = size, np.random.default_rng(0)

    def act(self, observations: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return self.rng.uniform(-1, 1, (len(observations), self.size))


def test_a_robot_left_at_rest_is_still_and_a_flailing_one_is_not() -> None:
    world = get_world("reacher")
    task = world.task("reach")
    size = world.make_env(task, seed=0).action_space.shape[0]
    with SandboxedReward(resolve_reward("human", task), task) as reward_fn:
        resting = evaluate_policy(Constant(size), world, task, [0, 1], reward_fn)
        flailing = evaluate_policy(Flailing(size), world, task, [0, 1], reward_fn)
    assert resting.summary()["still_fraction"] > 0.9
    assert flailing.summary()["still_fraction"] < 0.2
    assert all(0.0 <= e["still_fraction"] <= 1.0 for e in resting.episodes + flailing.episodes)


def test_only_the_second_half_of_an_episode_counts() -> None:
    """A robot that moves while falling and then lies still is still for the half that counts."""
    assert still_fraction([1.0] * 10 + [0.0] * 10) == 1.0
    assert still_fraction([0.0] * 10 + [1.0] * 10) == 0.0
    assert still_fraction([]) == 0.0
