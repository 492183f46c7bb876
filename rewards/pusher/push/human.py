"""Gymnasium Pusher-v5's own reward: bring the arm's tip near the object and the object to the goal, with a control
cost."""

import numpy as np


def compute_reward(state, action):
    near = -0.5 * np.linalg.norm(state["object_pos"] - state["tips_arm_pos"], axis=-1)
    distance = -1.0 * np.linalg.norm(state["object_pos"] - state["goal_pos"], axis=-1)
    ctrl = -0.1 * np.sum(np.square(action), axis=-1)
    return distance + ctrl + near, {"near": near, "distance": distance, "ctrl": ctrl}
