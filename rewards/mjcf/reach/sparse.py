"""The task's success alone: 1 while the point is within the tolerance of the goal, else 0."""

import numpy as np


def compute_reward(state, action):
    goal = np.array([params["x"], params["y"], params["z"]])
    distance = np.linalg.norm(state[params["point"] + "_pos"] - goal, axis=-1)
    success = (distance <= params["tolerance"]).astype(np.float64)
    return success, {"success": success}
