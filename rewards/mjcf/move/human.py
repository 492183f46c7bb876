"""Gymnasium's locomotion shape for any robot: velocity in the asked direction (from the robot's forward at the
start), a small bonus for staying upright, minus a control cost."""

import numpy as np


def compute_reward(state, action):
    forward = state["start_forward"]
    left = np.stack([-forward[:, 1], forward[:, 0], np.zeros(len(forward))], axis=-1)
    way = {"forward": forward, "backward": -forward, "left": left, "right": -left}[params["direction"]]
    velocity = np.sum(state["root_vel"] * way, axis=-1)
    upright = 0.1 * state["up"][:, 2]
    ctrl = -0.05 * np.mean(np.square(action), axis=-1)
    return velocity + upright + ctrl, {"velocity": velocity, "upright": upright, "ctrl": ctrl}
