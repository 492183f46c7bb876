"""The suite's humanoid run reward (dm_control/suite/humanoid.py), per step in [0, 1]: the head
at 1.4 m, the torso upright, small control, moving at 10 m/s, multiplied."""

import numpy as np


def tolerance(x, lower, upper, margin):
    """1 inside [lower, upper], a Gaussian fall to 0.1 at one margin outside (dm-control's default)."""
    distance = np.where(x < lower, lower - x, x - upper) / margin
    return np.where((lower <= x) & (x <= upper), 1.0, np.exp(-0.5 * (distance * np.sqrt(-2 * np.log(0.1))) ** 2))


def linear_tolerance(x, lower, margin, value_at_margin):
    """1 at or above `lower`, falling linearly below it to `value_at_margin` at one margin's distance."""
    scaled = np.maximum(lower - x, 0.0) / margin * (1 - value_at_margin)
    return np.where(scaled < 1, 1 - scaled, 0.0)


def small_control(action):
    """The suite's control bonus: (4 + the mean over actuators of max(0, 1 - u^2)) / 5."""
    return (4 + np.mean(np.where(np.abs(action) < 1, 1 - action**2, 0.0), axis=-1)) / 5


def compute_reward(state, action):
    standing = tolerance(state["body_pos"][:, 1, 2], 1.4, np.inf, 0.35)  # body 1 is the head
    upright = linear_tolerance(state["body_up"][:, 0, 2], 0.9, 1.9, 0.0)  # body 0 is the torso
    control = small_control(state["ctrl"])
    horizontal = state["sensor_torso_subtreelinvel"][:, :2]
    move = (5 * linear_tolerance(np.linalg.norm(horizontal, axis=-1), 10.0, 10.0, 0.0) + 1) / 6
    reward = control * standing * upright * move
    return reward, {"standing": standing, "upright": upright, "small_control": control, "move": move}
