"""The DeepMind Control suite as lab worlds: `dmc-DOMAIN` (dmc-cartpole, dmc-walker, ...), one task family per task.

Each world is the suite's own MJCF model (lab/worlds/dmc_suite/, copied from dm-control 1.0.50, Apache-2.0) read
through the MJCF path (`lab.worlds.mjcf`): the same state view, observation and native batch as any robot. What
this module adds is the suite's: its control timestep, its episode start (each task's `initialize_episode`), and its
per-step reward in [0, 1]. A task's fitness is that reward summed over the 1000-step episode (the suite's 0-1000
score); its success is the last step earning at least `SUCCESS_LEVEL`; its human baseline (rewards/dmc-DOMAIN/
TASK/human.py) is the suite's reward as a sandboxed program, equal to dm-control's within 1e-6 (tested against
rollouts recorded from dm-control itself, tests/worlds/dmc_reference.py); its sparse baseline pays 1 only inside
the reward's bounds (no margins), as the suite's own `*_sparse` tasks do.

dm-control is not a dependency: 1.0.50 does not load on mujoco 4.0.0 (which mujoco-warp 4.0 pairs with), so the
lab keeps its mujoco and takes the suite's models and rewards, checked against dm-control run in an environment of
its own. Tasks that need a geom the state view does not carry are left out (fish swim: the mouth), as are domains
built by editing XML in code (swimmer, quadruped, manipulator, stacker) and the dog and CMU humanoid.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import mujoco
import numpy as np

from lab.worlds.core import ParamValue, State, TaskFamily
from lab.worlds.mjcf import EpisodeSetup, MjcfWorld, describe, load_model, mjcf_state_fields, read_layout

PREFIX = "dmc-"
SUITE_DIR = Path(__file__).parent / "dmc_suite"
EPISODE = 1000
"""Actions per episode in every task here (the suite's time limit over its control timestep)."""
SUCCESS_LEVEL = 0.8
"""A task succeeds when its last step earns at least this much of the most a step can (1)."""
Array = np.ndarray
warnings.filterwarnings("ignore", message=r".*compiler attribute 'settotalmass' is deprecated")
"""The suite's cheetah sets its total mass in the compiler (deprecated by mujoco 4.0, still honoured); the model is
kept as the suite ships it, so that warning says nothing to a user."""


def tolerance(x: Array, lower: float = 0.0, upper: float = 0.0, margin: float = 0.0, sigmoid: str = "gaussian",
              value_at_margin: float = 0.1) -> Array:
    """dm-control's `rewards.tolerance`: 1 inside [lower, upper], falling off over `margin` outside it (to
    `value_at_margin` at one margin's distance), for the sigmoids the suite's tasks use."""
    x = np.asarray(x, dtype=np.float64)
    inside = (lower <= x) & (x <= upper)
    if margin == 0:
        return np.where(inside, 1.0, 0.0)
    d = np.where(x < lower, lower - x, x - upper) / margin
    if sigmoid == "gaussian":
        fall = np.exp(-0.5 * (d * np.sqrt(-2 * np.log(value_at_margin))) ** 2)
    elif sigmoid == "linear":
        scaled = d * (1 - value_at_margin)
        fall = np.where(np.abs(scaled) < 1, 1 - scaled, 0.0)
    elif sigmoid == "quadratic":
        scaled = d * np.sqrt(1 - value_at_margin)
        fall = np.where(np.abs(scaled) < 1, 1 - scaled**2, 0.0)
    else:
        raise ValueError(f"unknown sigmoid {sigmoid!r}")
    return np.where(inside, 1.0, fall)


@dataclass(frozen=True)
class Names:
    """Indices of a model's bodies, joints and sites in the state's per-body and per-joint arrays."""

    model: mujoco.MjModel

    def body(self, name: str) -> int:
        return mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, name) - 1

    def qpos(self, joint: str) -> int:
        return int(self.model.jnt_qposadr[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, joint)])

    def site_size(self, site: str) -> np.ndarray:
        return self.model.site_size[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_SITE, site)]

    def geom_size(self, geom: str) -> np.ndarray:
        return self.model.geom_size[mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_GEOM, geom)]


