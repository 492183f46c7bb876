"""Staged lifting (as robosuite's lift): approach the object, close on it, raise it to the goal height."""

import numpy as np

REST_Z = {"cube_red": 0.02, "cube_green": 0.02, "cube_blue": 0.02, "ball": 0.025}


def compute_reward(state, action):
    obj = params["obj"]
    distance = np.linalg.norm(state["gripper_pos"] - state[obj + "_pos"], axis=-1)
    grasped = state[obj + "_grasped"].astype(np.float64)
    height = state[obj + "_pos"][:, 2] - REST_Z[obj]
    approach = 1.0 - np.tanh(5.0 * distance)
    grasp = 0.5 * grasped
    lift = 2.0 * grasped * np.clip(height / params["height"], 0.0, 1.0)
    return approach + grasp + lift, {"approach": approach, "grasp": grasp, "lift": lift}
