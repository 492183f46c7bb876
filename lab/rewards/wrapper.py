"""Apply a reward program to training: rewards computed from the state, every component carried in `info`.

Each env's `StateRecorder` writes its post-step state into its row of a shared `StateBatch` (before a vectorised
env resets it); `RewardVecEnv` then calls the reward program once per vectorised step on the whole batch, replaces
the env's reward with the program's, keeps per-episode sums of every component with the task's fitness and success,
and keeps running totals that learning-curve callbacks take without walking `info` dicts. `RewardedBatch` does the
same over a batched world (lab.worlds.batched) for the lab's PPO; both keep their episodes in an `EpisodeTracker`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper

from lab.sandbox import ProgramError
from lab.worlds.batched import BatchedEnv, BatchStep
from lab.worlds.core import State, Task, World, read_state


class RewardFunction(Protocol):
    """Rewards for a batch of states, computed in two halves so the caller can work while they are computed."""

    def submit(self, state: State, action: np.ndarray) -> None: ...

    def collect(self) -> tuple[np.ndarray, dict[str, np.ndarray]]: ...

    def close(self) -> None: ...


EPISODE_KEY = "lab_episode"


class StateBatch:
    """The latest state of every env of a vectorised env, one row per env."""

    def __init__(self, n_envs: int) -> None:
        self.n_envs = n_envs
        self.arrays: dict[str, np.ndarray] = {}

    def write(self, index: int, state: dict[str, np.ndarray]) -> None:
        if not self.arrays:
            self.arrays = {name: np.zeros((self.n_envs, *np.shape(value)), dtype=np.asarray(value).dtype)
                           for name, value in state.items()}
        for name, value in state.items():
            self.arrays[name][index] = value


class StateRecorder(gym.Wrapper):
    """Writes the state after each step into row `index` of a shared StateBatch."""

    def __init__(self, env: gym.Env, batch: StateBatch, index: int) -> None:
        super().__init__(env)
        self.batch = batch
        self.index = index

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict]:
        result = self.env.step(action)
        self.batch.write(self.index, read_state(self.env))
        return result


class WorldVecEnv(DummyVecEnv):
    """stable-baselines3's DummyVecEnv, less its deep copy of every `info` on every step.

    Each env's info dict is copied shallowly instead: the world envs hand out a new info dict per step holding
    plain numbers and fresh arrays, so a deep copy (a large share of stepping time for fast envs) buys nothing.
    """

    def step_wait(self) -> Any:
        for index, env in enumerate(self.envs):
            observation, self.buf_rews[index], terminated, truncated, info = env.step(self.actions[index])
            info = self.buf_infos[index] = dict(info)
            self.buf_dones[index] = terminated or truncated
            info["TimeLimit.truncated"] = truncated and not terminated
            if self.buf_dones[index]:
                info["terminal_observation"] = observation
                observation, self.reset_infos[index] = env.reset()
            self._save_obs(index, observation)
        return self._obs_from_buf(), np.copy(self.buf_rews), np.copy(self.buf_dones), list(self.buf_infos)


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


@dataclass
class Window:
    """Totals over the steps since the last time a callback took them."""

    steps: int = 0
    component_sums: dict[str, float] = field(default_factory=dict)
    fitness_sum: float = 0.0
    episodes: list[EpisodeStats] = field(default_factory=list)


class EpisodeTracker:
    """Per-episode sums of every reward component with the task's fitness and success, for N envs stepped together,
    and running totals (a `Window`) that learning curves take.

    Each step, `judge` gives the task's fitness and success of the batch of states (a composite task's parts are
    judged in order); `record` adds the step's rewards and returns the episodes that ended in it.
    """

    def __init__(self, task: Task, n: int) -> None:
        self.task = task
        self.n = n
        self.window = Window()
        self._length = np.zeros(n, dtype=np.int64)
        self._reward = np.zeros(n)
        self._env_reward = np.zeros(n)
        self._fitness_sum = np.zeros(n)
        self._fitness_last = np.zeros(n)
        self._fitness_max = np.full(n, -np.inf)
        self._success_any = np.zeros(n, dtype=bool)
        self._success_last = np.zeros(n, dtype=bool)
        self._parts_held = np.zeros((n, len(task.family.parts)), dtype=bool)
        self._out_of_order = np.zeros(n, dtype=bool)
        self._components: dict[str, np.ndarray] = {}

    def clear(self, which: np.ndarray) -> None:
        """Forget the running episode of the envs in the bool mask `which`."""
        for array in (self._length, self._reward, self._env_reward, self._fitness_sum, self._fitness_last,
                      self._success_any, self._success_last, self._parts_held, self._out_of_order,
                      *self._components.values()):
            array[which] = 0
        self._fitness_max[which] = -np.inf

    def take_window(self) -> Window:
        """The totals since the last call, and start new ones."""
        window, self.window = self.window, Window()
        return window

    def judge(self, state: State) -> tuple[np.ndarray, np.ndarray]:
        """The task's fitness (n,) and success (n,) at a batch of states."""
        fitness = self.task.fitness(state)
        success = self.task.step_success(state)
        if self.task.family.parts:
            self._out_of_order |= self.task.breaks_order(self._parts_held, success)
            self._parts_held |= success
            success = np.asarray(success.all(axis=-1), dtype=bool)
        return fitness, success

    def record(self, fitness: np.ndarray, success: np.ndarray, rewards: np.ndarray, env_rewards: np.ndarray,
               components: dict[str, np.ndarray], dones: np.ndarray) -> list[tuple[int, EpisodeStats]]:
        """Add one step of every env; the episodes that ended (by env index), after which their sums restart."""
        self._length += 1
        self._reward += rewards
        self._env_reward += env_rewards
        self._fitness_sum += fitness
        self._fitness_last[:] = fitness
        np.maximum(self._fitness_max, fitness, out=self._fitness_max)
        self._success_any |= success
        self._success_last[:] = success
        window = self.window
        window.steps += self.n
        window.fitness_sum += float(fitness.sum())
        for name, values in components.items():
            totals = self._components.get(name)
            if totals is None:
                totals = self._components[name] = np.zeros(self.n)
            totals += values
            window.component_sums[name] = window.component_sums.get(name, 0.0) + float(values.sum())
        ended: list[tuple[int, EpisodeStats]] = []
        if dones.any():
            for index in np.flatnonzero(dones).tolist():
                episode = self._finish(index)
                ended.append((index, episode))
                window.episodes.append(episode)
            self.clear(dones.astype(bool))
        return ended

    def _finish(self, index: int) -> EpisodeStats:
        length = int(self._length[index])
        fitness = self.task.fold_fitness(self._fitness_sum[index], self._fitness_last[index],
                                         self._fitness_max[index], length)
        success = self.task.fold_success(self._success_any[index], self._success_last[index])
        success = success & ~self._out_of_order[index]
        return EpisodeStats(length, float(self._reward[index]), float(self._env_reward[index]), float(fitness),
                            bool(success), {name: float(v[index]) for name, v in self._components.items()})


