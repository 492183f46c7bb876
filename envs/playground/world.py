"""The playground: a tabletop world for curriculum sessions, and the worked example of a folder world.

A mocap-driven two-finger gripper over a table with three cubes, a ball, three coloured target zones, a drawer
with a handle and a push button. Layouts are random but seeded. RL acts through a 4-D action (gripper delta xyz,
finger command); skill programs act through the robot API in `robot.py`. Task families are in `tasks.py`.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

from lab.worlds.batched import BatchedEnv
from lab.worlds.core import StateField, Task, World

from .batch import PlaygroundBatch
from .constants import (
    BALL_RADIUS,
    BUTTON_PRESSED,
    BUTTON_TRAVEL,
    CUBE_HALF,
    CUBES,
    DRAWER_INSIDE_HALF,
    DRAWER_MAX,
    DRAWER_RIM_Z,
    FINGER_MAX,
    FRAME_SKIP,
    GRASPABLE,
    GRIP_OFFSET,
    MAX_DELTA,
    OBJECTS,
    REST_Z,
    WINDUP,
    WORKSPACE_HIGH,
    WORKSPACE_LOW,
    ZONE_RADIUS,
    ZONES,
)
from .robot import ROBOT_API_DOC, PlaygroundRobot
from .solutions import SOLUTIONS
from .tasks import FAMILIES

FOLDER = Path(__file__).resolve().parent
SCENE = FOLDER / "scene.xml"

def _id(model: mujoco.MjModel, kind: mujoco.mjtObj, name: str) -> int:
    index = mujoco.mj_name2id(model, kind, name)
    if index < 0:
        raise ValueError(f"the playground scene has no {kind.name} named {name!r}")
    return index


class PlaygroundEnv(MujocoEnv):
    """The playground as a Gymnasium env for one task.

    Observation: gripper point, velocity and finger gap; every object's pose and velocity; zone centres;
    drawer opening, button depth and handle position; elapsed fraction of the horizon. Reward: always 0. The
    playground has no built-in reward: rewards are reward programs over the state, applied by the trainer
    (the lab keeps success and fitness apart from rewards; `rewards/playground/` holds the baselines).
    """

    metadata = {"render_modes": ["human", "rgb_array", "depth_array"], "render_fps": 50}  # noqa: RUF012

    def __init__(self, task: Task, seed: int | None = None, render_mode: str | None = None,
                 width: int = 640, height: int = 480, camera: str = "front") -> None:
        self.task = task
        observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(71,), dtype=np.float64)
        self._dt = 0.005 * FRAME_SKIP
        super().__init__(str(SCENE), FRAME_SKIP, observation_space, render_mode=render_mode, width=width,
                         height=height, camera_name=camera if render_mode else None)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        self._dt = float(self.model.opt.timestep * self.frame_skip)
        self._scalars = np.zeros(4)
        self._pending_seed = seed
        model = self.model
        body, geom, joint, site = (mujoco.mjtObj.mjOBJ_BODY, mujoco.mjtObj.mjOBJ_GEOM,
                                   mujoco.mjtObj.mjOBJ_JOINT, mujoco.mjtObj.mjOBJ_SITE)
        self._gripper_body = _id(model, body, "gripper")
        self._grip_site = _id(model, site, "grip")
        self._inside_site = _id(model, site, "drawer_inside")
        self._button_site = _id(model, site, "button_top")
        self._handle_geom = _id(model, geom, "handle")
        self._mocap = int(model.body_mocapid[_id(model, body, "gripper_target")])
        self._zone_mocaps = np.array([model.body_mocapid[_id(model, body, z)] for z in ZONES])
        self._object_qpos = np.array([model.jnt_qposadr[_id(model, joint, o)] for o in OBJECTS])
        self._object_qvel = np.array([model.jnt_dofadr[_id(model, joint, o)] for o in OBJECTS])
        self._gripper_qpos = int(model.jnt_qposadr[_id(model, joint, "gripper")])
        self._finger_qpos = np.array([model.jnt_qposadr[_id(model, joint, f)] for f in ("finger_left", "finger_right")])
        self._drawer_qpos = int(model.jnt_qposadr[_id(model, joint, "drawer_slide")])
        self._button_qpos = int(model.jnt_qposadr[_id(model, joint, "button_press")])
        objects_first, objects_last = int(self._object_qpos.min()), int(self._object_qpos.max()) + 7
        if objects_last - objects_first != 7 * len(OBJECTS):
            raise ValueError("the playground's objects must be consecutive free bodies in scene.xml")
        self._objects_qpos = slice(objects_first, objects_last)
        first_dof = int(self._object_qvel.min())
        self._objects_qvel = slice(first_dof, first_dof + 6 * len(OBJECTS))
        self._geom_owner = np.full(model.ngeom, -1, dtype=np.int64)
        for index, name in enumerate(GRASPABLE):
            self._geom_owner[_id(model, geom, name)] = index
        self._finger_side = np.zeros(model.ngeom, dtype=np.int64)
        self._finger_side[_id(model, geom, "finger_left")] = 1
        self._finger_side[_id(model, geom, "finger_right")] = 2
        gripper_bodies = {self._gripper_body, *(b for b in range(model.nbody)
                                                if model.body_parentid[b] == self._gripper_body)}
        self._gripper_geoms = np.array([g for g in range(model.ngeom) if model.geom_bodyid[g] in gripper_bodies])
        self._object_keys = tuple(
            (f"{o}_pos", f"{o}_vel", f"{o}_quat" if o in CUBES else "", f"{o}_grasped") for o in OBJECTS
        )
        self._zone_keys = tuple(f"{z}_pos" for z in ZONES)
        self._steps = 0
        self._finger_command = FINGER_MAX
        self._prev_grip = np.zeros(3)

    # ----- Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        if seed is None and self._pending_seed is not None:
            seed = self._pending_seed
            self.action_space.seed(seed)
        self._pending_seed = None
        return super().reset(seed=seed, options=options)

    @property
    def dt(self) -> float:
        return self._dt

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.advance(action)
        observation = self.observation()
        if self.render_mode == "human":
            self.render()
        return observation, 0.0, False, False, {}

    def advance(self, action: np.ndarray) -> None:
        """Apply one action and simulate one control step (what `step` does before it observes)."""
        action = np.minimum(np.maximum(np.asarray(action, dtype=np.float64), -1.0), 1.0)
        self._prev_grip = self.data.site_xpos[self._grip_site].copy()
        self._command(action[:3] * MAX_DELTA, FINGER_MAX * 0.5 * (float(action[3]) + 1.0))
        mujoco.mj_step(self.model, self.data, nstep=self.frame_skip)
        self._steps += 1

    def _command(self, delta: np.ndarray, finger: float) -> None:
        body_pos = self.data.xpos[self._gripper_body]
        target = np.minimum(np.maximum(self.data.mocap_pos[self._mocap] + delta, _MOCAP_LOW), _MOCAP_HIGH)
        self.data.mocap_pos[self._mocap] = np.minimum(np.maximum(target, body_pos - WINDUP), body_pos + WINDUP)
        self._finger_command = min(max(finger, 0.0), FINGER_MAX)
        self.data.ctrl[:] = self._finger_command

    def reset_model(self) -> np.ndarray:
        rng = self.np_random
        qpos = self.init_qpos.copy()
        qvel = np.zeros_like(self.init_qvel)
        zones = _scatter(rng, len(ZONES), min_gap=0.13, avoid=[])
        objects = _scatter(rng, len(OBJECTS), min_gap=0.075, avoid=[(z, 0.095) for z in zones])
        for index, zone in enumerate(zones):
            self.data.mocap_pos[self._zone_mocaps[index], :2] = zone
        for name, address, xy in zip(OBJECTS, self._object_qpos, objects, strict=True):
            yaw = rng.uniform(-0.4, 0.4) if name in CUBES else 0.0
            qpos[address:address + 3] = (xy[0], xy[1], REST_Z[name])
            qpos[address + 3:address + 7] = (np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2))
        grip = np.array([rng.uniform(-0.1, 0.1), rng.uniform(-0.2, -0.1), rng.uniform(0.18, 0.24)])
        body = grip - GRIP_OFFSET
        qpos[self._gripper_qpos:self._gripper_qpos + 7] = (*body, 1.0, 0.0, 0.0, 0.0)
        qpos[self._finger_qpos] = FINGER_MAX
        qpos[self._drawer_qpos] = 0.0
        qpos[self._button_qpos] = 0.0
        self.set_state(qpos, qvel)
        self.data.mocap_pos[self._mocap] = body
        self._finger_command = FINGER_MAX
        self.data.ctrl[:] = FINGER_MAX
        mujoco.mj_forward(self.model, self.data)
        self._steps = 0
        self._prev_grip = self.data.site_xpos[self._grip_site].copy()
        return self.observation()

    # ----- views of the simulation
    def observation(self) -> np.ndarray:
        """The observation the env returns, read now without stepping."""
        data = self.data
        grip = data.site_xpos[self._grip_site]
        scalars = self._scalars
        scalars[0] = data.qpos[self._finger_qpos[0]] + data.qpos[self._finger_qpos[1]]
        scalars[1] = data.qpos[self._drawer_qpos]
        scalars[2] = -data.qpos[self._button_qpos]
        scalars[3] = self._steps / self.task.horizon
        return np.concatenate((
            grip, (grip - self._prev_grip) / self._dt, data.qpos[self._objects_qpos], data.qvel[self._objects_qvel],
            data.mocap_pos[self._zone_mocaps, :2].ravel(), data.geom_xpos[self._handle_geom], scalars,
        ))

    def touching(self) -> np.ndarray:
        """Which graspable things (GRASPABLE order) each finger (left, right) touches: (len(GRASPABLE), 2) bools."""
        touching = np.zeros((len(GRASPABLE), 3), dtype=bool)
        ncon = self.data.ncon
        if ncon:
            pairs = self.data.contact.geom[:ncon]
            for a, b in ((pairs[:, 0], pairs[:, 1]), (pairs[:, 1], pairs[:, 0])):
                side, owner = self._finger_side[a], self._geom_owner[b]
                hits = (side > 0) & (owner >= 0)
                touching[owner[hits], side[hits]] = True
        return touching[:, 1:]

    def gripper_contacts(self) -> list[str]:
        """Names of the geoms, not the gripper's own, that the gripper touches now."""
        ncon = self.data.ncon
        if not ncon:
            return []
        pairs = self.data.contact.geom[:ncon]
        mine = np.isin(pairs, self._gripper_geoms)
        others = set(pairs[mine[:, 0], 1].tolist()) | set(pairs[mine[:, 1], 0].tolist())
        return sorted(self.geom_name(g) for g in others - set(self._gripper_geoms.tolist()))

    def state(self) -> dict[str, np.ndarray]:
        """The named state of the simulation now (one env, unbatched)."""
        data = self.data
        qpos, qvel = data.qpos.copy(), data.qvel.copy()
        grip = data.site_xpos[self._grip_site].copy()
        grasped = self.touching().all(axis=1)
        state = {
            "time": np.asarray(self._steps * self.dt),
            "gripper_pos": grip,
            "gripper_vel": (grip - self._prev_grip) / self._dt,
            "finger_gap": np.asarray(qpos[self._finger_qpos].sum()),
        }
        for index, (pos_key, vel_key, quat_key, grasp_key) in enumerate(self._object_keys):
            address, dof = self._object_qpos[index], self._object_qvel[index]
            state[pos_key] = qpos[address:address + 3]
            state[vel_key] = qvel[dof:dof + 3]
            if quat_key:
                state[quat_key] = qpos[address + 3:address + 7]
            state[grasp_key] = grasped[index]
        for mocap, key in zip(self._zone_mocaps, self._zone_keys, strict=True):
            zone = data.mocap_pos[mocap].copy()
            zone[2] = 0.0
            state[key] = zone
        state["drawer_opening"] = qpos[self._drawer_qpos]
        state["handle_pos"] = data.geom_xpos[self._handle_geom].copy()
        state["handle_grasped"] = grasped[len(OBJECTS)]
        state["drawer_inside_pos"] = data.site_xpos[self._inside_site].copy()
        state["button_pos"] = data.site_xpos[self._button_site].copy()
        state["button_depth"] = -qpos[self._button_qpos]
        return state

    def geom_name(self, geom: int) -> str:
        return mujoco.mj_id2name(self.model, mujoco.mjtObj.mjOBJ_GEOM, geom) or f"geom {geom}"


