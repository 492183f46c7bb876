"""Staged pick and place: approach, grasp, lift, carry over the zone, then set the object down and let go."""

import numpy as np

REST_Z = {"cube_red": 0.02, "cube_green": 0.02, "cube_blue": 0.02, "ball": 0.025}


def compute_reward(state, action):
    name = params["obj"]
    obj = state[name + "_pos"]
    zone = state[params["zone"] + "_pos"]
    grasped = state[name + "_grasped"].astype(np.float64)
    to_object = np.linalg.norm(state["gripper_pos"] - obj, axis=-1)
    to_zone = np.linalg.norm(obj[:, :2] - zone[:, :2], axis=-1)
    height = obj[:, 2] - REST_Z[name]
    approach = 1.0 - np.tanh(5.0 * to_object)
    grasp = 0.5 * grasped
    lift = 0.5 * grasped * np.clip(height / 0.05, 0.0, 1.0)
    carry = 2.0 * grasped * (1.0 - np.tanh(5.0 * to_zone))
    placed = (to_zone <= 0.04) & (height <= 0.006) & (grasped == 0.0) & (to_object >= 0.045)
    release = 5.0 * placed
    return approach + grasp + lift + carry + release, {"approach": approach, "grasp": grasp, "lift": lift,
                                                       "carry": carry, "release": release}
