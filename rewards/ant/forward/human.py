"""Gymnasium Ant-v5's own reward: forward velocity, a healthy bonus, control and contact costs."""

import numpy as np


def compute_reward(state, action):
    forward = 1.0 * state["torso_vel"][:, 0]
    healthy = 1.0 * state["is_healthy"].astype(np.float64)
    ctrl = -0.5 * np.sum(np.square(action), axis=-1)
    contact = -5e-4 * np.sum(np.square(np.clip(state["contact_forces"], -1.0, 1.0)), axis=(-2, -1))
    return forward + healthy + ctrl + contact, {"forward": forward, "healthy": healthy, "ctrl": ctrl,
                                                "contact": contact}
