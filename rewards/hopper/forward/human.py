"""Gymnasium Hopper-v5's own reward: forward velocity, a bonus for staying healthy, a control cost."""

import numpy as np


def compute_reward(state, action):
    forward = 1.0 * state["torso_vel"][:, 0]
    healthy = 1.0 * state["is_healthy"].astype(np.float64)
    ctrl = -1e-3 * np.sum(np.square(action), axis=-1)
    return forward + healthy + ctrl, {"forward": forward, "healthy": healthy, "ctrl": ctrl}
