"""The suite's hopper hop reward (dm_control/suite/hopper.py), per step in [0, 1]: the torso 0.6-2 m
above the foot, times forward speed over 2 m/s (linear to 0.5 at 1 m/s)."""

import numpy as np


def linear_tolerance(x, lower, margin, value_at_margin):
    """1 at or above `lower`, falling linearly below it to `value_at_margin` at one margin's distance."""
    scaled = np.maximum(lower - x, 0.0) / margin * (1 - value_at_margin)
    return np.where(scaled < 1, 1 - scaled, 0.0)


def compute_reward(state, action):
    height = state["body_com"][:, 0, 2] - state["body_com"][:, 4, 2]  # torso (body 0) above foot (body 4)
    standing = ((height >= 0.6) & (height <= 2.0)).astype(float)
    hopping = linear_tolerance(state["sensor_torso_subtreelinvel"][:, 0], 2.0, 1.0, 0.5)
    return standing * hopping, {"standing": standing, "hopping": hopping}
