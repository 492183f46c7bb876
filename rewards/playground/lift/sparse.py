"""The task's success alone: 1 while the object is held at the goal height."""

import numpy as np

REST_Z = {"cube_red": 0.02, "cube_green": 0.02, "cube_blue": 0.02, "ball": 0.025}


def compute_reward(state, action):
    obj = params["obj"]
    height = state[obj + "_pos"][:, 2] - REST_Z[obj]
    success = ((height >= params["height"]) & state[obj + "_grasped"].astype(bool)).astype(np.float64)
    return success, {"success": success}
