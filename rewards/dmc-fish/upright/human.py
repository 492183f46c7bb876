"""The suite's fish upright reward (dm_control/suite/fish.py), per step in [0, 1]: 1 when the torso is
exactly upright, a Gaussian of how far its up axis tips."""

import numpy as np


def tolerance(x, lower, upper, margin):
    """1 inside [lower, upper], a Gaussian fall to 0.1 at one margin outside (dm-control's default)."""
    distance = np.where(x < lower, lower - x, x - upper) / margin
    return np.where((lower <= x) & (x <= upper), 1.0, np.exp(-0.5 * (distance * np.sqrt(-2 * np.log(0.1))) ** 2))


def compute_reward(state, action):
    up = state["body_up"][:, 0, 2]  # body 0 is the torso
    reward = tolerance(up, 1.0, 1.0, 1.0)
    return reward, {"upright": reward}
