"""1 while the head is at 1.4 m or higher and the torso upright and the body moves at 1 m/s or more."""

import numpy as np


def compute_reward(state, action):
    head_high = state["body_pos"][:, 1, 2] >= 1.4  # body 1 is the head
    upright = state["body_up"][:, 0, 2] >= 0.9  # body 0 is the torso
    moving = np.linalg.norm(state["sensor_torso_subtreelinvel"][:, :2], axis=-1) >= 1.0
    reward = (head_high & upright & moving).astype(float)
    return reward, {"in_bounds": reward}