Reward = Callable[[State, Names], Array]
Initialize = Callable[[mujoco.MjModel, mujoco.MjData, np.random.Generator], None]


@dataclass(frozen=True)
class SuiteTask:
    """One task of the suite: its words, its per-step reward in [0, 1] and how its episodes start."""

    name: str
    description: str
    reward: Reward
    initialize: Initialize
    prepare: Callable[[mujoco.MjModel], None] | None = None
    in_other_words: str = ""


@dataclass(frozen=True)
class Domain:
    """One body of the suite: its model file, control timestep, what a writer is told, and its tasks."""

    name: str
    control_dt: float
    summary: str
    tasks: tuple[SuiteTask, ...]
    kind: Literal["locomotion", "manipulation"] = "locomotion"


# Episode starts, as the suite's tasks draw them (with the lab's seeded generator instead of a RandomState).

def randomize_joints(model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator) -> None:
    """dm-control's `randomize_limited_and_rotational_joints`: limited hinges and slides uniform in their range,
    free hinges uniform in [-pi, pi], free joints' orientation drawn as the suite draws it (rand, normalized)."""
    for joint in range(model.njnt):
        kind, address = int(model.jnt_type[joint]), int(model.jnt_qposadr[joint])
        if kind in (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)):
            if model.jnt_limited[joint]:
                data.qpos[address] = rng.uniform(*model.jnt_range[joint])
            elif kind == int(mujoco.mjtJoint.mjJNT_HINGE):
                data.qpos[address] = rng.uniform(-math.pi, math.pi)
        elif kind == int(mujoco.mjtJoint.mjJNT_BALL):
            quaternion = rng.standard_normal(4)
            data.qpos[address:address + 4] = quaternion / np.linalg.norm(quaternion)
        elif kind == int(mujoco.mjtJoint.mjJNT_FREE):
            quaternion = rng.random(4)
            data.qpos[address + 3:address + 7] = quaternion / np.linalg.norm(quaternion)


def until_free_of_contacts(draw: Initialize, attempts: int = 1000) -> Initialize:
    """Draw again until nothing touches (the suite's loop for bodies that would start interpenetrating)."""

    def initialize(model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator) -> None:
        for _ in range(attempts):
            draw(model, data, rng)
            mujoco.mj_forward(model, data)
            if data.ncon == 0:
                return

    return initialize


def set_joints(**draws: Callable[[np.random.Generator], float]) -> Initialize:
    """Set named joints to values drawn from the generator, in the order given; velocities stay zero."""

    def initialize(model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator) -> None:
        names = Names(model)
        for joint, draw in draws.items():
            data.qpos[names.qpos(joint)] = draw(rng)

    return initialize


def _cartpole_start(swing_up: bool) -> Initialize:
    def initialize(model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator) -> None:
        if swing_up:
            data.qpos[0] = 0.01 * rng.standard_normal()
            data.qpos[1] = math.pi + 0.01 * rng.standard_normal()
        else:
            data.qpos[0] = rng.uniform(-0.1, 0.1)
            data.qpos[1:] = rng.uniform(-0.034, 0.034, model.nv - 1)
        data.qvel[:] = 0.01 * rng.standard_normal(model.nv)

    return initialize


def _cheetah_start(model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator) -> None:
    """Limited joints uniform in range, then 200 physics steps of settling (the suite's start), clock at zero."""
    limited = model.jnt_limited.astype(bool)
    data.qpos[limited] = rng.uniform(model.jnt_range[limited, 0], model.jnt_range[limited, 1])
    mujoco.mj_step(model, data, nstep=200)
    data.time = 0.0


