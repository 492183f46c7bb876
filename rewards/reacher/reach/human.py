"""Gymnasium Reacher-v5's own reward: minus the fingertip-to-target distance, minus a control cost."""

import numpy as np


def compute_reward(state, action):
    distance = -1.0 * np.linalg.norm(state["fingertip_pos"] - state["target_pos"], axis=-1)
    ctrl = -1.0 * np.sum(np.square(action), axis=-1)
    return distance + ctrl, {"distance": distance, "ctrl": ctrl}
