"""The task's success alone: 1 while the object rests in the zone and the gripper has let go of it."""

import numpy as np

REST_Z = {"cube_red": 0.02, "cube_green": 0.02, "cube_blue": 0.02, "ball": 0.025}


def compute_reward(state, action):
    name = params["obj"]
    obj = state[name + "_pos"]
    zone = state[params["zone"] + "_pos"]
    in_zone = np.linalg.norm(obj[:, :2] - zone[:, :2], axis=-1) <= 0.04
    on_table = obj[:, 2] <= REST_Z[name] + 0.006
    released = (np.linalg.norm(state["gripper_pos"] - obj, axis=-1) >= 0.045) & ~state[name + "_grasped"].astype(bool)
    success = (in_zone & on_table & released).astype(np.float64)
    return success, {"success": success}
