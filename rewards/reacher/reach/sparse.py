"""The task's success alone: 1 while the fingertip is within the tolerance of the target, else 0."""

import numpy as np


def compute_reward(state, action):
    distance = np.linalg.norm(state["fingertip_pos"] - state["target_pos"], axis=-1)
    success = (distance <= params["tolerance"]).astype(np.float64)
    return success, {"success": success}
