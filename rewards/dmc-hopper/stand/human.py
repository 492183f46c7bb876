"""The suite's hopper stand reward (dm_control/suite/hopper.py), per step in [0, 1]: the torso 0.6-2 m
above the foot, times a bonus for small control."""

import numpy as np


def small_control(action):
    """The suite's control bonus: (4 + the mean over actuators of max(0, 1 - u^2)) / 5."""
    return (4 + np.mean(np.where(np.abs(action) < 1, 1 - action**2, 0.0), axis=-1)) / 5


def compute_reward(state, action):
    height = state["body_com"][:, 0, 2] - state["body_com"][:, 4, 2]  # torso (body 0) above foot (body 4)
    standing = ((height >= 0.6) & (height <= 2.0)).astype(float)
    control = small_control(state["ctrl"])
    return standing * control, {"standing": standing, "small_control": control}
