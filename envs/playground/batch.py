"""The playground as a native batch: N playground envs whose physics steps on threads, observed as one batch.

Each copy is the playground's own env (its model, its data, its seeded layouts), so a reset is its reset and a step
is its `advance` (clip the action, move the mocap gripper, `mj_step` over the frame skip), run for the copies on
several threads while MuJoCo releases the GIL. Each copy's arrays are then gathered into batch arrays (with its grasp
flags, which read its contacts), and the observation and the state are computed for the whole batch at once by
`PlaygroundEnv.observation`'s and `PlaygroundEnv.state`'s formulas (tested equal to the envs copy by copy, across
episode ends). The playground has no built-in reward and never terminates: episodes end at the task's horizon.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from lab.worlds.batched import BatchedEnv, BatchStep, CopyThreads

from .constants import GRASPABLE, OBJECTS

if TYPE_CHECKING:
    from .world import PlaygroundEnv

COPIES_PER_THREAD = 32
"""A thread more only for this many copies more: a copy's step holds the GIL for much of its time (the gripper's
command, the contacts), so a second thread slowed 16 copies (7.2-8.3k -> 5.8-6.7k steps/s) and sped 64 up
(6.6-6.9k -> 7.4-7.8k), 3 rounds each here."""


class PlaygroundBatch(BatchedEnv):
    """N copies of a playground task, each its own env, stepped on up to `threads` threads (one per
    COPIES_PER_THREAD copies)."""

    def __init__(self, envs: Sequence[PlaygroundEnv], threads: int = 1) -> None:
        """`envs`: one playground env per copy, all of one task, each made with its own seed (the world makes them)."""
        num_envs = len(envs)
        self.num_envs = num_envs
        self.horizon = envs[0].task.horizon
        self._envs = list(envs)
        first = self._envs[0]
        self.dt = float(first.dt)
        self.action_low = np.asarray(first.action_space.low, dtype=np.float64)
        self.action_high = np.asarray(first.action_space.high, dtype=np.float64)
        self.observation_size = int(first.observation_space.shape[0])  # type: ignore[index]
        model, data = first.model, first.data
        self._qpos = np.zeros((num_envs, model.nq))
        self._qvel = np.zeros((num_envs, model.nv))
        self._sites = np.zeros((num_envs, *data.site_xpos.shape))
        self._mocap = np.zeros((num_envs, *data.mocap_pos.shape))
        self._handle = np.zeros((num_envs, 3))
        self._grasped = np.zeros((num_envs, len(GRASPABLE)), dtype=bool)
        self._previous_grip = np.zeros((num_envs, 3))
        self._steps = np.zeros(num_envs, dtype=np.int64)
        self._actions = np.zeros((num_envs, self.action_low.shape[0]))
        self._threads = CopyThreads(num_envs, min(threads, max(1, num_envs // COPIES_PER_THREAD)))

    def _gather(self, index: int) -> None:
        env = self._envs[index]
        data = env.data
        self._qpos[index] = data.qpos
        self._qvel[index] = data.qvel
        self._sites[index] = data.site_xpos
        self._mocap[index] = data.mocap_pos
        self._handle[index] = data.geom_xpos[env._handle_geom]
        self._grasped[index] = env.touching().all(axis=1)
        self._previous_grip[index] = env._prev_grip
        self._steps[index] = env._steps

    def _simulate(self, indices: Iterable[int]) -> None:
        for index in indices:
            self._envs[index].advance(self._actions[index])
            self._gather(index)

    def _reset_copies(self, indices: Iterable[int]) -> None:
        for index in indices:
            self._envs[index].reset()
            self._gather(index)

    def reset(self) -> np.ndarray:
        self._reset_copies(range(self.num_envs))
        return self._observe()

    def step(self, actions: np.ndarray) -> BatchStep:
        self._actions[...] = np.asarray(actions, dtype=np.float64).reshape(self.num_envs, -1)
        self._threads.run(self._simulate)
        observations = self._observe()
        state = self._state()
        final = observations.copy()
        truncated = self._steps >= self.horizon
        done = np.flatnonzero(truncated)
        if len(done):
            self._reset_copies(done.tolist())
            observations[done] = self._observe()[done]
        nothing = np.zeros(self.num_envs, dtype=bool)
        return BatchStep(observations, np.zeros(self.num_envs), nothing, truncated, state, final)

    def _grip(self) -> np.ndarray:
        return self._sites[:, self._envs[0]._grip_site]

    def _observe(self) -> np.ndarray:
        """`PlaygroundEnv.observation` for the whole batch."""
        env, qpos = self._envs[0], self._qpos
        grip = self._grip()
        scalars = np.stack([qpos[:, env._finger_qpos[0]] + qpos[:, env._finger_qpos[1]], qpos[:, env._drawer_qpos],
                            -qpos[:, env._button_qpos], self._steps / self.horizon], axis=1)
        return np.concatenate((
            grip, (grip - self._previous_grip) / self.dt, qpos[:, env._objects_qpos], self._qvel[:, env._objects_qvel],
            self._mocap[:, env._zone_mocaps, :2].reshape(self.num_envs, -1), self._handle, scalars,
        ), axis=1)

    def _state(self) -> dict[str, np.ndarray]:
        """`PlaygroundEnv.state` for the whole batch (every array with a leading axis of N)."""
        env, qpos, qvel = self._envs[0], self._qpos, self._qvel
        grip = self._grip().copy()
        state = {
            "time": self._steps * self.dt,
            "gripper_pos": grip,
            "gripper_vel": (grip - self._previous_grip) / self.dt,
            "finger_gap": qpos[:, env._finger_qpos].sum(axis=1),
        }
        for index, (pos_key, vel_key, quat_key, grasp_key) in enumerate(env._object_keys):
            address, dof = env._object_qpos[index], env._object_qvel[index]
            state[pos_key] = qpos[:, address:address + 3].copy()
            state[vel_key] = qvel[:, dof:dof + 3].copy()
            if quat_key:
                state[quat_key] = qpos[:, address + 3:address + 7].copy()
            state[grasp_key] = self._grasped[:, index].copy()
        for mocap, key in zip(env._zone_mocaps, env._zone_keys, strict=True):
            zone = self._mocap[:, mocap].copy()
            zone[:, 2] = 0.0
            state[key] = zone
        state["drawer_opening"] = qpos[:, env._drawer_qpos].copy()
        state["handle_pos"] = self._handle.copy()
        state["handle_grasped"] = self._grasped[:, len(OBJECTS)].copy()
        state["drawer_inside_pos"] = self._sites[:, env._inside_site].copy()
        state["button_pos"] = self._sites[:, env._button_site].copy()
        state["button_depth"] = -qpos[:, env._button_qpos]
        return state

    def close(self) -> None:
        self._threads.close()
        for env in self._envs:
            env.close()
