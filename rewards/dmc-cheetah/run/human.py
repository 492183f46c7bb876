"""The suite's cheetah run reward (dm_control/suite/cheetah.py), per step in [0, 1]: the torso
subtree's forward speed over 10 m/s, linear in between."""

import numpy as np


def linear_tolerance(x, lower, margin, value_at_margin):
    """1 at or above `lower`, falling linearly below it to `value_at_margin` at one margin's distance."""
    scaled = np.maximum(lower - x, 0.0) / margin * (1 - value_at_margin)
    return np.where(scaled < 1, 1 - scaled, 0.0)


def compute_reward(state, action):
    speed = state["sensor_torso_subtreelinvel"][:, 0]
    reward = linear_tolerance(speed, 10.0, 10.0, 0.0)
    return reward, {"speed": reward}
