"""The Gymnasium adapter worlds as native batches: N MuJoCo simulations stepped in C across threads.

Each copy is Gymnasium's own env (its model, its data, its seeded random stream), so a reset is Gymnasium's reset;
a step is what Gymnasium's `do_simulation` does (`mj_step` over the frame skip, then `mj_rnePostConstraint`), run on
several threads (each copy on whichever thread takes it) while MuJoCo releases the GIL. Each copy's arrays a step
needs are gathered into batch arrays, and the observation, the built-in reward, the termination and the lab's
state view are computed for the whole batch at once from those arrays, by the formulas of Gymnasium's v5 envs and of
`GymWorldEnv.state`.
Same seeds and actions give the same observations, rewards and states as the Gymnasium env (tested per world).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from lab.worlds.batched import BatchedEnv, BatchStep, CopyThreads
from lab.worlds.core import Task
from lab.worlds.gym_robots import TWO_PI, RobotSpec, joint_slices

Frame = dict[str, np.ndarray]
"""Arrays gathered from every copy's MjData after a step, each (N, ...)."""


@dataclass(frozen=True)
class GymTerms:
    """How one Gymnasium v5 env turns its simulation into an observation, a reward and a termination, batched."""

    fields: tuple[str, ...]
    """MjData arrays the formulas read."""
    observe: Callable[[Frame], np.ndarray]
    reward: Callable[[Frame, Frame, np.ndarray], np.ndarray]
    """(after, before, actions) -> built-in reward."""
    healthy: Callable[[Frame], np.ndarray] | None = None
    terminate_when_unhealthy: bool = False


def _ctrl_cost(weight: float, actions: np.ndarray) -> np.ndarray:
    return weight * np.sum(np.square(actions), axis=-1)


def _planar_walker(base: Any, clip_velocity: bool, healthy: Callable[[Frame], np.ndarray] | None) -> GymTerms:
    """HalfCheetah, Hopper, Walker2d: x from qpos[0]; obs = qpos[1:], qvel (clipped to +-10 for the walkers)."""
    dt, forward, ctrl = base.dt, base._forward_reward_weight, base._ctrl_cost_weight
    healthy_reward = float(getattr(base, "_healthy_reward", 0.0))

    def observe(frame: Frame) -> np.ndarray:
        velocity = np.clip(frame["qvel"], -10, 10) if clip_velocity else frame["qvel"]
        return np.concatenate([frame["qpos"][:, 1:], velocity], axis=1)

    def reward(after: Frame, before: Frame, actions: np.ndarray) -> np.ndarray:
        x_velocity = (after["qpos"][:, 0] - before["qpos"][:, 0]) / dt
        total = forward * x_velocity - _ctrl_cost(ctrl, actions)
        if healthy is not None:
            total = total + healthy(after) * healthy_reward
        return total

    return GymTerms(("qpos", "qvel"), observe, reward, healthy,
                    bool(getattr(base, "_terminate_when_unhealthy", False)))


def _hopper_healthy(base: Any) -> Callable[[Frame], np.ndarray]:
    low_state, high_state = base._healthy_state_range
    low_z, high_z = base._healthy_z_range
    low_angle, high_angle = base._healthy_angle_range

    def healthy(frame: Frame) -> np.ndarray:
        state = np.concatenate([frame["qpos"], frame["qvel"]], axis=1)[:, 2:]
        z, angle = frame["qpos"][:, 1], frame["qpos"][:, 2]
        return (np.all((low_state < state) & (state < high_state), axis=1) & (low_z < z) & (z < high_z)
                & (low_angle < angle) & (angle < high_angle))

    return healthy


def _walker_healthy(base: Any) -> Callable[[Frame], np.ndarray]:
    low_z, high_z = base._healthy_z_range
    low_angle, high_angle = base._healthy_angle_range

    def healthy(frame: Frame) -> np.ndarray:
        z, angle = frame["qpos"][:, 1], frame["qpos"][:, 2]
        return (low_z < z) & (z < high_z) & (low_angle < angle) & (angle < high_angle)

    return healthy


