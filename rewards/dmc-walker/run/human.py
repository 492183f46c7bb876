"""The suite's walker run reward (dm_control/suite/walker.py), per step in [0, 1]:
standing tall and upright, times moving forward at 8 m/s."""

import numpy as np


def tolerance(x, lower, upper, margin):
    """1 inside [lower, upper], a Gaussian fall to 0.1 at one margin outside (dm-control's default)."""
    distance = np.where(x < lower, lower - x, x - upper) / margin
    return np.where((lower <= x) & (x <= upper), 1.0, np.exp(-0.5 * (distance * np.sqrt(-2 * np.log(0.1))) ** 2))


def linear_tolerance(x, lower, margin, value_at_margin):
    """1 at or above `lower`, falling linearly below it to `value_at_margin` at one margin's distance."""
    scaled = np.maximum(lower - x, 0.0) / margin * (1 - value_at_margin)
    return np.where(scaled < 1, 1 - scaled, 0.0)


def compute_reward(state, action):
    standing = tolerance(state["body_pos"][:, 0, 2], 1.2, np.inf, 0.6)  # body 0 is the torso
    upright = (1 + state["body_up"][:, 0, 2]) / 2
    stand = (3 * standing + upright) / 4
    move = linear_tolerance(state["sensor_torso_subtreelinvel"][:, 0], 8.0, 4.0, 0.5)
    reward = stand * (5 * move + 1) / 6
    return reward, {"standing": standing, "upright": upright, "move": move}
