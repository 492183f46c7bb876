"""The task's fitness alone: velocity in the asked direction, with no shaping, bonus or cost."""

import numpy as np


def compute_reward(state, action):
    forward = state["start_forward"]
    left = np.stack([-forward[:, 1], forward[:, 0], np.zeros(len(forward))], axis=-1)
    way = {"forward": forward, "backward": -forward, "left": left, "right": -left}[params["direction"]]
    velocity = np.sum(state["root_vel"] * way, axis=-1)
    return velocity, {"fitness": velocity}
