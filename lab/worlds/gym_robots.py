"""The robots of Gymnasium's MuJoCo envs as the adapter worlds know them: one spec per env, and their joints."""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco

TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class RobotSpec:
    """What the adapter needs to know of one Gymnasium MuJoCo env."""

    world: str
    env_id: str
    summary: str
    kind: str  # "legged3d", "planar_xz", "planar_xy", "arm"
    torso: str = "torso"
    healthy: bool = False
    contact_forces: bool = False
    mass_center: bool = False
    """Forward speed is the whole robot's centre of mass (as Gymnasium's humanoid), not the torso's."""
    speed: float = 0.5
    """Default speed (m/s) that counts as success for forward and backward."""
    jump: float = 0.3
    """Default rise (m) of the torso above its start that counts as success for jump."""
    turn_radius: float = 1.0
    """How far (m) the torso may drift while turning in place."""
    bodies: tuple[tuple[str, str], ...] = ()
    """Arm worlds: (state field, body name) pairs of points to expose."""
    arm_joints: int = 0
    """Arm worlds: how many leading joints are the arm's (the rest move the target or object)."""


ROBOTS: tuple[RobotSpec, ...] = (
    RobotSpec("ant", "Ant-v5", "a four-legged robot (8 actuated hips and ankles) on a flat plane",
              "legged3d", healthy=True, contact_forces=True, jump=0.2),
    RobotSpec("halfcheetah", "HalfCheetah-v5", "a planar two-legged cheetah (6 actuated joints) moving in x-z",
              "planar_xz", speed=1.0),
    RobotSpec("hopper", "Hopper-v5", "a planar one-legged hopper (3 actuated joints) moving in x-z",
              "planar_xz", healthy=True),
    RobotSpec("walker2d", "Walker2d-v5", "a planar biped (6 actuated joints) moving in x-z",
              "planar_xz", healthy=True),
    RobotSpec("humanoid", "Humanoid-v5", "a 3D humanoid (17 actuated joints) standing on a flat plane",
              "legged3d", healthy=True, contact_forces=True, mass_center=True),
    RobotSpec("swimmer", "Swimmer-v5", "a three-link swimmer (2 actuated joints) in a viscous fluid, moving in x-y",
              "planar_xy", speed=0.1, turn_radius=0.5),
    RobotSpec("reacher", "Reacher-v5", "a two-link planar arm whose fingertip should reach a target point",
              "arm", torso="body0", bodies=(("fingertip_pos", "fingertip"), ("target_pos", "target")),
              arm_joints=2),
    RobotSpec("pusher", "Pusher-v5", "a 7-joint arm on a table that should push a cylinder to a goal",
              "arm", torso="r_shoulder_pan_link",
              bodies=(("tips_arm_pos", "tips_arm"), ("object_pos", "object"), ("goal_pos", "goal")),
              arm_joints=7),
)


def joint_slices(spec: RobotSpec, model: mujoco.MjModel) -> tuple[slice, slice, list[str]]:
    """The qpos and qvel slices of the robot's own joints (no root, no target or object) and their names."""
    if spec.kind == "arm":
        joint_ids = range(spec.arm_joints)
    elif model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE:
        joint_ids = range(1, model.njnt)
    else:
        joint_ids = range(3, model.njnt)
    first, last = joint_ids[0], joint_ids[-1]
    qpos = slice(int(model.jnt_qposadr[first]), int(model.jnt_qposadr[last]) + 1)
    qvel = slice(int(model.jnt_dofadr[first]), int(model.jnt_dofadr[last]) + 1)
    return qpos, qvel, object_names(model, mujoco.mjtObj.mjOBJ_JOINT, joint_ids)


def object_names(model: mujoco.MjModel, kind: mujoco.mjtObj, ids: range) -> list[str]:
    return [mujoco.mj_id2name(model, kind, i) or f"unnamed {i}" for i in ids]
