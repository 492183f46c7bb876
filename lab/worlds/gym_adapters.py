"""Worlds over Gymnasium's MuJoCo envs: the env's own task plus novel tasks, with a named state view.

The env stays Gymnasium's own (same observation, same built-in reward), so a policy trained here is a policy for
the standard benchmark; the adapter adds the state view, the seeded factory and the task's horizon.
"""

from __future__ import annotations

import ast
import inspect
import math
import textwrap
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np

from lab.worlds.core import Param, ParamValue, State, StateField, Task, TaskFamily, World
from lab.worlds.gym_batch import GymBatch, GymBatchBase
from lab.worlds.gym_robots import ROBOTS, TWO_PI, RobotSpec, joint_slices, object_names


class GymWorldEnv(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Gymnasium's env with the state view, a start seed, and the bookkeeping the state needs.

    Velocities in the state are averaged over the last control step (position difference / dt), exactly as
    Gymnasium computes the velocity its built-in reward uses.
    """

    def __init__(self, env: gym.Env, spec: RobotSpec, seed: int | None) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, spec=spec, seed=seed)
        gym.Wrapper.__init__(self, env)
        base: Any = env.unwrapped
        self._robot = spec
        self._base = base
        self._model: mujoco.MjModel = base.model
        self._data: mujoco.MjData = base.data
        self._dt = float(base.dt)
        self._pending_seed = seed
        self._torso = mujoco.mj_name2id(self._model, mujoco.mjtObj.mjOBJ_BODY, spec.torso)
        self._points = tuple(
            (name, mujoco.mj_name2id(self._model, mujoco.mjtObj.mjOBJ_BODY, body)) for name, body in spec.bodies
        )
        self._qpos, self._qvel, _ = joint_slices(spec, self._model)
        self._torso_offset = self._model.body_pos[self._torso].copy()
        self._masses = self._model.body_mass.copy()
        self._total_mass = float(self._masses.sum())
        self._tracks_yaw = spec.kind in ("legged3d", "planar_xy")
        self._tracks_torso = spec.kind != "arm"
        self._steps = 0
        self._start = np.zeros(3)
        self._prev_torso = np.zeros(3)
        self._prev_com = np.zeros(3)
        self._yaw = 0.0
        self._yaw_turned = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        if seed is None and self._pending_seed is not None:
            seed = self._pending_seed
            self.env.action_space.seed(seed)
        self._pending_seed = None
        observation, info = self.env.reset(seed=seed, options=options)
        self._steps = 0
        self._start = self._torso_position()
        self._prev_torso = self._start.copy()
        if self._robot.mass_center:
            self._prev_com = self._mass_center()
        self._yaw = self._heading()
        self._yaw_turned = 0.0
        return observation, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict]:
        if self._tracks_torso:
            self._prev_torso = self._torso_position()
        if self._robot.mass_center:
            self._prev_com = self._mass_center()
        result = self.env.step(action)
        self._steps += 1
        if self._tracks_yaw:
            yaw = self._heading()
            self._yaw_turned += (yaw - self._yaw + math.pi) % TWO_PI - math.pi
            self._yaw = yaw
        return result

    def _torso_position(self) -> np.ndarray:
        """The torso position as Gymnasium's reward measures it: from the root joints of planar robots, from the
        body position (as of the last physics substep) for free-floating ones."""
        kind, qpos = self._robot.kind, self._data.qpos
        if kind not in ("planar_xz", "planar_xy"):
            return self._data.xpos[self._torso].copy()
        position = self._torso_offset.copy()
        position[0] += qpos[0]
        position[1 if kind == "planar_xy" else 2] += qpos[1]
        return position

    def _mass_center(self) -> np.ndarray:
        return self._masses @ self._data.xipos / self._total_mass

    def _heading(self) -> float:
        xmat = self._data.xmat[self._torso]
        return math.atan2(xmat[3], xmat[0])

    def state(self) -> dict[str, np.ndarray]:
        """The named state of the simulation now (one env, unbatched)."""
        data, torso, spec = self._data, self._torso, self._robot
        state = {"time": np.asarray(self._steps * self._dt)}
        if spec.kind == "arm":
            for name, body in self._points:
                state[name] = data.xpos[body].copy()
        else:
            torso_pos = self._torso_position()
            xmat = data.xmat[torso].reshape(3, 3)
            state["torso_pos"] = torso_pos
            state["torso_vel"] = (torso_pos - self._prev_torso) / self._dt
            state["displacement"] = torso_pos - self._start
            state["torso_angvel"] = data.cvel[torso, :3].copy()
            state["torso_quat"] = data.xquat[torso].copy()
            state["up"] = xmat[:, 2].copy()
            state["forward"] = xmat[:, 0].copy()
            if self._tracks_yaw:
                state["yaw_turned"] = np.asarray(self._yaw_turned)
            if spec.mass_center:
                com = self._mass_center()
                state["com_pos"] = com
                state["com_vel"] = (com - self._prev_com) / self._dt
            if spec.healthy:
                state["is_healthy"] = np.asarray(bool(self._base.is_healthy))
            if spec.contact_forces:
                state["contact_forces"] = data.cfrc_ext[1:].copy()
        state["joint_pos"] = data.qpos[self._qpos].copy()
        state["joint_vel"] = data.qvel[self._qvel].copy()
        return state


def _state_fields(spec: RobotSpec, model: mujoco.MjModel) -> tuple[StateField, ...]:
    qpos, qvel, joints = joint_slices(spec, model)
    fields = [StateField("time", (), "s", "time since the episode began")]
    if spec.kind == "arm":
        for name, body in spec.bodies:
            fields.append(StateField(name, (3,), "m", f"world position of the {body} body"))
    else:
        planar = {"planar_xz": " (the robot moves in the x-z plane; y stays 0)",
                  "planar_xy": " (the robot moves in the x-y plane; z stays 0)"}.get(spec.kind, "")
        fields += [
            StateField("torso_pos", (3,), "m", f"world position of the torso (x forward, z up){planar}"),
            StateField("torso_vel", (3,), "m/s", "torso velocity averaged over the last control step"),
            StateField("displacement", (3,), "m", "torso position minus its position at the episode's start"),
            StateField("torso_angvel", (3,), "rad/s", "torso angular velocity in the world frame"),
            StateField("torso_quat", (4,), "", "torso orientation quaternion (w, x, y, z)"),
            StateField("up", (3,), "", "the torso's up axis in world coordinates; up[2] is 1 when upright"),
            StateField("forward", (3,), "", "the torso's forward (x) axis in world coordinates"),
        ]
        if spec.kind in ("legged3d", "planar_xy"):
            fields.append(StateField("yaw_turned", (), "rad",
                                     "total rotation about the vertical axis since the start (counter-clockwise +)"))
        if spec.mass_center:
            fields += [
                StateField("com_pos", (3,), "m", "the whole robot's centre of mass"),
                StateField("com_vel", (3,), "m/s", "centre-of-mass velocity averaged over the last control step"),
            ]
        if spec.healthy:
            fields.append(StateField("is_healthy", (), "bool",
                                     "whether the robot is in its healthy range (the episode ends when not)"))
        if spec.contact_forces:
            bodies = object_names(model, mujoco.mjtObj.mjOBJ_BODY, range(1, model.nbody))
            fields.append(StateField(
                "contact_forces", (model.nbody - 1, 6), "N, N*m",
                f"external contact wrench (torque, force) on each body: {', '.join(bodies)}",
            ))
    fields += [
        StateField("joint_pos", (qpos.stop - qpos.start,), "rad", f"angles of joints {', '.join(joints)}"),
        StateField("joint_vel", (qvel.stop - qvel.start,), "rad/s", "angular velocities of those joints"),
    ]
    return tuple(fields)


def _speed_of(spec: RobotSpec) -> str:
    return "com_vel" if spec.mass_center else "torso_vel"


def _healthy(state: State, spec: RobotSpec) -> np.ndarray:
    return np.asarray(state["is_healthy"], dtype=bool) if spec.healthy else np.ones(len(state["time"]), bool)


def _average_speed(state: State) -> np.ndarray:
    return state["displacement"][:, 0] / np.maximum(state["time"], 1e-9)


def _locomotion_families(spec: RobotSpec, horizon: int) -> dict[str, TaskFamily]:
    speed_param = Param("speed", "average speed (m/s) over the episode that counts as success",
                        default=spec.speed, low=0.0, high=20.0)
    velocity = _speed_of(spec)

    def forward_fitness(state: State, _: Mapping[str, ParamValue]) -> np.ndarray:
        return state[velocity][:, 0]

    def forward_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
        return (_average_speed(state) >= float(p["speed"])) & _healthy(state, spec)

    def backward_fitness(state: State, _: Mapping[str, ParamValue]) -> np.ndarray:
        return -state[velocity][:, 0]

    def backward_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
        return (-_average_speed(state) >= float(p["speed"])) & _healthy(state, spec)

    families = {
        "forward": TaskFamily(
            "forward", f"make the {spec.world} run forward (+x) as fast as it can",
            forward_success, forward_fitness, "forward velocity (m/s), averaged over the episode", horizon,
            params=(speed_param,), builtin_reward=True,
        ),
        "backward": TaskFamily(
            "backward", f"make the {spec.world} run backward (-x) as fast as it can",
            backward_success, backward_fitness, "backward velocity (m/s), averaged over the episode", horizon,
            params=(speed_param,),
        ),
    }
    if spec.kind in ("legged3d", "planar_xy"):
        def turn_fitness(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            sign = 1.0 if p["direction"] == "left" else -1.0
            return sign * state["torso_angvel"][:, 2]

        def turn_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            sign = 1.0 if p["direction"] == "left" else -1.0
            drift = np.linalg.norm(state["displacement"][:, :2], axis=-1)
            return (sign * state["yaw_turned"] >= float(p["angle"])) & (drift <= spec.turn_radius) & _healthy(
                state, spec
            )

        families["turn"] = TaskFamily(
            "turn", f"make the {spec.world} turn {{direction}} in place, staying within {spec.turn_radius} m of "
                    "where it started",
            turn_success, turn_fitness, "yaw rate (rad/s) in the asked direction, averaged over the episode", horizon,
            params=(Param("direction", "which way to turn (left is counter-clockwise seen from above)",
                          choices=("left", "right"), default="left"),
                    Param("angle", "total turn (rad) that counts as success", default=TWO_PI, low=0.0, high=1e3)),
        )
    if spec.kind in ("legged3d", "planar_xz"):
        def jump_fitness(state: State, _: Mapping[str, ParamValue]) -> np.ndarray:
            return state["displacement"][:, 2]

        def jump_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            return state["displacement"][:, 2] >= float(p["height"])

        def still_fitness(state: State, _: Mapping[str, ParamValue]) -> np.ndarray:
            return -np.linalg.norm(state["torso_vel"], axis=-1)

        def still_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            drift = np.linalg.norm(state["displacement"][:, :2], axis=-1)
            upright = state["up"][:, 2] >= 0.7
            return (drift <= float(p["radius"])) & upright & _healthy(state, spec)

        families["jump"] = TaskFamily(
            "jump", f"make the {spec.world} jump as high as it can",
            jump_success, jump_fitness, "highest rise (m) of the torso above its start position", horizon,
            params=(Param("height", "rise (m) of the torso above its start that counts as success",
                          default=spec.jump, low=0.0, high=5.0),),
            success_when="any", fitness_over="max",
        )
        families["stand_still"] = TaskFamily(
            "stand_still", f"make the {spec.world} stand still and upright without falling",
            still_success, still_fitness, "minus the torso speed (m/s), averaged over the episode", horizon,
            params=(Param("radius", "how far (m) the torso may drift and still succeed",
                          default=0.2, low=0.0, high=10.0),),
        )
    return families


def _arm_families(spec: RobotSpec, horizon: int) -> dict[str, TaskFamily]:
    if spec.world == "reacher":
        def reach_distance(state: State) -> np.ndarray:
            return np.linalg.norm(state["fingertip_pos"] - state["target_pos"], axis=-1)

        def reach_fitness(state: State, _: Mapping[str, ParamValue]) -> np.ndarray:
            return -reach_distance(state)

        def reach_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
            return reach_distance(state) <= float(p["tolerance"])

        return {"reach": TaskFamily(
            "reach", "move the reacher's fingertip to the target point and hold it there",
            reach_success, reach_fitness, "minus the fingertip-to-target distance (m), averaged over the episode",
            horizon, params=(Param("tolerance", "distance (m) at the end that counts as success",
                                   default=0.02, low=0.0, high=1.0),),
            builtin_reward=True,
        )}

    def push_distance(state: State) -> np.ndarray:
        return np.linalg.norm(state["object_pos"] - state["goal_pos"], axis=-1)

    def push_fitness(state: State, _: Mapping[str, ParamValue]) -> np.ndarray:
        return -push_distance(state)

    def push_success(state: State, p: Mapping[str, ParamValue]) -> np.ndarray:
        return push_distance(state) <= float(p["tolerance"])

    return {"push": TaskFamily(
        "push", "push the cylinder on the table to the goal position with the arm",
        push_success, push_fitness, "minus the object-to-goal distance (m) at the end of the episode", horizon,
        params=(Param("tolerance", "object-to-goal distance (m) at the end that counts as success",
                      default=0.05, low=0.0, high=1.0),),
        fitness_over="final", builtin_reward=True,
    )}


@dataclass
class GymWorld(World):
    """A world over one Gymnasium MuJoCo env."""

    robot_spec: RobotSpec = field(default=ROBOTS[0], repr=False)

    def make_env(self, task: Task | str | None = None, *, seed: int | None = None,
                 render_mode: str | None = None) -> gym.Env:
        bound = self.task(task)
        env = gym.make(self.robot_spec.env_id, max_episode_steps=bound.horizon, render_mode=render_mode)
        return GymWorldEnv(env, self.robot_spec, seed)

    def make_batch(self, task: Task | str | None, num_envs: int, *, seed: int = 0, threads: int = 1,
                   backend: str = "native", device: str = "auto") -> GymBatchBase:
        """Native batch: every copy's MuJoCo stepped in C across `threads`, its arrays read as a batch; or with
        `backend="warp"`, every copy a world of one MuJoCo Warp simulation on `device`."""
        if backend == "warp":
            from lab.worlds.warp_batch import WarpBatch  # heavy: NVIDIA Warp, an optional extra, loads its runtime

            return WarpBatch(self.robot_spec, self.task(task), num_envs, seed, device)
        return GymBatch(self.robot_spec, self.task(task), num_envs, seed, threads)

    def state_source(self) -> str:
        """How the state is computed for this robot: the adapter's code with every branch on the robot's spec
        decided, so a writer reads only what runs for this robot."""
        return specialised(inspect.getsource(GymWorldEnv.state), {"spec": self.robot_spec})


class _DecideBranches(ast.NodeTransformer):
    """Replaces each `if` whose condition reads only known names by the branch it takes."""

    def __init__(self, known: Mapping[str, Any]) -> None:
        self.known = dict(known)

    def visit_If(self, node: ast.If) -> Any:
        self.generic_visit(node)
        names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
        if not names or not names <= set(self.known):
            return node
        condition = compile(ast.Expression(node.test), "<condition>", "eval")
        taken = eval(condition, {"__builtins__": {}}, dict(self.known))  # our own adapter's code, on its own spec
        return (node.body if taken else node.orelse) or None


def specialised(source: str, known: Mapping[str, Any]) -> str:
    """`source` (a function of ours) with the branches on `known` values decided and the others kept."""
    tree = _DecideBranches(known).visit(ast.parse(textwrap.dedent(source)))
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


_SEEN_MUJOCO_WARNINGS: set[str] = set()


def _mujoco_warning(message: str) -> None:
    """MuJoCo's warnings as Python warnings, each text once per process: MuJoCo's own handler prints every one
    (HalfCheetah's model repeats a deprecation for every env made) and appends it to MUJOCO_LOG.TXT in the working
    directory."""
    if message not in _SEEN_MUJOCO_WARNINGS:
        _SEEN_MUJOCO_WARNINGS.add(message)
        warnings.warn(f"MuJoCo: {message.strip()}", RuntimeWarning, stacklevel=2)


def route_mujoco_warnings() -> None:
    """Send MuJoCo's warnings to Python's `warnings` module, unless the user has set a handler of their own."""
    if mujoco.get_mju_user_warning() is None:
        mujoco.set_mju_user_warning(_mujoco_warning)


def _make_gym_world(spec: RobotSpec) -> GymWorld:
    route_mujoco_warnings()
    probe = gym.make(spec.env_id)
    try:
        model = probe.unwrapped.model  # type: ignore[attr-defined]
        horizon = int(probe.spec.max_episode_steps) if probe.spec and probe.spec.max_episode_steps else 1000
        fields = _state_fields(spec, model)
        actuators = [
            mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, i)
            or mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, int(model.actuator_trnid[i, 0]))
            or f"#{i}"
            for i in range(model.nu)
        ]
        low, high = model.actuator_ctrlrange[:, 0].min(), model.actuator_ctrlrange[:, 1].max()
        action_meaning = (f"{model.nu} motor commands in [{low:g}, {high:g}], one per actuator: "
                          f"{', '.join(actuators)}")
    finally:
        probe.close()
    families = _arm_families(spec, horizon) if spec.kind == "arm" else _locomotion_families(spec, horizon)
    return GymWorld(
        name=spec.world,
        summary=f"{spec.summary} (Gymnasium {spec.env_id})",
        state_fields=fields,
        task_families=families,
        action_meaning=action_meaning,
        kind="manipulation" if spec.kind == "arm" else "locomotion",
        source_files=(Path(__file__),),
        robot_spec=spec,
        backends=("native", "warp"),
    )


def gym_worlds() -> dict[str, Any]:
    """Lazy constructors of the adapter worlds, by name."""
    return {spec.world: (lambda spec=spec: _make_gym_world(spec)) for spec in ROBOTS}