def _finger_turn_start(model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator) -> None:
    """A target on the spinner's circle at a random angle (moved in this copy's model), then a contact-free pose."""
    angle = rng.uniform(-math.pi, math.pi)
    mujoco.mj_kinematics(model, data)
    hinge = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, "hinge")
    anchor = data.xanchor[hinge]
    radius = float(Names(model).geom_size("cap1").sum())
    target = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, "target")
    model.site_pos[target, 0] = anchor[0] + radius * math.sin(angle)
    model.site_pos[target, 2] = anchor[2] + radius * math.cos(angle)
    until_free_of_contacts(randomize_joints)(model, data, rng)


def _reacher_start(model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator) -> None:
    """Joints at random, the target (moved in this copy's model) at a random angle and radius 0.05-0.20 m."""
    randomize_joints(model, data, rng)
    angle, radius = rng.uniform(0, 2 * math.pi), rng.uniform(0.05, 0.20)
    target = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "target")
    model.geom_pos[target, 0] = radius * math.sin(angle)
    model.geom_pos[target, 1] = radius * math.cos(angle)


def _fish_start(model: mujoco.MjModel, data: mujoco.MjData, rng: np.random.Generator) -> None:
    quaternion = rng.standard_normal(4)
    data.qpos[3:7] = quaternion / np.linalg.norm(quaternion)
    names = Names(model)
    for joint in ("tail1", "tail_twist", "tail2", "finright_roll", "finright_pitch", "finleft_roll", "finleft_pitch"):
        data.qpos[names.qpos(joint)] = rng.uniform(-0.2, 0.2)


def _set(kind: mujoco.mjtObj, attribute: str, name: str, index: int, value: float) -> Callable[[mujoco.MjModel], None]:
    """A model edit: `model.ATTRIBUTE[id of NAME, index] = value`."""

    def prepare(model: mujoco.MjModel) -> None:
        getattr(model, attribute)[mujoco.mj_name2id(model, kind, name), index] = value

    return prepare


def _both(*edits: Callable[[mujoco.MjModel], None]) -> Callable[[mujoco.MjModel], None]:
    def prepare(model: mujoco.MjModel) -> None:
        for edit in edits:
            edit(model)

    return prepare


# Rewards: the suite's `get_reward`, over a batch of states.

def small_control(state: State) -> Array:
    """The suite's control bonus: (4 + mean quadratic tolerance of each control) / 5."""
    return (4 + tolerance(state["ctrl"], margin=1, value_at_margin=0, sigmoid="quadratic").mean(axis=-1)) / 5


def _cartpole_reward(sparse: bool) -> Reward:
    def reward(state: State, names: Names) -> Array:
        cart, cosine = state["joint_pos"][:, 0], state["body_up"][:, names.body("pole_1"), 2]
        if sparse:
            return tolerance(cart, -0.25, 0.25) * tolerance(cosine, 0.995, 1)
        upright = (cosine + 1) / 2
        centered = (1 + tolerance(cart, margin=2)) / 2
        control = (4 + tolerance(state["ctrl"][:, 0], margin=1, value_at_margin=0, sigmoid="quadratic")) / 5
        velocity = (1 + tolerance(state["joint_vel"][:, 1:], margin=5).min(axis=-1)) / 2
        return upright * control * velocity * centered

    return reward


def _pendulum_reward(state: State, names: Names) -> Array:
    return tolerance(state["body_up"][:, names.body("pole"), 2], math.cos(math.radians(8)), 1)


def _acrobot_reward(sparse: bool) -> Reward:
    def reward(state: State, names: Names) -> Array:
        distance = np.linalg.norm(state["target_pos"] - state["tip_pos"], axis=-1)
        return tolerance(distance, 0, float(names.site_size("target")[0]), margin=0 if sparse else 1)

    return reward


def _cheetah_reward(state: State, _: Names) -> Array:
    return tolerance(state["sensor_torso_subtreelinvel"][:, 0], 10, math.inf, margin=10, value_at_margin=0,
                     sigmoid="linear")


def _walker_reward(speed: float) -> Reward:
    def reward(state: State, names: Names) -> Array:
        torso = names.body("torso")
        standing = tolerance(state["body_pos"][:, torso, 2], 1.2, math.inf, margin=0.6)
        upright = (1 + state["body_up"][:, torso, 2]) / 2
        stand = (3 * standing + upright) / 4
        if speed == 0:
            return stand
        move = tolerance(state["sensor_torso_subtreelinvel"][:, 0], speed, math.inf, margin=speed / 2,
                         value_at_margin=0.5, sigmoid="linear")
        return stand * (5 * move + 1) / 6

    return reward


