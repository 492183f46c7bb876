"""The Gymnasium adapter worlds on MuJoCo Warp: every copy is a world of one batched simulation on a GPU.

MuJoCo Warp (`mujoco-warp`, with NVIDIA's `warp-lang`) runs MuJoCo's pipeline as GPU kernels over thousands of
worlds at once; on a CUDA device the frame skip's steps are captured once as a CUDA graph and replayed. The arrays
the batched formulas read are copied to the host after each control step (the reward programs are numpy, in their
sandbox), so the observation, the built-in reward, the termination and the lab's state are computed by exactly the
same code as on the CPU backend (`lab.worlds.gym_batch`). Resets are Gymnasium's own: one host copy of the env runs
`reset_model` with the copy's seeded random stream, and the result is written into that world.

Warp runs its kernels on the CPU too (device `cpu`: slowly, after compiling them for about two minutes once, cached
under ~/.cache/warp), which is how the tests check this backend where there is no GPU. MuJoCo Warp computes in
float32, so it follows the CPU backend closely for a short while and then drifts as any two simulators do.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium.utils import seeding

from lab.errors import LabError
from lab.worlds.core import Task
from lab.worlds.gym_batch import GymBatchBase
from lab.worlds.gym_robots import RobotSpec

CONTACTS_PER_WORLD = 64
CONSTRAINTS_PER_WORLD = 256
"""Room for contacts and constraint rows in each world (MuJoCo Warp allocates them up front): enough for the
humanoid lying on the floor."""


def load_warp() -> tuple[Any, Any]:
    """`warp` and `mujoco_warp`, or a LabError saying how to install them (they are the optional `gpu` extra)."""
    try:
        import mujoco_warp
        import warp
    except ImportError:
        raise LabError("the warp backend needs MuJoCo Warp, which is not installed",
                       hint='install the GPU extra: pip install -e ".[gpu]" (mujoco-warp and warp-lang)') from None
    warp.config.log_level = logging.WARNING  # not a line per kernel module it loads
    return warp, mujoco_warp


def device_model(model: mujoco.MjModel) -> mujoco.MjModel:
    """The model MuJoCo Warp simulates: `model`, with the Newton solver where it asks for PGS (which MuJoCo Warp
    does not have; Gymnasium's humanoid does), so such a world's dynamics differ from the CPU backend's more."""
    if model.opt.solver != mujoco.mjtSolver.mjSOL_PGS:
        return model
    changed = copy.deepcopy(model)
    changed.opt.solver = mujoco.mjtSolver.mjSOL_NEWTON
    return changed


class WarpBatch(GymBatchBase):
    """N worlds of a Gymnasium adapter world in one MuJoCo Warp simulation on `device` (`cuda`, `cuda:1`, `cpu`;
    `auto`: the GPU when Warp sees one, else the CPU). The policy may train elsewhere (torch on the CPU)."""

    def __init__(self, spec: RobotSpec, task: Task, num_envs: int, seed: int, device: str = "auto") -> None:
        self._wp, self._mjw = load_warp()
        host: Any = gym.make(spec.env_id).unwrapped
        self._host = host
        super().__init__(spec, task, num_envs, seed, host)
        self._rngs: list[np.random.Generator | None] = [None] * num_envs
        self._host_arrays = [(name, getattr(host.data, name)) for name in self._fields]
        if device == "auto":
            device = "cuda" if self._wp.is_cuda_available() else "cpu"
        self.device = self._wp.get_device(device)
        with self._wp.ScopedDevice(self.device):
            try:
                self._m = self._mjw.put_model(device_model(self._model))
            except NotImplementedError as error:
                raise LabError(f"MuJoCo Warp cannot simulate world {spec.world!r}: {error}",
                               hint="train it with --backend native") from None
            self._d = self._mjw.make_data(self._model, nworld=num_envs, nconmax=CONTACTS_PER_WORLD,
                                          njmax=CONSTRAINTS_PER_WORLD)
        self._ctrl = self._wp.zeros((num_envs, self._model.nu), dtype=float, device=self.device)
        self._reset_mask = self._wp.zeros(num_envs, dtype=bool, device=self.device)
        self._graph: Any = None

    def _physics(self) -> None:
        """The frame skip's MuJoCo steps and the post-constraint forces Gymnasium reads (cfrc_ext)."""
        for _ in range(self._frame_skip):
            self._mjw.step(self._m, self._d)
        self._mjw.rne_postconstraint(self._m, self._d)

    def _advance(self) -> None:
        wp = self._wp
        self._ctrl.assign(self._actions.astype(np.float32))
        wp.copy(self._d.ctrl, self._ctrl)
        with wp.ScopedDevice(self.device):
            if self.device.is_cuda:
                if self._graph is None:
                    with wp.ScopedCapture() as capture:
                        self._physics()
                    self._graph = capture.graph
                wp.capture_launch(self._graph)
            else:
                self._physics()
        for name in self._fields:
            target = self._frame[name]
            target[...] = getattr(self._d, name).numpy().reshape(target.shape)

    def _reset_copies(self, indices: list[int]) -> None:
        """Gymnasium's reset of each copy on the host env, then those worlds set to the result on the device."""
        host, data = self._host, self._host.data
        for index in indices:
            seed, self._seeds[index] = self._seeds[index], None
            if seed is not None or self._rngs[index] is None:
                self._rngs[index], _ = seeding.np_random(seed)
            host._np_random = self._rngs[index]
            mujoco.mj_resetData(self._model, data)
            host.reset_model()
            for name, source in self._host_arrays:
                self._frame[name][index] = source
        mask = np.zeros(self.num_envs, dtype=bool)
        mask[indices] = True
        self._reset_mask.assign(mask)
        with self._wp.ScopedDevice(self.device):
            self._mjw.reset_data(self._m, self._d, reset=self._reset_mask)
        self._d.qpos.assign(self._frame["qpos"].astype(np.float32))
        self._d.qvel.assign(self._frame["qvel"].astype(np.float32))

    def close(self) -> None:
        self._host.close()
        self._graph = None
