"""The task's success alone: 1 while the object is within the tolerance of the goal, else 0."""

import numpy as np


def compute_reward(state, action):
    distance = np.linalg.norm(state["object_pos"] - state["goal_pos"], axis=-1)
    success = (distance <= params["tolerance"]).astype(np.float64)
    return success, {"success": success}