def _ant(base: Any) -> GymTerms:
    dt, forward, ctrl, contact = base.dt, base._forward_reward_weight, base._ctrl_cost_weight, base._contact_cost_weight
    low_force, high_force = base._contact_force_range
    low_z, high_z = base._healthy_z_range
    main_body = int(base._main_body) if not isinstance(base._main_body, str) else mujoco.mj_name2id(
        base.model, mujoco.mjtObj.mjOBJ_BODY, base._main_body)
    healthy_reward, include_forces = float(base._healthy_reward), bool(base._include_cfrc_ext_in_observation)
    skip = 2 if base._exclude_current_positions_from_observation else 0

    def forces(frame: Frame) -> np.ndarray:
        return np.clip(frame["cfrc_ext"], low_force, high_force)

    def healthy(frame: Frame) -> np.ndarray:
        state = np.concatenate([frame["qpos"], frame["qvel"]], axis=1)
        z = frame["qpos"][:, 2]
        return np.isfinite(state).all(axis=1) & (low_z <= z) & (z <= high_z)

    def observe(frame: Frame) -> np.ndarray:
        parts = [frame["qpos"][:, skip:], frame["qvel"]]
        if include_forces:
            parts.append(forces(frame)[:, 1:].reshape(len(frame["qpos"]), -1))
        return np.concatenate(parts, axis=1)

    def reward(after: Frame, before: Frame, actions: np.ndarray) -> np.ndarray:
        x_velocity = (after["xpos"][:, main_body, 0] - before["xpos"][:, main_body, 0]) / dt
        contact_cost = contact * np.sum(np.square(forces(after)), axis=(1, 2))
        return (x_velocity * forward + healthy(after) * healthy_reward - _ctrl_cost(ctrl, actions) - contact_cost)

    return GymTerms(("qpos", "qvel", "xpos", "cfrc_ext"), observe, reward, healthy,
                    bool(base._terminate_when_unhealthy))


def _mass_center_x(frame: Frame, masses: np.ndarray) -> np.ndarray:
    return np.sum(masses[None, :] * frame["xipos"][:, :, 0], axis=1) / np.sum(masses)


def _humanoid(base: Any) -> GymTerms:
    dt, forward, ctrl, contact = base.dt, base._forward_reward_weight, base._ctrl_cost_weight, base._contact_cost_weight
    low_cost, high_cost = base._contact_cost_range
    low_z, high_z = base._healthy_z_range
    healthy_reward = float(base._healthy_reward)
    masses = base.model.body_mass.copy()
    skip = 2 if base._exclude_current_positions_from_observation else 0
    included = [(base._include_cinert_in_observation, "cinert", 1), (base._include_cvel_in_observation, "cvel", 1),
                (base._include_qfrc_actuator_in_observation, "qfrc_actuator", 6),
                (base._include_cfrc_ext_in_observation, "cfrc_ext", 1)]

    def healthy(frame: Frame) -> np.ndarray:
        z = frame["qpos"][:, 2]
        return (low_z < z) & (z < high_z)

    def observe(frame: Frame) -> np.ndarray:
        n = len(frame["qpos"])
        parts = [frame["qpos"][:, skip:], frame["qvel"]]
        parts += [frame[name][:, first:].reshape(n, -1) for wanted, name, first in included if wanted]
        return np.concatenate(parts, axis=1)

    def reward(after: Frame, before: Frame, actions: np.ndarray) -> np.ndarray:
        x_velocity = (_mass_center_x(after, masses) - _mass_center_x(before, masses)) / dt
        contact_cost = np.clip(contact * np.sum(np.square(after["cfrc_ext"]), axis=(1, 2)), low_cost, high_cost)
        return (forward * x_velocity + healthy(after) * healthy_reward - _ctrl_cost(ctrl, after["ctrl"])
                - contact_cost)

    return GymTerms(("qpos", "qvel", "xipos", "cinert", "cvel", "qfrc_actuator", "cfrc_ext", "ctrl"), observe,
                    reward, healthy, bool(base._terminate_when_unhealthy))