class RewardVecEnv(VecEnvWrapper):
    """Replaces a vectorised world env's rewards with a reward program's, and tracks task fitness and success.

    Each env's `info` gets `reward_components` (this step's value of every component), `task_fitness`,
    `task_success`, `env_reward`, and at an episode's end `lab_episode` (an EpisodeStats).
    """

    def __init__(self, venv: VecEnv, task: Task, reward_fn: RewardFunction, states: StateBatch) -> None:
        super().__init__(venv)
        self.task = task
        self.reward_fn = reward_fn
        self.states = states
        self._actions = np.zeros((venv.num_envs, *venv.action_space.shape), dtype=np.float64)  # type: ignore[misc]
        self.tracker = EpisodeTracker(task, venv.num_envs)

    @property
    def window(self) -> Window:
        return self.tracker.window

    def take_window(self) -> Window:
        """The totals since the last call, and start new ones."""
        return self.tracker.take_window()

    def reset(self) -> Any:
        self.tracker.clear(np.ones(self.num_envs, dtype=bool))
        return self.venv.reset()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.float64).reshape(self._actions.shape)
        self.venv.step_async(actions)

    def step_wait(self) -> Any:
        observations, env_rewards, dones, infos = self.venv.step_wait()
        batch = self.states.arrays
        self.reward_fn.submit(batch, self._actions)
        fitness, success = self.tracker.judge(batch)
        fitness_list, success_list, env_list = fitness.tolist(), success.tolist(), env_rewards.tolist()
        for index, info in enumerate(infos):
            info["task_fitness"] = fitness_list[index]
            info["task_success"] = success_list[index]
            info["env_reward"] = env_list[index]
        rewards, components = self.reward_fn.collect()
        ended = self.tracker.record(fitness, success, rewards, env_rewards, components, dones)
        columns = {name: values.tolist() for name, values in components.items()}
        for index, info in enumerate(infos):
            info["reward_components"] = {name: values[index] for name, values in columns.items()}
        for index, episode in ended:
            infos[index][EPISODE_KEY] = episode
        return observations, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self.reward_fn.close()
        self.venv.close()


