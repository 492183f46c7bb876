"""Height of the root above its start and its upward velocity, minus a control cost."""

import numpy as np


def compute_reward(state, action):
    height = state["displacement"][:, 2]
    rising = 0.1 * state["root_vel"][:, 2]
    ctrl = -0.05 * np.mean(np.square(action), axis=-1)
    return height + rising + ctrl, {"height": height, "rising": rising, "ctrl": ctrl}