def _swimmer(base: Any) -> GymTerms:
    dt, forward, ctrl = base.dt, base._forward_reward_weight, base._ctrl_cost_weight
    skip = 2 if base._exclude_current_positions_from_observation else 0

    def observe(frame: Frame) -> np.ndarray:
        return np.concatenate([frame["qpos"][:, skip:], frame["qvel"]], axis=1)

    def reward(after: Frame, before: Frame, actions: np.ndarray) -> np.ndarray:
        x_velocity = (after["qpos"][:, 0] - before["qpos"][:, 0]) / dt
        return forward * x_velocity - _ctrl_cost(ctrl, actions)

    return GymTerms(("qpos", "qvel"), observe, reward)


def _body(base: Any, name: str) -> int:
    return mujoco.mj_name2id(base.model, mujoco.mjtObj.mjOBJ_BODY, name)


def _reacher(base: Any) -> GymTerms:
    fingertip, target = _body(base, "fingertip"), _body(base, "target")
    distance_weight, control_weight = base._reward_dist_weight, base._reward_control_weight

    def observe(frame: Frame) -> np.ndarray:
        qpos, theta = frame["qpos"], frame["qpos"][:, :2]
        offset = frame["xpos"][:, fingertip] - frame["xpos"][:, target]
        return np.concatenate([np.cos(theta), np.sin(theta), qpos[:, 2:], frame["qvel"][:, :2], offset[:, :2]],
                              axis=1)

    def reward(after: Frame, before: Frame, actions: np.ndarray) -> np.ndarray:
        offset = after["xpos"][:, fingertip] - after["xpos"][:, target]
        return (-np.linalg.norm(offset, axis=-1) * distance_weight
                - np.sum(np.square(actions), axis=-1) * control_weight)

    return GymTerms(("qpos", "qvel", "xpos"), observe, reward)


def _pusher(base: Any) -> GymTerms:
    tips, thing, goal = _body(base, "tips_arm"), _body(base, "object"), _body(base, "goal")
    near, distance, control = base._reward_near_weight, base._reward_dist_weight, base._reward_control_weight

    def observe(frame: Frame) -> np.ndarray:
        xpos = frame["xpos"]
        return np.concatenate([frame["qpos"][:, :7], frame["qvel"][:, :7], xpos[:, tips], xpos[:, thing],
                               xpos[:, goal]], axis=1)

    def reward(after: Frame, before: Frame, actions: np.ndarray) -> np.ndarray:
        xpos = after["xpos"]
        return (-np.linalg.norm(xpos[:, thing] - xpos[:, goal], axis=-1) * distance
                - np.sum(np.square(actions), axis=-1) * control
                - np.linalg.norm(xpos[:, thing] - xpos[:, tips], axis=-1) * near)

    return GymTerms(("qpos", "qvel", "xpos"), observe, reward)


def gym_terms(env_id: str, base: Any) -> GymTerms:
    """The batched formulas of Gymnasium's env `env_id`, with the weights and ranges read off its instance `base`."""
    family = env_id.split("-")[0]
    if family == "HalfCheetah":
        return _planar_walker(base, clip_velocity=False, healthy=None)
    if family == "Hopper":
        return _planar_walker(base, clip_velocity=True, healthy=_hopper_healthy(base))
    if family == "Walker2d":
        return _planar_walker(base, clip_velocity=True, healthy=_walker_healthy(base))
    makers = {"Ant": _ant, "Humanoid": _humanoid, "Swimmer": _swimmer, "Reacher": _reacher, "Pusher": _pusher}
    if family not in makers:
        raise ValueError(f"no batched formulas for Gymnasium env {env_id}")
    return makers[family](base)


