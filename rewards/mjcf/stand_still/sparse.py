"""The task's fitness alone: minus the root's speed."""

import numpy as np


def compute_reward(state, action):
    speed = -np.linalg.norm(state["root_vel"], axis=-1)
    return speed, {"fitness": speed}
