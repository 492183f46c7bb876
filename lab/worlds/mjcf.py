"""Any MuJoCo robot from its MJCF file: a world read off the model alone.

`mjcf:path/to/robot.xml` names such a world anywhere a world name is taken. From the model, with nothing written by
hand: the state (the root body's pose, velocity, up vector, heading and displacement; every body's position,
orientation and velocity in the world frame and its contact force; joints, actuators, sites, mocap bodies, the
centre of mass), the observation (qpos without the root's x and y, a hinge without limits as its cosine and sine,
then qvel), actions over the actuators' control ranges, Gymnasium-style seeded reset noise, a horizon, a description
for the writers, and task families from a few generic templates (move along an axis, turn, raise the root, stand
still, bring a point to a position).

Velocities of the root and the centre of mass are averaged over the last control step (position difference / dt), as
Gymnasium's locomotion rewards measure them. Each field says which way is better where that is known
(`StateField.better`), for the offline designer.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import math
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from lab.errors import LabError
from lab.worlds.batched import BatchedEnv, BatchStep, CopyThreads
from lab.worlds.core import Param, ParamValue, State, StateField, Task, TaskFamily, World
from lab.worlds.gym_robots import TWO_PI
from lab.worlds.task_file import TASK_FILE, read_task_file

PREFIX = "mjcf:"
CONTROL_DT = 0.02
"""Seconds of simulation per action (the frame skip is the nearest whole number of the model's timesteps)."""
HORIZON = 500
"""Actions per episode of the locomotion templates (10 s); reaching takes `REACH_HORIZON` (4 s)."""
REACH_HORIZON = 200
RESET_NOISE = 0.1
"""Scale of the reset noise: uniform in +-0.1 on joint positions, normal with deviation 0.1 on velocities."""
AXES = {"x": (0, 1.0), "-x": (0, -1.0), "y": (1, 1.0), "-y": (1, -1.0)}


@dataclass(frozen=True)
class Layout:
    """What the lab reads off a model: the root body, which way is forward, and the names of everything."""

    path: Path
    forward_axis: str
    root: int
    """The root body: the first body with a free joint, or the body asked for; 0 (the world) when none."""
    free: bool
    bodies: tuple[str, ...]
    joints: tuple[str, ...]
    qpos: np.ndarray = field(repr=False)
    """Address in qpos of each hinge or slide joint."""
    qvel: np.ndarray = field(repr=False)
    actuators: tuple[str, ...]
    sites: tuple[str, ...]
    mocap: tuple[str, ...]
    frame_skip: int
    angles: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    """Address in qpos of each hinge without limits: the observation gives its cosine and sine, not the angle,
    which grows without bound as it turns over."""
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    """Address in qpos of everything else the observation gives as it is (all but a free root's x and y)."""
    sensors: tuple[tuple[str, int, int], ...] = ()
    """Each named sensor: its name, address in sensordata and dimension."""
    world_geoms: tuple[tuple[str, int], ...] = ()
    """Each named geom of the world body (a fixed target, a marker) other than a plane: name and geom id."""


@dataclass(frozen=True)
class EpisodeSetup:
    """How a task sets up its episodes instead of the default reset noise: `prepare` edits a freshly loaded model
    once (a damping, a hidden marker), `initialize` draws each episode's start into a reset `data` (every copy of a
    batch has its own model, so it may move a target in it). MuJoCo's forward pass runs after it."""

    prepare: Callable[[mujoco.MjModel], None] | None = None
    initialize: Callable[[mujoco.MjModel, mujoco.MjData, np.random.Generator], None] | None = None


def read_layout(path: Path, forward_axis: str = "x", root: str | None = None,
                control_dt: float = CONTROL_DT) -> Layout:
    """Load the model at `path` and read its layout (one action lasting `control_dt` seconds, to the nearest whole
    number of the model's timesteps); a file MuJoCo cannot load is one clear error."""
    if forward_axis not in AXES:
        raise LabError(f"forward axis must be one of {', '.join(AXES)}, not {forward_axis!r}")
    model = load_model(path)

    def names(kind: mujoco.mjtObj, count: int, start: int = 0) -> tuple[str, ...]:
        return tuple(mujoco.mj_id2name(model, kind, i) or f"{kind.name[6:].lower()}{i}" for i in range(start, count))

    bodies = names(mujoco.mjtObj.mjOBJ_BODY, model.nbody, 1)
    if root is not None:
        root_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, root)
        if root_id <= 0:
            raise LabError(f"{path} has no body called {root!r}", hint=f"its bodies: {', '.join(bodies)}")
    else:
        free_bodies = [int(model.jnt_bodyid[j]) for j in range(model.njnt)
                       if int(model.jnt_type[j]) == int(mujoco.mjtJoint.mjJNT_FREE)]
        root_id = free_bodies[0] if free_bodies else (1 if model.nbody > 1 else 0)
    free = any(int(model.jnt_type[j]) == int(mujoco.mjtJoint.mjJNT_FREE) and model.jnt_bodyid[j] == root_id
               for j in range(model.njnt))
    moving = moving_joints(model)
    hinge = int(mujoco.mjtJoint.mjJNT_HINGE)
    angles = np.array([model.jnt_qposadr[j] for j in moving if int(model.jnt_type[j]) == hinge
                       and not model.jnt_limited[j]], dtype=np.int64)
    if model.nu == 0:
        raise LabError(f"{path} has no actuators: a policy could not move it",
                       hint="add <actuator> elements (motor, position, ...) for the joints to drive")
    return Layout(
        path=path, forward_axis=forward_axis, root=root_id, free=free, bodies=bodies,
        joints=tuple(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j) or f"joint{j}" for j in moving),
        qpos=np.array([model.jnt_qposadr[j] for j in moving], dtype=np.int64),
        qvel=np.array([model.jnt_dofadr[j] for j in moving], dtype=np.int64),
        actuators=tuple(_actuator_name(model, a) for a in range(model.nu)),
        sites=names(mujoco.mjtObj.mjOBJ_SITE, model.nsite),
        mocap=tuple(bodies[b - 1] for b in range(1, model.nbody) if model.body_mocapid[b] >= 0),
        frame_skip=max(1, round(control_dt / model.opt.timestep)),
        angles=angles,
        positions=np.array([a for a in range(2 if free else 0, model.nq) if a not in set(angles.tolist())],
                           dtype=np.int64),
        sensors=tuple((name, int(model.sensor_adr[i]), int(model.sensor_dim[i])) for i in range(model.nsensor)
                      if (name := mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_SENSOR, i))),
        world_geoms=tuple((name, g) for g in range(model.ngeom) if model.geom_bodyid[g] == 0
                          and int(model.geom_type[g]) != int(mujoco.mjtGeom.mjGEOM_PLANE)
                          and (name := mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g))
                          and mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, name) < 0),
    )