def _hopper_reward(hopping: bool) -> Reward:
    def reward(state: State, names: Names) -> Array:
        height = state["body_com"][:, names.body("torso"), 2] - state["body_com"][:, names.body("foot"), 2]
        standing = tolerance(height, 0.6, 2)
        if hopping:
            return standing * tolerance(state["sensor_torso_subtreelinvel"][:, 0], 2, math.inf, margin=1,
                                        value_at_margin=0.5, sigmoid="linear")
        return standing * small_control(state)

    return reward


def _humanoid_reward(speed: float) -> Reward:
    def reward(state: State, names: Names) -> Array:
        standing = tolerance(state["body_pos"][:, names.body("head"), 2], 1.4, math.inf, margin=1.4 / 4)
        upright = tolerance(state["body_up"][:, names.body("torso"), 2], 0.9, math.inf, margin=1.9,
                            value_at_margin=0, sigmoid="linear")
        horizontal = state["sensor_torso_subtreelinvel"][:, :2]
        if speed == 0:
            move = tolerance(horizontal, margin=2).mean(axis=-1)
        else:
            move = (5 * tolerance(np.linalg.norm(horizontal, axis=-1), speed, math.inf, margin=speed,
                                  value_at_margin=0, sigmoid="linear") + 1) / 6
        return small_control(state) * standing * upright * move

    return reward


def _finger_spin_reward(state: State, _: Names) -> Array:
    return (state["sensor_hinge_velocity"][:, 0] <= -15.0).astype(np.float64)


def _finger_turn_reward(radius: float) -> Reward:
    def reward(state: State, _: Names) -> Array:
        to_target = (state["target_pos"] - state["tip_pos"])[:, [0, 2]]
        return (np.linalg.norm(to_target, axis=-1) - radius <= 0).astype(np.float64)

    return reward


def _point_mass_reward(state: State, names: Names) -> Array:
    size = float(names.geom_size("target")[0])
    distance = np.linalg.norm(state["target_pos"] - state["body_pos"][:, names.body("pointmass")], axis=-1)
    return tolerance(distance, 0, size, margin=size) * small_control(state)


def _ball_in_cup_reward(state: State, names: Names) -> Array:
    offset = np.abs((state["target_pos"] - state["body_pos"][:, names.body("ball")])[:, [0, 2]])
    room = names.site_size("target")[[0, 2]] - float(names.geom_size("ball")[0])
    return np.all(offset < room, axis=-1).astype(np.float64)


def _reacher_reward(target_size: float) -> Reward:
    def reward(state: State, names: Names) -> Array:
        distance = np.linalg.norm(state["target_pos"] - state["body_pos"][:, names.body("finger")], axis=-1)
        return tolerance(distance, 0, target_size + float(names.geom_size("finger")[0]))

    return reward


def _reacher_size(size: float) -> Callable[[mujoco.MjModel], None]:
    return _set(mujoco.mjtObj.mjOBJ_GEOM, "geom_size", "target", 0, size)


def _fish_upright_reward(state: State, names: Names) -> Array:
    return tolerance(state["body_up"][:, names.body("torso"), 2], 1, 1, margin=1)


_randomized = until_free_of_contacts(randomize_joints)
_HIDE_TARGETS = _both(_set(mujoco.mjtObj.mjOBJ_SITE, "site_rgba", "target", 3, 0.0),
                      _set(mujoco.mjtObj.mjOBJ_SITE, "site_rgba", "tip", 3, 0.0))


def _slow_spinner(model: mujoco.MjModel) -> None:
    """The spin task's damping of the spinner's hinge (0.03)."""
    model.dof_damping[model.jnt_dofadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, "hinge")]] = 0.03



