"""Gymnasium Humanoid-v5's own reward: centre-of-mass forward velocity, a healthy bonus, control and contact
costs (the contact cost capped at 10)."""

import numpy as np


def compute_reward(state, action):
    forward = 1.25 * state["com_vel"][:, 0]
    healthy = 5.0 * state["is_healthy"].astype(np.float64)
    ctrl = -0.1 * np.sum(np.square(action), axis=-1)
    contact = -np.minimum(5e-7 * np.sum(np.square(state["contact_forces"]), axis=(-2, -1)), 10.0)
    return forward + healthy + ctrl + contact, {"forward": forward, "healthy": healthy, "ctrl": ctrl,
                                                "contact": contact}
