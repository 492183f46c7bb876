"""1 while the point mass is inside the target (radius 0.015 m)."""

import numpy as np


def compute_reward(state, action):
    distance = np.linalg.norm(state["target_pos"] - state["body_pos"][:, 0], axis=-1)  # body 0 is the mass
    inside = (distance <= 0.015).astype(float)
    return inside, {"in_target": inside}