DOMAINS: tuple[Domain, ...] = (
    Domain("cartpole", 0.01, "a cart on a rail with a hinged pole; one actuator pushes the cart", (
        SuiteTask("balance", "keep the pole balanced upright, the cart near the centre", _cartpole_reward(False),
                  _cartpole_start(False), in_other_words="balance an inverted pendulum on a cart"),
        SuiteTask("balance_sparse", "keep the pole within a few degrees of upright and the cart within 0.25 m of "
                                    "the centre", _cartpole_reward(True), _cartpole_start(False)),
        SuiteTask("swingup", "swing the pole up from hanging down and balance it, the cart near the centre",
                  _cartpole_reward(False), _cartpole_start(True), in_other_words="swing up an inverted pendulum"),
        SuiteTask("swingup_sparse", "swing the pole up and hold it within a few degrees of upright",
                  _cartpole_reward(True), _cartpole_start(True)),
    ), kind="manipulation"),
    Domain("pendulum", 0.02, "a torque-limited pendulum on a hinge", (
        SuiteTask("swingup", "swing the pendulum up and hold it within 8 degrees of upright", _pendulum_reward,
                  set_joints(hinge=lambda rng: rng.uniform(-math.pi, math.pi)),
                  in_other_words="invert the pole, pump energy to swing it over the top"),
    ), kind="manipulation"),
    Domain("acrobot", 0.01, "a two-link pendulum actuated only at the elbow", (
        SuiteTask("swingup", "swing the tip of the two-link pendulum up to the target above it",
                  _acrobot_reward(False), set_joints(shoulder=lambda rng: rng.uniform(-math.pi, math.pi),
                                                     elbow=lambda rng: rng.uniform(-math.pi, math.pi))),
        SuiteTask("swingup_sparse", "bring the tip within the target above it", _acrobot_reward(True),
                  set_joints(shoulder=lambda rng: rng.uniform(-math.pi, math.pi),
                             elbow=lambda rng: rng.uniform(-math.pi, math.pi))),
    ), kind="manipulation"),
    Domain("cheetah", 0.01, "a planar running cheetah with six actuated joints", (
        SuiteTask("run", "run forward as fast as possible, up to 10 m/s", _cheetah_reward, _cheetah_start,
                  in_other_words="sprint, gallop forward"),
    )),
    Domain("walker", 0.025, "a planar biped walker with six actuated joints", (
        SuiteTask("stand", "stand up tall with the torso upright", _walker_reward(0), _randomized,
                  in_other_words="get up and stay standing"),
        SuiteTask("walk", "walk forward at 1 m/s, standing upright", _walker_reward(1), _randomized),
        SuiteTask("run", "run forward at 8 m/s, standing upright", _walker_reward(8), _randomized),
    )),
    Domain("hopper", 0.02, "a planar one-legged hopper with four actuated joints", (
        SuiteTask("stand", "stand with the torso high above the foot, using little control", _hopper_reward(False),
                  _randomized),
        SuiteTask("hop", "hop forward at 2 m/s, standing tall", _hopper_reward(True), _randomized,
                  in_other_words="jump forward on one leg"),
    )),
    Domain("humanoid", 0.025, "a 21-joint humanoid in 3D", (
        SuiteTask("stand", "stand up with the head at 1.4 m and stay in place", _humanoid_reward(0), _randomized,
                  in_other_words="get up from the ground and balance"),
        SuiteTask("walk", "walk at 1 m/s with the head high and the torso upright", _humanoid_reward(1),
                  _randomized),
        SuiteTask("run", "run at 10 m/s with the head high and the torso upright", _humanoid_reward(10),
                  _randomized),
    )),
    Domain("finger", 0.02, "a planar two-joint finger and a free-spinning body on a hinge", (
        SuiteTask("spin", "spin the body on the hinge fast, faster than 15 rad/s clockwise", _finger_spin_reward,
                  _randomized, prepare=_both(_HIDE_TARGETS, _slow_spinner),
                  in_other_words="flick and rotate the spinner continuously"),
        SuiteTask("turn_easy", "turn the spinning body until its tip is in the large target", _finger_turn_reward(0.07),
                  _finger_turn_start, prepare=_set(mujoco.mjtObj.mjOBJ_SITE, "site_size", "target", 0, 0.07)),
        SuiteTask("turn_hard", "turn the spinning body until its tip is in the small target",
                  _finger_turn_reward(0.03), _finger_turn_start,
                  prepare=_set(mujoco.mjtObj.mjOBJ_SITE, "site_size", "target", 0, 0.03)),
    ), kind="manipulation"),
    Domain("point_mass", 0.02, "a point mass on a plane driven by two actuators", (
        SuiteTask("easy", "move the point mass to the target at the centre and stay there", _point_mass_reward,
                  _randomized, in_other_words="go to the goal position"),
    ), kind="manipulation"),
    Domain("ball_in_cup", 0.02, "a planar cup on two actuated slides, with a ball tied to it by a string", (
        SuiteTask("catch", "swing the ball up and catch it in the cup", _ball_in_cup_reward,
                  until_free_of_contacts(set_joints(ball_x=lambda rng: rng.uniform(-0.2, 0.2),
                                                    ball_z=lambda rng: rng.uniform(0.2, 0.5))),
                  in_other_words="cup and ball toy, toss the ball into the cup"),
    ), kind="manipulation"),
    Domain("reacher", 0.02, "a planar two-link arm and a target on the plane", (
        SuiteTask("easy", "bring the fingertip into the large target", _reacher_reward(0.05), _reacher_start,
                  prepare=_reacher_size(0.05), in_other_words="touch the goal with the end effector"),
        SuiteTask("hard", "bring the fingertip into the small target", _reacher_reward(0.015), _reacher_start,
                  prepare=_reacher_size(0.015)),
    ), kind="manipulation"),
    Domain("fish", 0.04, "a fish swimming in 3D with a tail and two fins", (
        SuiteTask("upright", "turn the fish upright and keep it so", _fish_upright_reward, _fish_start,
                  prepare=_set(mujoco.mjtObj.mjOBJ_GEOM, "geom_rgba", "target", 3, 0.0),
                  in_other_words="right itself, belly down"),
    )),
)


