"""The task's success alone: 1 while the object rests inside the zone."""

import numpy as np

REST_Z = {"cube_red": 0.02, "cube_green": 0.02, "cube_blue": 0.02, "ball": 0.025}


def compute_reward(state, action):
    obj = state[params["obj"] + "_pos"]
    zone = state[params["zone"] + "_pos"]
    in_zone = np.linalg.norm(obj[:, :2] - zone[:, :2], axis=-1) <= 0.04
    on_table = obj[:, 2] <= REST_Z[params["obj"]] + 0.006
    success = (in_zone & on_table).astype(np.float64)
    return success, {"success": success}
