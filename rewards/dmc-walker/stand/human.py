"""The suite's walker stand reward (dm_control/suite/walker.py), per step in [0, 1]: standing tall and upright."""

import numpy as np


def tolerance(x, lower, upper, margin):
    """1 inside [lower, upper], a Gaussian fall to 0.1 at one margin outside (dm-control's default)."""
    distance = np.where(x < lower, lower - x, x - upper) / margin
    return np.where((lower <= x) & (x <= upper), 1.0, np.exp(-0.5 * (distance * np.sqrt(-2 * np.log(0.1))) ** 2))


def compute_reward(state, action):
    standing = tolerance(state["body_pos"][:, 0, 2], 1.2, np.inf, 0.6)  # body 0 is the torso
    upright = (1 + state["body_up"][:, 0, 2]) / 2
    stand = (3 * standing + upright) / 4
    return stand, {"standing": standing, "upright": upright}
