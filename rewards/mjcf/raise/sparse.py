"""The task's success alone: 1 while the root is at least the asked height above its start, else 0."""

import numpy as np


def compute_reward(state, action):
    success = (state["displacement"][:, 2] >= params["height"]).astype(np.float64)
    return success, {"success": success}