class RewardedBatch:
    """A batched world whose rewards are a reward program's, computed once per step on the whole batch, with the
    task's fitness and success tracked per episode (`tracker`).

    `step` returns what a vectorised trainer needs: next observations, rewards, terminated, truncated, and the
    observations at the step's end (for the value of an episode cut at the horizon).
    """

    def __init__(self, batch: BatchedEnv, task: Task, reward_fn: RewardFunction) -> None:
        self.batch = batch
        self.task = task
        self.reward_fn = reward_fn
        self.num_envs = batch.num_envs
        self.tracker = EpisodeTracker(task, batch.num_envs)
        self.last_episodes: list[tuple[int, EpisodeStats]] = []
        self._pending: BatchStep | None = None

    def take_window(self) -> Window:
        return self.tracker.take_window()

    @property
    def window(self) -> Window:
        return self.tracker.window

    def reset(self) -> np.ndarray:
        if self._pending is not None:  # a step begun and never ended: its rewards are not wanted, nor its errors
            self._pending = None
            with contextlib.suppress(ProgramError):
                self.reward_fn.collect()
        self.tracker.clear(np.ones(self.num_envs, dtype=bool))
        return self.batch.reset()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        observations, terminated, truncated, final = self.begin_step(actions)
        return observations, self.end_step(), terminated, truncated, final

    def begin_step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Step the batch and hand its states to the reward program without waiting for it: next observations,
        terminated, truncated and the observations at the step's end. `end_step()` gives the rewards; the caller
        works in between (a trainer computes its next actions while the sandbox computes these rewards)."""
        if self._pending is not None:
            raise RuntimeError("end_step() the previous step before beginning another")
        step = self.batch.step(actions)
        self.reward_fn.submit(step.state, np.asarray(actions, dtype=np.float64))
        self._pending = step
        return step.observations, step.terminated, step.truncated, step.final_observations

    def end_step(self) -> np.ndarray:
        """The rewards of the step begun last, with its episodes judged and recorded."""
        step, self._pending = self._pending, None
        if step is None:
            raise RuntimeError("no step was begun")
        fitness, success = self.tracker.judge(step.state)
        rewards, components = self.reward_fn.collect()
        self.last_episodes = self.tracker.record(fitness, success, rewards, step.env_reward, components, step.done)
        return rewards

    def close(self) -> None:
        self.reward_fn.close()
        self.batch.close()


def make_rewarded_env(world: World, task: Task, reward_fn: RewardFunction, seeds: Sequence[int]) -> RewardVecEnv:
    """One world env per seed, stepped together, rewarded by `reward_fn` from their states."""
    states = StateBatch(len(seeds))

    def make(index: int, seed: int) -> Callable[[], gym.Env]:
        return lambda: StateRecorder(world.make_env(task, seed=seed), states, index)

    return RewardVecEnv(WorldVecEnv([make(i, s) for i, s in enumerate(seeds)]), task, reward_fn, states)
