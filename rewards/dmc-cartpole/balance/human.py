"""The suite's cartpole balance reward (dm_control/suite/cartpole.py), per step in [0, 1]: the pole
upright, the cart centred, small control and small angular velocity, multiplied."""

import numpy as np


def tolerance(x, lower, upper, margin):
    """1 inside [lower, upper], a Gaussian fall to 0.1 at one margin outside (dm-control's default)."""
    distance = np.where(x < lower, lower - x, x - upper) / margin
    return np.where((lower <= x) & (x <= upper), 1.0, np.exp(-0.5 * (distance * np.sqrt(-2 * np.log(0.1))) ** 2))


def compute_reward(state, action):
    cart = state["joint_pos"][:, 0]
    upright = (state["body_up"][:, 1, 2] + 1) / 2  # body 1 is the pole
    centered = (1 + tolerance(cart, 0.0, 0.0, 2.0)) / 2
    control = (4 + np.where(np.abs(state["ctrl"][:, 0]) < 1, 1 - state["ctrl"][:, 0] ** 2, 0.0)) / 5
    slow = (1 + np.min(tolerance(state["joint_vel"][:, 1:], 0.0, 0.0, 5.0), axis=-1)) / 2
    reward = upright * control * slow * centered
    return reward, {"upright": upright, "centered": centered, "small_control": control, "small_velocity": slow}