class GymBatchBase(BatchedEnv):
    """What every batch of a Gymnasium adapter world shares: the gathered arrays (`Frame`), the batched formulas,
    the state view and auto-resets. A backend steps the physics (`_advance`) and resets one copy (`_reset_copy`),
    leaving each copy's arrays in its row of `_frame`."""

    def __init__(self, spec: RobotSpec, task: Task, num_envs: int, seed: int, first: Any) -> None:
        self.spec = spec
        self.num_envs = num_envs
        self.horizon = task.horizon
        self._seeds: list[int | None] = [seed + i for i in range(num_envs)]
        self._model: mujoco.MjModel = first.model
        self._frame_skip = int(first.frame_skip)
        self.dt = float(first.dt)
        self.action_low = np.asarray(first.action_space.low, dtype=np.float64)
        self.action_high = np.asarray(first.action_space.high, dtype=np.float64)
        self._terms = gym_terms(spec.env_id, first)
        self._fields = sorted(set(self._terms.fields) | self._state_arrays())
        self._frame: Frame = {name: np.zeros((num_envs, *np.shape(getattr(first.data, name))))
                              for name in self._fields}
        self._previous: Frame = {name: array.copy() for name, array in self._frame.items()}
        self.observation_size = int(self._terms.observe(self._frame).shape[1])
        self._torso = mujoco.mj_name2id(self._model, mujoco.mjtObj.mjOBJ_BODY, spec.torso)
        self._points = [(name, mujoco.mj_name2id(self._model, mujoco.mjtObj.mjOBJ_BODY, body))
                        for name, body in spec.bodies]
        self._qpos, self._qvel, _ = joint_slices(spec, self._model)
        self._torso_offset = self._model.body_pos[self._torso].copy()
        self._masses = self._model.body_mass.copy()
        self._steps = np.zeros(num_envs, dtype=np.int64)
        self._start = np.zeros((num_envs, 3))
        self._yaw = np.zeros(num_envs)
        self._yaw_turned = np.zeros(num_envs)
        self._actions = np.zeros((num_envs, self._model.nu))

    def _state_arrays(self) -> set[str]:
        """The MjData arrays the state view reads beyond qpos and qvel."""
        spec = self.spec
        fields = {"qpos", "qvel", "xpos"}
        if spec.kind != "arm":
            fields |= {"xmat", "xquat", "cvel"}
        if spec.mass_center:
            fields.add("xipos")
        if spec.contact_forces:
            fields.add("cfrc_ext")
        return fields

    @abstractmethod
    def _advance(self) -> None:
        """Step every copy's physics by one control step under `_actions`, its arrays gathered into `_frame`."""

    @abstractmethod
    def _reset_copies(self, indices: list[int]) -> None:
        """Start the next episode of these copies (their first with their seed), their arrays gathered."""

    def reset(self) -> np.ndarray:
        indices = list(range(self.num_envs))
        self._reset_copies(indices)
        self._after_reset(indices)
        return self._terms.observe(self._frame)

    def _after_reset(self, indices: list[int]) -> None:
        rows = np.asarray(indices)
        for name, array in self._frame.items():
            self._previous[name][rows] = array[rows]
        self._steps[rows] = 0
        if self.spec.kind != "arm":
            self._start[rows] = self._torso_position(self._frame)[rows]
            self._yaw[rows] = self._heading(self._frame)[rows]
        self._yaw_turned[rows] = 0.0

    def step(self, actions: np.ndarray) -> BatchStep:
        actions = np.asarray(actions, dtype=np.float64).reshape(self.num_envs, -1)
        self._actions[...] = actions
        for name, array in self._frame.items():
            self._previous[name][...] = array
        self._advance()
        after, before = self._frame, self._previous
        self._steps += 1
        observations = self._terms.observe(after)
        reward = self._terms.reward(after, before, actions)
        healthy = self._terms.healthy(after) if self._terms.healthy is not None else np.ones(self.num_envs, bool)
        terminated = ~healthy if self._terms.terminate_when_unhealthy else np.zeros(self.num_envs, dtype=bool)
        truncated = self._steps >= self.horizon
        state = self._state(after, before, healthy)
        final = observations.copy()
        done = np.flatnonzero(terminated | truncated)
        if len(done):
            indices = done.tolist()
            self._reset_copies(indices)
            self._after_reset(indices)
            observations[done] = self._terms.observe({name: array[done] for name, array in after.items()})
        return BatchStep(observations, reward, terminated, truncated, state, final)

    def _torso_position(self, frame: Frame) -> np.ndarray:
        kind = self.spec.kind
        if kind not in ("planar_xz", "planar_xy"):
            return frame["xpos"][:, self._torso].copy()
        position = np.tile(self._torso_offset, (self.num_envs, 1))
        position[:, 0] += frame["qpos"][:, 0]
        position[:, 1 if kind == "planar_xy" else 2] += frame["qpos"][:, 1]
        return position

    def _heading(self, frame: Frame) -> np.ndarray:
        xmat = frame["xmat"][:, self._torso]
        return np.arctan2(xmat[:, 3], xmat[:, 0])

    def _state(self, after: Frame, before: Frame, healthy: np.ndarray) -> dict[str, np.ndarray]:
        """`GymWorldEnv.state` for the whole batch."""
        spec, torso = self.spec, self._torso
        state: dict[str, np.ndarray] = {"time": self._steps * self.dt}
        if spec.kind == "arm":
            for name, body in self._points:
                state[name] = after["xpos"][:, body].copy()
        else:
            position = self._torso_position(after)
            xmat = after["xmat"][:, torso].reshape(-1, 3, 3)
            state["torso_pos"] = position
            state["torso_vel"] = (position - self._torso_position(before)) / self.dt
            state["displacement"] = position - self._start
            state["torso_angvel"] = after["cvel"][:, torso, :3].copy()
            state["torso_quat"] = after["xquat"][:, torso].copy()
            state["up"] = xmat[:, :, 2].copy()
            state["forward"] = xmat[:, :, 0].copy()
            if spec.kind in ("legged3d", "planar_xy"):
                yaw = self._heading(after)
                self._yaw_turned += (yaw - self._yaw + math.pi) % TWO_PI - math.pi
                self._yaw = yaw
                state["yaw_turned"] = self._yaw_turned.copy()
            if spec.mass_center:
                total = float(self._masses.sum())
                com = np.einsum("b,nbk->nk", self._masses, after["xipos"]) / total
                previous = np.einsum("b,nbk->nk", self._masses, before["xipos"]) / total
                state["com_pos"] = com
                state["com_vel"] = (com - previous) / self.dt
            if spec.healthy:
                state["is_healthy"] = healthy.copy()
            if spec.contact_forces:
                state["contact_forces"] = after["cfrc_ext"][:, 1:].copy()
        state["joint_pos"] = after["qpos"][:, self._qpos].copy()
        state["joint_vel"] = after["qvel"][:, self._qvel].copy()
        return state


