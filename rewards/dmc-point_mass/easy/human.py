"""The suite's point_mass easy reward (dm_control/suite/point_mass.py), per step in [0, 1]: near the
target (inside its 0.015 m radius, falling off over as much again), times a bonus for small control."""

import numpy as np


def tolerance(x, lower, upper, margin):
    """1 inside [lower, upper], a Gaussian fall to 0.1 at one margin outside (dm-control's default)."""
    distance = np.where(x < lower, lower - x, x - upper) / margin
    return np.where((lower <= x) & (x <= upper), 1.0, np.exp(-0.5 * (distance * np.sqrt(-2 * np.log(0.1))) ** 2))


def small_control(action):
    """The suite's control bonus: (4 + the mean over actuators of max(0, 1 - u^2)) / 5."""
    return (4 + np.mean(np.where(np.abs(action) < 1, 1 - action**2, 0.0), axis=-1)) / 5


def compute_reward(state, action):
    distance = np.linalg.norm(state["target_pos"] - state["body_pos"][:, 0], axis=-1)  # body 0 is the mass
    near = tolerance(distance, 0.0, 0.015, 0.015)
    control = small_control(state["ctrl"])
    return near * control, {"near_target": near, "small_control": control}
