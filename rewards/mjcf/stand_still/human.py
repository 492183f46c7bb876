"""Stay upright and still: the upright axis, minus the root's speed and drift, minus a control cost."""

import numpy as np


def compute_reward(state, action):
    upright = state["up"][:, 2]
    speed = -np.linalg.norm(state["root_vel"], axis=-1)
    drift = -np.linalg.norm(state["displacement"][:, :2], axis=-1)
    ctrl = -0.05 * np.mean(np.square(action), axis=-1)
    return upright + speed + drift + ctrl, {"upright": upright, "speed": speed, "drift": drift, "ctrl": ctrl}
