"""Gymnasium Reacher's shape for any robot's point: minus the distance to the goal, minus a control cost."""

import numpy as np


def compute_reward(state, action):
    goal = np.array([params["x"], params["y"], params["z"]])
    distance = -np.linalg.norm(state[params["point"] + "_pos"] - goal, axis=-1)
    ctrl = -0.1 * np.mean(np.square(action), axis=-1)
    return distance + ctrl, {"distance": distance, "ctrl": ctrl}
