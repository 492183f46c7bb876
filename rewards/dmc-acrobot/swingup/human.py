"""The suite's acrobot swingup reward (dm_control/suite/acrobot.py), per step in [0, 1]: 1 with
the tip inside the target above, falling off with its distance over 1 m."""

import numpy as np


def tolerance(x, lower, upper, margin):
    """1 inside [lower, upper], a Gaussian fall to 0.1 at one margin outside (dm-control's default)."""
    distance = np.where(x < lower, lower - x, x - upper) / margin
    return np.where((lower <= x) & (x <= upper), 1.0, np.exp(-0.5 * (distance * np.sqrt(-2 * np.log(0.1))) ** 2))


def compute_reward(state, action):
    distance = np.linalg.norm(state["target_pos"] - state["tip_pos"], axis=-1)
    reward = tolerance(distance, 0.0, 0.2, 1.0)  # the target site's radius is 0.2 m
    return reward, {"near_target": reward}