def moving_joints(model: mujoco.MjModel) -> list[int]:
    """The hinge and slide joints, in model order (what joint_pos and joint_vel hold)."""
    kinds = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
    return [j for j in range(model.njnt) if int(model.jnt_type[j]) in kinds]


def _actuator_name(model: mujoco.MjModel, actuator: int) -> str:
    """An actuator's name, or for an unnamed one what it drives ("front_hip motor")."""
    name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, actuator)
    if name:
        return name
    if int(model.actuator_trntype[actuator]) == int(mujoco.mjtTrn.mjTRN_JOINT):
        joint = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, int(model.actuator_trnid[actuator, 0]))
        if joint:
            return f"{joint} actuator"
    return f"actuator{actuator}"


COMPILED_MODELS_KEPT = 32
"""How many compiled models a process keeps (load_model); the oldest goes first."""
_compiled_models: dict[tuple[str, str], mujoco.MjModel] = {}
_compiled_models_lock = threading.Lock()


def load_model(path: Path) -> mujoco.MjModel:
    """The model of the MJCF file at `path`, a copy of its own (callers edit theirs: the suite's tasks move their
    targets each episode). A process compiles each version of a file once (its path and a hash of its text; a
    change to a file it includes is not seen by a process that compiled it before) and hands out copies:
    compiling the suite's walker took ~75 ms here against ~2.5 ms for a copy, and a batch makes one env per copy,
    `lab worlds check` three per task. A file MuJoCo cannot load is one clear error."""
    if not path.is_file():
        raise LabError(f"no MJCF file at {path}", hint="world names of this kind are mjcf:PATH/TO/robot.xml")
    key = (str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest())
    with _compiled_models_lock:
        compiled = _compiled_models.get(key)
    if compiled is None:
        try:
            compiled = mujoco.MjModel.from_xml_path(str(path))
        except ValueError as error:
            raise LabError(f"MuJoCo could not load {path}: {str(error).splitlines()[0]}") from None
        with _compiled_models_lock:
            _compiled_models[key] = compiled
            while len(_compiled_models) > COMPILED_MODELS_KEPT:
                del _compiled_models[next(iter(_compiled_models))]
    return copy.copy(compiled)


def advance(model: mujoco.MjModel, data: mujoco.MjData, frame_skip: int) -> None:
    """Step `frame_skip` physics steps so that what the state reads afterwards (positions, velocities, sensors of
    those stages) belongs to the final qpos and qvel, as the DeepMind Control suite steps: the second half of a step
    (the previous call, or the reset's forward pass, did the first), whole steps, then the first half of the next.
    Contact forces and acceleration-stage sensors (touch) are those of the last step taken: they are read before
    the first half of the next step rebuilds the contacts, whose forces are not solved until that step runs.
    MuJoCo's split step integrates with Euler whatever the model asks, so a model integrated with RK4 takes whole
    steps (the first half is then computed twice, as the suite does)."""
    if int(model.opt.integrator) == int(mujoco.mjtIntegrator.mjINT_RK4):
        mujoco.mj_step(model, data, nstep=frame_skip)
    else:
        mujoco.mj_step2(model, data)
        if frame_skip > 1:
            mujoco.mj_step(model, data, nstep=frame_skip - 1)
    mujoco.mj_rnePostConstraint(model, data)
    mujoco.mj_step1(model, data)


