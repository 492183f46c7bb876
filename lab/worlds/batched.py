"""Batched worlds: N copies of one task's world stepped together, their observations, rewards and states as arrays.

A batch is what a vectorised trainer steps: `reset()` gives observations of shape (N, O); `step(actions (N, A))`
gives the next observations, the env's own reward, terminated and truncated flags, the named state (every array with
a leading axis of N) and the observations at the step's end. A copy whose episode ended starts its next episode in
the same step (auto-reset): its row of `observations` is the new episode's first, while `state` and
`final_observations` are still the ended episode's last, which is what a reward program and a value bootstrap need.
Each copy has its own seeded random stream (copy i starts from seed + i), so its reset noise follows Gymnasium's.

`SerialBatch` serves any world by stepping one Gymnasium env per copy in turn; worlds with a native batch (the
Gymnasium adapter worlds, `lab.worlds.gym_batch`; the MJCF worlds, `lab.worlds.mjcf`; the playground) step their
copies' MuJoCo across threads (`CopyThreads`) and compute observations and states for the whole batch instead.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

if TYPE_CHECKING:
    from lab.worlds.core import Task, World


def read_state(env: gym.Env) -> dict[str, np.ndarray]:
    """The unbatched state of a world env, through any wrappers around it."""
    return env.get_wrapper_attr("state")()


def stack_states(states: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Several envs' states as one batch, in order."""
    if not states:
        raise ValueError("stack_states needs at least one state")
    return {name: np.stack([s[name] for s in states]) for name in states[0]}


class CopyIndices:
    """The copies of a batch handed out one at a time to whichever thread asks next (a lock guards the count)."""

    def __init__(self, copies: int) -> None:
        self._next = 0
        self._copies = copies
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[int]:
        while True:
            with self._lock:
                index = self._next
                self._next += 1
            if index >= self._copies:
                return
            yield index


class CopyThreads:
    """Runs a function over the copies of a batch on `threads` threads: the calling thread and a pool of threads - 1.
    MuJoCo's step releases the GIL, so the threads step in parallel. The copies are handed out one at a time to the
    thread that is free (not split in fixed chunks): a thread that starts late (woken from the pool) or shares its
    core with another process (the reward's sandbox) takes fewer, so no thread waits for a slower one at the end of
    a step (with fixed halves, the caller waited ~0.45 ms of a ~2.5 ms halfcheetah step for the pool's thread while
    training, profiled here)."""

    def __init__(self, copies: int, threads: int) -> None:
        self.copies = copies
        self.threads = max(1, min(threads, copies))
        self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="mujoco") if self.threads > 1 else None

    def run(self, work: Callable[[Iterable[int]], None]) -> None:
        """`work(indices)` on every thread, the indices of all copies shared between them (each copy is given to
        exactly one thread, and `indices` can be read only once); returns when all are done (re-raising the first
        error)."""
        indices = CopyIndices(self.copies)
        if self._pool is None:
            work(indices)
            return
        others = [self._pool.submit(work, indices) for _ in range(self.threads - 1)]
        try:
            work(indices)
        finally:
            wait(others)  # every thread has stopped stepping before this returns or raises
        for future in others:
            future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


@dataclass
class BatchStep:
    """What one step of a batch gives back (N copies)."""

    observations: np.ndarray
    """(N, O) observations to act on next: a new episode's first where the episode ended."""
    env_reward: np.ndarray
    """(N,) the env's own reward (Gymnasium's built-in one; 0 in worlds without one)."""
    terminated: np.ndarray
    """(N,) bool: the episode ended in a terminal state (the robot fell)."""
    truncated: np.ndarray
    """(N,) bool: the episode reached the task's horizon."""
    state: dict[str, np.ndarray]
    """The named state at the step's end, before any reset: every array (N, ...)."""
    final_observations: np.ndarray
    """(N, O) the observations at the step's end, before any reset."""

    @property
    def done(self) -> np.ndarray:
        return self.terminated | self.truncated


class BatchedEnv(ABC):
    """N copies of one task's world, stepped together, resetting themselves when an episode ends."""

    num_envs: int
    observation_size: int
    action_low: np.ndarray
    action_high: np.ndarray
    dt: float
    """Seconds of simulated time per step."""

    @property
    def action_size(self) -> int:
        return int(self.action_low.shape[0])

    @abstractmethod
    def reset(self) -> np.ndarray:
        """Start every copy's first episode (copy i from seed + i); returns observations (N, O)."""

    @abstractmethod
    def step(self, actions: np.ndarray) -> BatchStep:
        """Apply actions (N, A) to every copy for one step."""

    @abstractmethod
    def close(self) -> None:
        """Release what the batch holds (threads, envs)."""

    def __enter__(self) -> BatchedEnv:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class SerialBatch(BatchedEnv):
    """Any world as a batch: one of its Gymnasium envs per copy, stepped one after another in Python."""

    def __init__(self, world: World, task: Task, num_envs: int, seed: int) -> None:
        self.num_envs = num_envs
        self.envs: list[gym.Env] = [world.make_env(task, seed=seed + i) for i in range(num_envs)]
        first = self.envs[0]
        space: Any = first.action_space
        self.action_low = np.asarray(space.low, dtype=np.float64)
        self.action_high = np.asarray(space.high, dtype=np.float64)
        self.observation_size = int(np.prod(first.observation_space.shape or (1,)))
        self.dt = float(getattr(first.unwrapped, "dt", 1.0))

    def reset(self) -> np.ndarray:
        return np.stack([np.asarray(env.reset()[0], dtype=np.float64) for env in self.envs])

    def step(self, actions: np.ndarray) -> BatchStep:
        n = self.num_envs
        observations = np.zeros((n, self.observation_size))
        final = np.zeros((n, self.observation_size))
        rewards = np.zeros(n)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        states = []
        for index, env in enumerate(self.envs):
            observation, reward, ended, cut, _ = env.step(actions[index])
            states.append(read_state(env))
            final[index] = observation
            rewards[index], terminated[index], truncated[index] = float(reward), bool(ended), bool(cut)
            if ended or cut:
                observation, _ = env.reset()
            observations[index] = observation
        return BatchStep(observations, rewards, terminated, truncated, stack_states(states), final)

    def close(self) -> None:
        for env in self.envs:
            env.close()