def domain(name: str) -> Domain:
    return next(d for d in DOMAINS if d.name == name)


def suite_family(task: SuiteTask, names: Names) -> TaskFamily:
    def fitness(state: State, _: Mapping[str, ParamValue]) -> Array:
        return EPISODE * task.reward(state, names)

    def success(state: State, _: Mapping[str, ParamValue]) -> Array:
        return task.reward(state, names) >= SUCCESS_LEVEL

    return TaskFamily(
        task.name, task.description, success, fitness,
        f"the suite's score: its per-step reward (0 to 1) summed over the {EPISODE}-step episode (0 to {EPISODE})",
        EPISODE, success_when="final", fitness_over="mean", in_other_words=task.in_other_words)


def dmc_world(name: str) -> MjcfWorld:
    """The world `dmc-NAME`: the suite's model of that domain with its tasks."""
    spec = domain(name)
    path = SUITE_DIR / f"{name}.xml"
    layout = read_layout(path, control_dt=spec.control_dt)
    model = load_model(path)
    names = Names(model)
    return MjcfWorld(
        name=f"{PREFIX}{name}",
        summary=f"DeepMind Control suite {name}: {spec.summary}. " + describe(layout, model),
        state_fields=mjcf_state_fields(layout, model),
        task_families={task.name: suite_family(task, names) for task in spec.tasks},
        action_meaning=f"one number per actuator, in order: {', '.join(layout.actuators)}, each within its control "
                       "range",
        kind=spec.kind,
        source_files=(path, *sorted((SUITE_DIR / "common").glob("*.xml"))), layout=layout,
        setups={task.name: EpisodeSetup(task.prepare, task.initialize) for task in spec.tasks})


def dmc_worlds() -> dict[str, Callable[[], MjcfWorld]]:
    """Loaders of every suite world, by name."""
    return {f"{PREFIX}{d.name}": functools.partial(dmc_world, d.name) for d in DOMAINS}
