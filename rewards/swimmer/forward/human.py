"""Gymnasium Swimmer-v5's own reward: forward velocity minus a small control cost."""

import numpy as np


def compute_reward(state, action):
    forward = 1.0 * state["torso_vel"][:, 0]
    ctrl = -1e-4 * np.sum(np.square(action), axis=-1)
    return forward + ctrl, {"forward": forward, "ctrl": ctrl}