class MjcfEnv(gym.Env):
    """A Gymnasium env over one MJCF model, with the lab's state view; episodes end at the horizon."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": round(1 / CONTROL_DT)}  # noqa: RUF012 (Gymnasium's)

    def __init__(self, layout: Layout, horizon: int, seed: int | None = None, render_mode: str | None = None,
                 setup: EpisodeSetup | None = None) -> None:
        self.layout = layout
        self.model = load_model(layout.path)
        self.setup = setup or EpisodeSetup()
        if self.setup.prepare is not None:
            self.setup.prepare(self.model)
        self.data = mujoco.MjData(self.model)
        self.horizon = horizon
        self.render_mode = render_mode
        self.dt = layout.frame_skip * float(self.model.opt.timestep)
        limited = self.model.actuator_ctrllimited.astype(bool)
        ranges = self.model.actuator_ctrlrange
        self.low = np.where(limited, ranges[:, 0], -1.0)
        self.high = np.where(limited, ranges[:, 1], 1.0)
        self.action_space = gym.spaces.Box(self.low.astype(np.float32), self.high.astype(np.float32))
        size = len(layout.positions) + 2 * len(layout.angles) + self.model.nv
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (size,), dtype=np.float64)
        self._pending_seed = seed
        self._renderer: mujoco.Renderer | None = None
        self._masses = self.model.body_mass[1:].copy()
        self._steps = 0
        self._start = np.zeros(3)
        self._start_forward = np.array([1.0, 0.0, 0.0])
        self._previous_root = np.zeros(3)
        self._previous_com = np.zeros(3)
        self._heading = 0.0
        self._turned = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        if seed is None and self._pending_seed is not None:
            seed = self._pending_seed
            self.action_space.seed(seed)
        self._pending_seed = None
        super().reset(seed=seed)
        model, data, rng = self.model, self.data, self.np_random
        mujoco.mj_resetData(model, data)
        if self.setup.initialize is not None:
            self.setup.initialize(model, data, rng)
        else:
            data.qpos[self.layout.qpos] += rng.uniform(-RESET_NOISE, RESET_NOISE, len(self.layout.qpos))
            data.qvel[:] = RESET_NOISE * rng.standard_normal(model.nv)
        mujoco.mj_forward(model, data)
        self._steps = 0
        self._start = self._root_position()
        self._start_forward = level(self._forward_vector())
        self._previous_root = self._start.copy()
        self._previous_com = self._mass_center()
        self._heading = self._heading_now()
        self._turned = 0.0
        return self._get_obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._previous_root = self._root_position()
        self._previous_com = self._mass_center()
        self.data.ctrl[:] = np.clip(np.asarray(action, dtype=np.float64), self.low, self.high)
        advance(self.model, self.data, self.layout.frame_skip)
        self._steps += 1
        heading = self._heading_now()
        self._turned += (heading - self._heading + math.pi) % TWO_PI - math.pi
        self._heading = heading
        return self._get_obs(), 0.0, False, self._steps >= self.horizon, {}

    def _get_obs(self) -> np.ndarray:
        qpos, angles = self.data.qpos, self.data.qpos[self.layout.angles]
        return np.concatenate([qpos[self.layout.positions], np.cos(angles), np.sin(angles), self.data.qvel])

    def _root_position(self) -> np.ndarray:
        return self.data.xpos[self.layout.root].copy()

    def _mass_center(self) -> np.ndarray:
        return self._masses @ self.data.xipos[1:] / max(float(self._masses.sum()), 1e-12)

    def _forward_vector(self) -> np.ndarray:
        axis, sign = AXES[self.layout.forward_axis]
        return sign * self.data.xmat[self.layout.root].reshape(3, 3)[:, axis]

    def _heading_now(self) -> float:
        forward = self._forward_vector()
        return math.atan2(forward[1], forward[0])

    def state(self) -> dict[str, np.ndarray]:
        """The named state of the simulation now (one env, unbatched); see `mjcf_state_fields`."""
        model, data, layout = self.model, self.data, self.layout
        root = self._root_position()
        com = self._mass_center()
        body_angvel = data.cvel[1:, :3]
        lever = data.xpos[1:] - data.subtree_com[model.body_rootid[1:]]
        state = {
            "time": np.asarray(self._steps * self.dt),
            "root_pos": root,
            "root_vel": (root - self._previous_root) / self.dt,
            "displacement": root - self._start,
            "start_forward": self._start_forward.copy(),
            "root_quat": data.xquat[layout.root].copy(),
            "root_angvel": data.cvel[layout.root, :3].copy(),
            "up": data.xmat[layout.root].reshape(3, 3)[:, 2].copy(),
            "forward": self._forward_vector(),
            "heading": np.asarray(self._heading),
            "yaw_turned": np.asarray(self._turned),
            "com_pos": com,
            "com_vel": (com - self._previous_com) / self.dt,
            "body_pos": data.xpos[1:].copy(),
            "body_quat": data.xquat[1:].copy(),
            "body_linvel": data.cvel[1:, 3:] + np.cross(body_angvel, lever),
            "body_angvel": body_angvel.copy(),
            "contact_force": np.linalg.norm(data.cfrc_ext[1:, 3:], axis=-1),
            "joint_pos": data.qpos[layout.qpos].copy(),
            "joint_vel": data.qvel[layout.qvel].copy(),
            "ctrl": data.ctrl.copy(),
            "actuator_force": data.actuator_force.copy(),
            "body_up": data.xmat[1:].reshape(-1, 3, 3)[:, :, 2].copy(),
            "body_com": data.xipos[1:].copy(),
        }
        for index, name in enumerate(layout.sites):
            state[f"{name}_pos"] = data.site_xpos[index].copy()
        for name in layout.mocap:
            state[f"{name}_pos"] = data.mocap_pos[model.body_mocapid[layout.bodies.index(name) + 1]].copy()
        for name, geom in layout.world_geoms:
            state[f"{name}_pos"] = data.geom_xpos[geom].copy()
        for name, address, dim in layout.sensors:
            state[f"sensor_{name}"] = data.sensordata[address:address + dim].copy()
        return state

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.model, 240, 320)
        camera = mujoco.MjvCamera()
        mujoco.mjv_defaultFreeCamera(self.model, camera)
        camera.lookat[:] = self.data.xpos[self.layout.root] if self.layout.root else camera.lookat
        self._renderer.update_scene(self.data, camera)
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


def mjcf_state_fields(layout: Layout, model: mujoco.MjModel) -> tuple[StateField, ...]:
    """Every state array with its shape, unit, meaning and which way is better where that is known."""
    root = layout.bodies[layout.root - 1] if layout.root else "world"
    bodies, joints, actuators = ", ".join(layout.bodies), ", ".join(layout.joints), ", ".join(layout.actuators)
    nb, nj, nu = len(layout.bodies), len(layout.joints), len(layout.actuators)
    fields = [
        StateField("time", (), "s", "time since the episode began"),
        StateField("root_pos", (3,), "m", f"world position of the root body {root!r} (z up)", on_robot=True),
        StateField("root_vel", (3,), "m/s", "root body velocity averaged over the last control step"),
        StateField("displacement", (3,), "m", "root position minus its position at the episode's start"),
        StateField("start_forward", (3,), "", "the robot's forward direction at the episode's start, level (z 0) "
                                              "and of unit length: what forward, backward, left and right mean"),
        StateField("root_quat", (4,), "", "root orientation quaternion (w, x, y, z)"),
        StateField("root_angvel", (3,), "rad/s", "root angular velocity in the world frame"),
        StateField("up", (3,), "", "the root's up (z) axis in world coordinates; up[2] is 1 when upright",
                   better="higher"),
        StateField("forward", (3,), "", f"the root's forward axis ({layout.forward_axis} of its frame) in world "
                                        "coordinates"),
        StateField("heading", (), "rad", "angle of the forward axis about the vertical, from world +x"),
        StateField("yaw_turned", (), "rad", "total rotation about the vertical since the start (counter-clockwise +)"),
        StateField("com_pos", (3,), "m", "the whole robot's centre of mass", on_robot=True),
        StateField("com_vel", (3,), "m/s", "centre-of-mass velocity averaged over the last control step"),
        StateField("body_pos", (nb, 3), "m", f"world position of each body: {bodies}"),
        StateField("body_quat", (nb, 4), "", "world orientation quaternion (w, x, y, z) of each body"),
        StateField("body_linvel", (nb, 3), "m/s", "linear velocity of each body's origin in the world frame"),
        StateField("body_angvel", (nb, 3), "rad/s", "angular velocity of each body in the world frame"),
        StateField("contact_force", (nb,), "N", "magnitude of the external contact force on each body"),
        StateField("joint_pos", (nj,), "rad or m", f"positions of joints {joints}"),
        StateField("joint_vel", (nj,), "rad/s or m/s", "velocities of those joints"),
        StateField("ctrl", (nu,), "", f"control of each actuator ({actuators}), the action last applied",
                   better="lower"),
        StateField("actuator_force", (nu,), "N or N*m", "force each actuator applies", better="lower"),
        StateField("body_up", (nb, 3), "", "each body's z axis in world coordinates (body_up[:, i, 2] is 1 when "
                                           "body i is upright)"),
        StateField("body_com", (nb, 3), "m", "world position of each body's own centre of mass"),
    ]
    fields += [StateField(f"{name}_pos", (3,), "m", f"world position of site {name!r}",
                          on_robot=bool(model.site_bodyid[index])) for index, name in enumerate(layout.sites)]
    fields += [StateField(f"{name}_pos", (3,), "m", f"world position of mocap body {name!r} (a target it does "
                                                    "not push)") for name in layout.mocap]
    fields += [StateField(f"{name}_pos", (3,), "m", f"world position of the fixed geom {name!r}")
               for name, _ in layout.world_geoms]
    fields += [StateField(f"sensor_{name}", (dim,), SENSOR_UNITS.get(_sensor_kind(model, name), ""),
                          f"reading of the {_sensor_kind(model, name)} sensor {name!r}")
               for name, _, dim in layout.sensors]
    return tuple(fields)


SENSOR_UNITS = {"touch": "N", "subtreelinvel": "m/s", "velocimeter": "m/s", "gyro": "rad/s", "jointpos": "rad or m",
                "jointvel": "rad/s or m/s", "framepos": "m", "accelerometer": "m/s^2", "force": "N", "torque": "N*m",
                "subtreecom": "m", "framelinvel": "m/s", "frameangvel": "rad/s"}


def _sensor_kind(model: mujoco.MjModel, name: str) -> str:
    sensor = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SENSOR, name)
    return mujoco.mjtSensor(int(model.sensor_type[sensor])).name[len("mjSENS_"):].lower()


def level(forward: np.ndarray) -> np.ndarray:
    """A forward vector (or a batch of them) made level and of unit length (x when it points straight up)."""
    flat = np.array(forward, dtype=np.float64)
    flat[..., 2] = 0.0
    norm = np.linalg.norm(flat, axis=-1, keepdims=True)
    return np.where(norm > 1e-9, flat / np.maximum(norm, 1e-9), np.array([1.0, 0.0, 0.0]))


DIRECTIONS = ("forward", "backward", "left", "right")
MOVE_FITNESS = ('np.sum(state["root_vel"] * {"forward": 1.0, "backward": -1.0, "left": 0.0, "right": 0.0}['
                'params["direction"]] * state["start_forward"] + state["root_vel"] * {"forward": 0.0, "backward": '
                '0.0, "left": 1.0, "right": -1.0}[params["direction"]] * np.stack([-state["start_forward"][:, 1], '
                'state["start_forward"][:, 0], 0.0 * state["start_forward"][:, 2]], axis=-1), axis=-1)')
"""Velocity along the asked direction, relative to the robot's forward at the start (left is 90 degrees
counter-clockwise of it, seen from above), as a program writes it."""


def _direction(state: State, direction: str) -> np.ndarray:
    forward = state["start_forward"]
    left = np.stack([-forward[:, 1], forward[:, 0], np.zeros(len(forward))], axis=-1)
    return {"forward": forward, "backward": -forward, "left": left, "right": -left}[direction]


def mjcf_families(layout: Layout, model: mujoco.MjModel, name: str) -> dict[str, TaskFamily]:
    """The generic task templates that fit this robot: locomotion ones for a free-floating root, a point-to-position
    one for every robot with a site."""
    families: dict[str, TaskFamily] = {}
    if layout.free:
        speed = Param("speed", "average speed (m/s) over the episode that counts as success", default=0.5, low=0.0,
                      high=20.0)

        def move_fitness(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            return np.sum(state["root_vel"] * _direction(state, str(p["direction"])), axis=-1)

        def move_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            travelled = np.sum(state["displacement"] * _direction(state, str(p["direction"])), axis=-1)
            return travelled / np.maximum(state["time"], 1e-9) >= float(p["speed"])

        families["move"] = TaskFamily(
            "move", "walk, run or crawl {direction} as fast as it can", move_success,
            move_fitness, "velocity (m/s) in the asked direction, averaged over the episode", HORIZON,
            params=(Param("direction", "which way, from the robot's forward at the start (its root's "
                                       f"{layout.forward_axis} axis)", choices=DIRECTIONS, default="forward"), speed),
            fitness_expression=MOVE_FITNESS,
            in_other_words="walk, run, crawl, swim or drive forward or back, locomotion along a straight line")

        def turn_fitness(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            return (1.0 if p["direction"] == "left" else -1.0) * state["root_angvel"][:, 2]

        def turn_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            return (1.0 if p["direction"] == "left" else -1.0) * state["yaw_turned"] >= float(p["angle"])

        families["turn"] = TaskFamily(
            "turn", "turn {direction} in place", turn_success, turn_fitness,
            "yaw rate (rad/s) in the asked direction, averaged over the episode", HORIZON,
            params=(Param("direction", "which way to turn (left is counter-clockwise seen from above)",
                          choices=("left", "right"), default="left"),
                    Param("angle", "total turn (rad) that counts as success", default=TWO_PI, low=0.0, high=1e3)),
            fitness_expression='(1.0 if params["direction"] == "left" else -1.0) * state["root_angvel"][:, 2]',
            in_other_words="rotate, spin or change heading in place")

        def raise_fitness(state: State, _: Mapping[str, ParamValue]) -> np.ndarray:
            return state["displacement"][:, 2]

        def raise_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            return state["displacement"][:, 2] >= float(p["height"])

        families["raise"] = TaskFamily(
            "raise", "jump or raise the body as high as it can", raise_success, raise_fitness,
            "highest rise (m) of the root above its start", HORIZON,
            params=(Param("height", "rise (m) that counts as success", default=0.2, low=0.0, high=10.0),),
            success_when="any", fitness_over="max", fitness_expression='state["displacement"][:, 2]',
            in_other_words="jump, hop, lift itself up, stand up tall")

        def still_fitness(state: State, _: Mapping[str, ParamValue]) -> np.ndarray:
            return -np.linalg.norm(state["root_vel"], axis=-1)

        def still_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            drift = np.linalg.norm(state["displacement"][:, :2], axis=-1)
            return (drift <= float(p["radius"])) & (state["up"][:, 2] >= 0.7)

        families["stand_still"] = TaskFamily(
            "stand_still", "stay still and upright, without moving", still_success,
            still_fitness,
            "minus the root speed (m/s), averaged over the episode", HORIZON,
            params=(Param("radius", "how far (m) the root may drift and still succeed", default=0.2, low=0.0,
                          high=10.0),),
            fitness_expression='-np.linalg.norm(state["root_vel"], axis=-1)',
            in_other_words="balance and hold still, stand upright in one spot without moving away")
    if layout.sites:
        # The default goal is reachable by construction: where the first site is with every joint turned 0.5
        # (rad or m) from the initial pose, within its range.
        posed = mujoco.MjData(model)
        for joint, address in zip(moving_joints(model), layout.qpos, strict=True):
            low, high = model.jnt_range[joint] if model.jnt_limited[joint] else (-np.inf, np.inf)
            posed.qpos[address] = np.clip(model.qpos0[address] + 0.5, low, high)
        mujoco.mj_kinematics(model, posed)
        first = posed.site_xpos[0]

        def reach_distance(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            goal = np.array([float(p["x"]), float(p["y"]), float(p["z"])])
            return np.linalg.norm(state[f"{p['point']}_pos"] - goal, axis=-1)

        def reach_fitness(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            return -reach_distance(state, p)

        def reach_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            return reach_distance(state, p) <= float(p["tolerance"])

        def coordinate(index: int, label: str) -> Param:
            value = round(float(first[index]), 3)
            return Param(label, f"{label} (m) of the goal position in the world frame", default=value, low=-100.0,
                         high=100.0)

        families["reach"] = TaskFamily(
            "reach", "bring the {point} to the position ({x}, {y}, {z}) and hold it there",
            reach_success, reach_fitness, "minus the distance (m) from the point to the goal, at the end",
            REACH_HORIZON,
            params=(Param("point", "the site to bring there", choices=layout.sites, default=layout.sites[0]),
                    coordinate(0, "x"), coordinate(1, "y"), coordinate(2, "z"),
                    Param("tolerance", "distance (m) at the end that counts as success", default=0.05, low=0.0,
                          high=10.0)),
            fitness_over="final",
            fitness_expression='-np.linalg.norm(state[params["point"] + "_pos"] - np.array([params["x"], params["y"], '
                               'params["z"]]), axis=-1)',
            in_other_words="move the end effector, fingertip or tool to a target point")
    return families


def describe(layout: Layout, model: mujoco.MjModel) -> str:
    """What a writer is told about the robot: names, ranges and sizes that matter, read off the model."""
    joints = []
    for name, address in zip(layout.joints, layout.qpos, strict=True):
        joint = next(j for j in range(model.njnt) if model.jnt_qposadr[j] == address)
        limits = f" [{model.jnt_range[joint, 0]:.2f}, {model.jnt_range[joint, 1]:.2f}]" if model.jnt_limited[joint] \
            else ""
        kind = "slide" if int(model.jnt_type[joint]) == int(mujoco.mjtJoint.mjJNT_SLIDE) else "hinge"
        joints.append(f"{name} ({kind}{limits})")
    actuators = [f"{name} [{low:.2f}, {high:.2f}]" for name, low, high in
                 zip(layout.actuators, model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1], strict=True)]
    root = layout.bodies[layout.root - 1] if layout.root else "none"
    base = "free-floating (it can move about the world)" if layout.free else "fixed to the world"
    return (f"A MuJoCo robot read from {layout.path.name}: {len(layout.bodies)} bodies ({', '.join(layout.bodies)}), "
            f"root body {root!r}, {base}, total mass {float(model.body_mass.sum()):.2f} kg. Joints: "
            f"{', '.join(joints) or 'none'}. Actuators with their control ranges: {', '.join(actuators)}. "
            f"Sites: {', '.join(layout.sites) or 'none'}. Forward is the root's {layout.forward_axis} axis; z is up. "
            f"One action lasts {layout.frame_skip * model.opt.timestep:.3f} s.")


@dataclass
class MjcfWorld(World):
    """A world over one MJCF model; see the module doc."""

    layout: Layout | None = field(default=None, repr=False)
    setups: Mapping[str, EpisodeSetup] = field(default_factory=dict, repr=False)
    """A task family's own episode set-up (the default reset noise for a family not named)."""

    def make_env(self, task: Task | str | None = None, *, seed: int | None = None,
                 render_mode: str | None = None) -> gym.Env:
        assert self.layout is not None
        resolved = self.task(task)
        return MjcfEnv(self.layout, resolved.horizon, seed, render_mode, self.setups.get(resolved.family.name))

    def state_source(self) -> str:
        return inspect.getsource(MjcfEnv.state)

    def make_batch(self, task: Task | str | None, num_envs: int, *, seed: int = 0, threads: int = 1,
                   backend: str = "native", device: str = "auto") -> BatchedEnv:
        """Native batch: every copy's MuJoCo stepped in C across `threads`, its state computed as a batch."""
        if backend != "native":
            return super().make_batch(task, num_envs, seed=seed, threads=threads, backend=backend, device=device)
        assert self.layout is not None
        resolved = self.task(task)
        return MjcfBatch(self.layout, resolved, num_envs, seed, threads, self.setups.get(resolved.family.name))