class GymBatch(GymBatchBase):
    """N copies of a Gymnasium adapter world, each Gymnasium's own env, stepped in MuJoCo across `threads` threads;
    see the module doc."""

    def __init__(self, spec: RobotSpec, task: Task, num_envs: int, seed: int, threads: int = 1) -> None:
        self._envs: list[Any] = [gym.make(spec.env_id).unwrapped for _ in range(num_envs)]
        super().__init__(spec, task, num_envs, seed, self._envs[0])
        self._copies = [[(self._frame[name][index], getattr(env.data, name)) for name in self._fields]
                        for index, env in enumerate(self._envs)]
        self._threads = CopyThreads(num_envs, threads)

    def _gather(self, indices: Iterable[int]) -> None:
        copies = self._copies
        for index in indices:
            for target, source in copies[index]:
                target[...] = source

    def _simulate(self, indices: Iterable[int]) -> None:
        model_step, post = mujoco.mj_step, mujoco.mj_rnePostConstraint
        skip, actions, copies = self._frame_skip, self._actions, self._copies
        for index in indices:
            env = self._envs[index]
            data = env.data
            data.ctrl[:] = actions[index]
            model_step(env.model, data, nstep=skip)
            post(env.model, data)
            for target, source in copies[index]:
                target[...] = source

    def _advance(self) -> None:
        self._threads.run(self._simulate)

    def _reset_copies(self, indices: list[int]) -> None:
        for index in indices:
            seed, self._seeds[index] = self._seeds[index], None
            self._envs[index].reset(seed=seed)
        self._gather(indices)

    def close(self) -> None:
        self._threads.close()
        for env in self._envs:
            env.close()
