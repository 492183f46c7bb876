"""Apply a reward program to training: rewards computed from the state, every component carried in `info`.

`StateInInfo` puts each env's post-step state into its `info` (before a vectorised env resets it), and
`RewardVecEnv` calls the reward program once per vectorised step on the whole batch, replaces the env's reward with
the program's, and keeps per-episode sums of every component with the task's fitness and success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from lab.worlds.core import State, Task, read_state

RewardFunction = Callable[[State, np.ndarray], tuple[np.ndarray, dict[str, np.ndarray]]]
STATE_KEY = "lab_state"
EPISODE_KEY = "lab_episode"


class StateInInfo(gym.Wrapper):
    """Adds the state after each step to `info["lab_state"]`."""

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        info[STATE_KEY] = read_state(self.env)
        return observation, reward, terminated, truncated, info


@dataclass
class EpisodeStats:
    """One finished episode as the reward program and the task saw it."""

    length: int
    reward: float
    """Sum of the reward program's reward."""
    env_reward: float
    """Sum of the env's own reward (Gymnasium's built-in one; 0 in worlds without one)."""
    fitness: float
    success: bool
    components: dict[str, float] = field(default_factory=dict)
    """Sum of each reward component over the episode."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Accumulator:
    """Running sums of one env's current episode."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.length = 0
        self.reward = 0.0
        self.env_reward = 0.0
        self.components: dict[str, float] = {}
        self.fitness_sum = 0.0
        self.fitness_last = 0.0
        self.fitness_max = -np.inf
        self.success_any = False
        self.success_last = False

    def add(self, reward: float, env_reward: float, components: dict[str, float], fitness: float,
            success: bool) -> None:
        self.length += 1
        self.reward += reward
        self.env_reward += env_reward
        for name, value in components.items():
            self.components[name] = self.components.get(name, 0.0) + value
        self.fitness_sum += fitness
        self.fitness_last = fitness
        self.fitness_max = max(self.fitness_max, fitness)
        self.success_any |= success
        self.success_last = success

    def finish(self) -> EpisodeStats:
        family = self.task.family
        fitness = {"mean": self.fitness_sum / max(self.length, 1), "final": self.fitness_last,
                   "max": self.fitness_max}[family.fitness_over]
        success = self.success_last if family.success_when == "final" else self.success_any
        return EpisodeStats(self.length, self.reward, self.env_reward, float(fitness), bool(success),
                            dict(self.components))


class RewardVecEnv(VecEnvWrapper):
    """Replaces a vectorised world env's rewards with a reward program's, and tracks task fitness and success.

    Each env's `info` gets `reward_components` (this step's value of every component), `task_fitness`,
    `task_success`, `env_reward`, and at an episode's end `lab_episode` (an EpisodeStats).
    """

    def __init__(self, venv: VecEnv, task: Task, reward_fn: RewardFunction) -> None:
        super().__init__(venv)
        self.task = task
        self.reward_fn = reward_fn
        self._actions = np.zeros((venv.num_envs, *venv.action_space.shape), dtype=np.float64)  # type: ignore[misc]
        self._episodes = [_Accumulator(task) for _ in range(venv.num_envs)]

    def reset(self) -> Any:
        self._episodes = [_Accumulator(self.task) for _ in range(self.num_envs)]
        return self.venv.reset()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.float64).reshape(self._actions.shape)
        self.venv.step_async(actions)

    def step_wait(self) -> Any:
        observations, env_rewards, dones, infos = self.venv.step_wait()
        states = [info.pop(STATE_KEY) for info in infos]
        batch = {name: np.stack([s[name] for s in states]) for name in states[0]}
        rewards, components = self.reward_fn(batch, self._actions)
        fitness = self.task.fitness(batch)
        success = self.task.success(batch)
        for index, info in enumerate(infos):
            step_components = {name: float(values[index]) for name, values in components.items()}
            info["reward_components"] = step_components
            info["task_fitness"] = float(fitness[index])
            info["task_success"] = bool(success[index])
            info["env_reward"] = float(env_rewards[index])
            episode = self._episodes[index]
            episode.add(float(rewards[index]), float(env_rewards[index]), step_components, float(fitness[index]),
                        bool(success[index]))
            if dones[index]:
                info[EPISODE_KEY] = episode.finish()
                self._episodes[index] = _Accumulator(self.task)
        return observations, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        close = getattr(self.reward_fn, "close", None)
        if close is not None:
            close()
        self.venv.close()