def mjcf_world(path: Path, name: str | None = None, forward_axis: str = "x", root: str | None = None) -> MjcfWorld:
    """The world of the MJCF file at `path`, called `name` (by default `mjcf:PATH` as given)."""
    layout = read_layout(path, forward_axis, root)
    model = load_model(path)
    title = name or f"{PREFIX}{path}"
    robot = path.stem.replace("_", " ")
    families = mjcf_families(layout, model, robot)
    written = path.parent / TASK_FILE
    if written.is_file():
        families |= read_task_file(written, title, set(families))
    if not families:
        raise LabError(f"{path}: no task template fits this robot (its root is fixed and it has no site)",
                       hint=f"add a <site> where the robot's tool or fingertip is, give it a free joint, or write "
                            f"its tasks in {TASK_FILE} next to it (envs/README.md)")
    return MjcfWorld(
        name=title, summary=describe(layout, model), state_fields=mjcf_state_fields(layout, model),
        task_families=families,
        action_meaning=f"one number per actuator, in order: {', '.join(layout.actuators)}, each within its control "
                       "range",
        kind="locomotion" if layout.free else "manipulation",
        source_files=(path, written) if written.is_file() else (path,), layout=layout)


class MjcfBatch(BatchedEnv):
    """N copies of an MJCF world stepped in MuJoCo's C code across `threads` threads, the state computed for the
    whole batch from the gathered arrays by `MjcfEnv.state`'s formulas (equal to it copy by copy, tested). Each copy
    is an `MjcfEnv`, so its reset (seeded noise) is the env's own."""

    ARRAYS = ("qpos", "qvel", "xpos", "xquat", "xmat", "xipos", "cvel", "subtree_com", "cfrc_ext", "ctrl",
              "actuator_force", "site_xpos", "mocap_pos", "geom_xpos", "sensordata")

    def __init__(self, layout: Layout, task: Task, num_envs: int, seed: int, threads: int = 1,
                 setup: EpisodeSetup | None = None) -> None:
        self.layout = layout
        self.num_envs = num_envs
        self.horizon = task.horizon
        self._envs = [MjcfEnv(layout, task.horizon, seed + i, setup=setup) for i in range(num_envs)]
        first = self._envs[0]
        self._model = first.model
        self.dt = first.dt
        self.action_low, self.action_high = first.low.copy(), first.high.copy()
        self.observation_size = int(first.observation_space.shape[0])  # type: ignore[index]
        # Only the arrays this model's state reads are copied each step (a model with no sensors copies none).
        arrays = [name for name in self.ARRAYS if not (name == "geom_xpos" and not layout.world_geoms)
                  and not (name == "sensordata" and not layout.sensors)]
        self._frame = {name: np.zeros((num_envs, *np.shape(getattr(first.data, name)))) for name in arrays}
        self._copies = [[(self._frame[name][index], getattr(env.data, name)) for name in arrays]
                        for index, env in enumerate(self._envs)]
        self._masses = self._model.body_mass[1:].copy()
        self._roots = self._model.body_rootid[1:]
        self._mocap = [(name, int(self._model.body_mocapid[layout.bodies.index(name) + 1])) for name in layout.mocap]
        self._actions = np.zeros((num_envs, self._model.nu))
        self._steps = np.zeros(num_envs, dtype=np.int64)
        self._start = np.zeros((num_envs, 3))
        self._start_forward = np.zeros((num_envs, 3))
        self._heading = np.zeros(num_envs)
        self._turned = np.zeros(num_envs)
        self._threads = CopyThreads(num_envs, threads)

    def _gather(self, indices: Iterable[int]) -> None:
        for index in indices:
            for target, source in self._copies[index]:
                target[...] = source

    def _simulate(self, indices: Iterable[int]) -> None:
        skip = self.layout.frame_skip
        for index in indices:
            env = self._envs[index]
            env.data.ctrl[:] = self._actions[index]
            advance(env.model, env.data, skip)
            for target, source in self._copies[index]:
                target[...] = source

    def _root(self) -> np.ndarray:
        return self._frame["xpos"][:, self.layout.root].copy()

    def _com(self) -> np.ndarray:
        return np.einsum("b,nbk->nk", self._masses, self._frame["xipos"][:, 1:]) / max(float(self._masses.sum()),
                                                                                         1e-12)

    def _forward(self) -> np.ndarray:
        axis, sign = AXES[self.layout.forward_axis]
        return sign * self._frame["xmat"][:, self.layout.root].reshape(-1, 3, 3)[:, :, axis]

    def _observe(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        qpos = self._frame["qpos"][rows]
        angles = qpos[:, self.layout.angles]
        return np.concatenate([qpos[:, self.layout.positions], np.cos(angles), np.sin(angles),
                               self._frame["qvel"][rows]], axis=1)

    def _reset_copies(self, indices: list[int]) -> None:
        for index in indices:
            self._envs[index].reset()
        self._gather(indices)
        rows = np.asarray(indices)
        self._steps[rows] = 0
        self._start[rows] = self._root()[rows]
        forward = self._forward()[rows]
        self._start_forward[rows] = level(forward)
        self._heading[rows] = np.arctan2(forward[:, 1], forward[:, 0])
        self._turned[rows] = 0.0

    def reset(self) -> np.ndarray:
        self._reset_copies(list(range(self.num_envs)))
        return self._observe()

    def step(self, actions: np.ndarray) -> BatchStep:
        actions = np.asarray(actions, dtype=np.float64).reshape(self.num_envs, -1)
        self._actions[...] = np.clip(actions, self.action_low, self.action_high)
        root_before, com_before = self._root(), self._com()
        self._threads.run(self._simulate)
        self._steps += 1
        state = self._state(root_before, com_before)
        observations = self._observe()
        final = observations.copy()
        truncated = self._steps >= self.horizon
        done = np.flatnonzero(truncated)
        if len(done):
            self._reset_copies(done.tolist())
            observations[done] = self._observe(done)
        terminated = np.zeros(self.num_envs, dtype=bool)
        return BatchStep(observations, np.zeros(self.num_envs), terminated, truncated, state, final)

    def _state(self, root_before: np.ndarray, com_before: np.ndarray) -> dict[str, np.ndarray]:
        """`MjcfEnv.state` for the whole batch."""
        frame, layout = self._frame, self.layout
        root, com = self._root(), self._com()
        forward = self._forward()
        heading = np.arctan2(forward[:, 1], forward[:, 0])
        self._turned += (heading - self._heading + math.pi) % TWO_PI - math.pi
        self._heading = heading
        cvel = frame["cvel"]
        body_angvel = cvel[:, 1:, :3]
        lever = frame["xpos"][:, 1:] - frame["subtree_com"][:, self._roots]
        state = {
            "time": self._steps * self.dt,
            "root_pos": root,
            "root_vel": (root - root_before) / self.dt,
            "displacement": root - self._start,
            "start_forward": self._start_forward.copy(),
            "root_quat": frame["xquat"][:, layout.root].copy(),
            "root_angvel": cvel[:, layout.root, :3].copy(),
            "up": frame["xmat"][:, layout.root].reshape(-1, 3, 3)[:, :, 2].copy(),
            "forward": forward,
            "heading": heading.copy(),
            "yaw_turned": self._turned.copy(),
            "com_pos": com,
            "com_vel": (com - com_before) / self.dt,
            "body_pos": frame["xpos"][:, 1:].copy(),
            "body_quat": frame["xquat"][:, 1:].copy(),
            "body_linvel": cvel[:, 1:, 3:] + np.cross(body_angvel, lever),
            "body_angvel": body_angvel.copy(),
            "contact_force": np.linalg.norm(frame["cfrc_ext"][:, 1:, 3:], axis=-1),
            "joint_pos": frame["qpos"][:, layout.qpos].copy(),
            "joint_vel": frame["qvel"][:, layout.qvel].copy(),
            "ctrl": frame["ctrl"].copy(),
            "actuator_force": frame["actuator_force"].copy(),
            "body_up": frame["xmat"][:, 1:].reshape(self.num_envs, -1, 3, 3)[:, :, :, 2].copy(),
            "body_com": frame["xipos"][:, 1:].copy(),
        }
        for index, name in enumerate(layout.sites):
            state[f"{name}_pos"] = frame["site_xpos"][:, index].copy()
        for name, mocap in self._mocap:
            state[f"{name}_pos"] = frame["mocap_pos"][:, mocap].copy()
        for name, geom in layout.world_geoms:
            state[f"{name}_pos"] = frame["geom_xpos"][:, geom].copy()
        for name, address, dim in layout.sensors:
            state[f"sensor_{name}"] = frame["sensordata"][:, address:address + dim].copy()
        return state

    def close(self) -> None:
        self._threads.close()
        for env in self._envs:
            env.close()


WORLD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MODEL_FOLDER_LIMIT = 200 * 2**20
"""The most a robot's folder may hold to be copied with it (meshes and textures come along)."""
WORLD_MODULE = '''"""World {name}: the robot in model/{file}, read by lab.worlds.mjcf (written by `lab worlds add`)."""

from pathlib import Path

from lab.worlds.mjcf import mjcf_world


def make_world():
    return mjcf_world(Path(__file__).parent / "model" / {file!r}, name={name!r}, forward_axis={axis!r},
                      root={root!r})
'''


def add_world(name: str, source: Path, envs: Path, forward_axis: str = "x", root: str | None = None) -> Path:
    """Write the world folder `envs/NAME` for the MJCF file `source`: the model (with its folder's other files when
    it loads meshes, textures or includes) under model/, and a world.py that reads it. Everything is checked
    first (the name, the model, the options): a refusal leaves nothing behind."""
    if not WORLD_NAME.match(name):
        raise LabError(f"world name {name!r} is not a valid name",
                       hint="use lower_snake_case, starting with a letter, at most 64 characters (e.g. my_arm)")
    target = envs / name
    if target.exists():
        raise LabError(f"{target} already exists", hint="choose another name or remove that folder")
    mjcf_world(source, name=name, forward_axis=forward_axis, root=root)
    model = load_model(source)
    text = source.read_text(errors="replace")
    with_files = bool(model.nmesh or model.ntex or model.nhfield or model.nskin) or "<include" in text
    folder = source.parent
    if with_files:
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        if size > MODEL_FOLDER_LIMIT:
            raise LabError(f"{folder} holds {size / 2**20:.0f} MiB, more than a world folder takes "
                           f"({MODEL_FOLDER_LIMIT / 2**20:.0f} MiB)",
                           hint="put the robot's XML and only the files it loads in a folder of their own")
    staging = envs / f".{name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        if with_files:
            shutil.copytree(folder, staging / "model", ignore=shutil.ignore_patterns(".*", "__pycache__"))
        else:
            (staging / "model").mkdir(parents=True)
            shutil.copy2(source, staging / "model" / source.name)
            if (folder / TASK_FILE).is_file():
                shutil.copy2(folder / TASK_FILE, staging / "model" / TASK_FILE)
        (staging / "world.py").write_text(WORLD_MODULE.format(name=name, file=source.name, axis=forward_axis,
                                                              root=root))
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