_MOCAP_LOW = WORKSPACE_LOW - GRIP_OFFSET
_MOCAP_HIGH = WORKSPACE_HIGH - GRIP_OFFSET


_LAYOUT_LOW = np.array([-0.32, -0.28])
_LAYOUT_HIGH = np.array([0.32, 0.12])


def _scatter(rng: np.random.Generator, count: int, min_gap: float,
             avoid: list[tuple[np.ndarray, float]]) -> list[np.ndarray]:
    """`count` points on the free part of the table, `min_gap` apart and clear of `avoid` (point, radius)."""
    points: list[np.ndarray] = []
    for _ in range(10_000):
        point = rng.uniform(_LAYOUT_LOW, _LAYOUT_HIGH)
        in_drawer_path = abs(point[0]) < 0.14 and point[1] > -0.05
        near_button = np.linalg.norm(point - (0.28, 0.3)) < 0.12
        if in_drawer_path or near_button:
            continue
        if any(np.linalg.norm(point - p) < min_gap for p in points):
            continue
        if any(np.linalg.norm(point - p) < r for p, r in avoid):
            continue
        points.append(point)
        if len(points) == count:
            return points
    raise RuntimeError("could not lay out the playground; the layout area is too small for its objects")


def _state_fields() -> tuple[StateField, ...]:
    fields = [
        StateField("time", (), "s", "time since the episode began (one env step is 0.02 s)"),
        StateField("gripper_pos", (3,), "m", "the grip point between the two fingers (1.5 cm above the fingertips)"),
        StateField("gripper_vel", (3,), "m/s", "grip point velocity over the last step"),
        StateField("finger_gap", (), "m", "distance between the fingers' inner faces: 0 closed, 0.09 fully open"),
    ]
    for name in OBJECTS:
        shape = f"a {2 * CUBE_HALF:g} m cube" if name in CUBES else f"a ball of radius {BALL_RADIUS} m"
        fields.append(StateField(f"{name}_pos", (3,), "m",
                                 f"centre of {name} ({shape}; resting on the table its z is {REST_Z[name]})"))
        fields.append(StateField(f"{name}_vel", (3,), "m/s", f"linear velocity of {name}"))
        if name in CUBES:
            fields.append(StateField(f"{name}_quat", (4,), "", f"orientation quaternion (w, x, y, z) of {name}"))
        fields.append(StateField(f"{name}_grasped", (), "bool", f"whether both fingers touch {name}"))
    for name in ZONES:
        fields.append(StateField(f"{name}_pos", (3,), "m",
                                 f"centre of the {name.split('_')[1]} target zone, a disc of radius {ZONE_RADIUS} m "
                                 "on the table"))
    fields += [
        StateField("drawer_opening", (), "m", f"how far the drawer is pulled out: 0 closed, {DRAWER_MAX} fully open"),
        StateField("handle_pos", (3,), "m", "centre of the drawer's handle (pull it towards -y to open)"),
        StateField("handle_grasped", (), "bool", "whether both fingers touch the handle"),
        StateField("drawer_inside_pos", (3,), "m",
                   f"centre of the drawer's inner floor (inner half-size {DRAWER_INSIDE_HALF[0]} x "
                   f"{DRAWER_INSIDE_HALF[1]} m, rim at z {DRAWER_RIM_Z}); only the part in front of the cabinet "
                   "(y < 0.2) is reachable"),
        StateField("button_pos", (3,), "m", "top centre of the push button's cap"),
        StateField("button_depth", (), "m",
                   f"how far the button is pressed down: 0 up, {BUTTON_TRAVEL} fully; pressed beyond "
                   f"{BUTTON_PRESSED}"),
    ]
    return tuple(fields)


class PlaygroundWorld(World):
    """The playground world: envs, robot API, and reference solutions."""

    def make_env(self, task: Task | str | None = None, *, seed: int | None = None,
                 render_mode: str | None = None) -> gym.Env:
        bound = self.task(task)
        env = PlaygroundEnv(bound, seed=seed, render_mode=render_mode)
        return gym.wrappers.TimeLimit(env, max_episode_steps=bound.horizon)

    def state_source(self) -> str:
        return inspect.getsource(PlaygroundEnv.state)

    def observe(self, env: gym.Env) -> np.ndarray:
        return env.unwrapped.observation()  # type: ignore[attr-defined]

    def robot(self, env: gym.Env, max_steps: int | None = None) -> PlaygroundRobot:
        return PlaygroundRobot(env.unwrapped, max_steps=max_steps)  # type: ignore[arg-type]

    def robot_api_doc(self) -> str:
        return ROBOT_API_DOC

    def reference_solutions(self) -> dict[str, Any]:
        return dict(SOLUTIONS)

    def make_batch(self, task: Task | str | None, num_envs: int, *, seed: int = 0, threads: int = 1,
                   backend: str = "native", device: str = "auto") -> BatchedEnv:
        """Native batch: every copy's physics stepped on `threads` threads, observations and states computed for
        the whole batch (envs/playground/batch.py)."""
        if backend != "native":
            return super().make_batch(task, num_envs, seed=seed, threads=threads, backend=backend, device=device)
        bound = self.task(task)
        return PlaygroundBatch([PlaygroundEnv(bound, seed=seed + index) for index in range(num_envs)], threads)


def make_world() -> PlaygroundWorld:
    return PlaygroundWorld(
        name="playground",
        summary="a table with a two-finger gripper, three cubes, a ball, three target zones, a drawer and a button",
        state_fields=_state_fields(),
        task_families=FAMILIES,
        action_meaning=(f"4 numbers in [-1, 1]: the gripper's move in x, y, z (times {MAX_DELTA} m per step) and "
                        "the finger command (-1 closed, +1 fully open)"),
        kind="manipulation",
        source_files=tuple(sorted(p for p in FOLDER.iterdir() if p.suffix in (".py", ".xml"))),
    )
