"""Gymnasium's locomotion shape for any robot: velocity along the asked axis, a small bonus for staying upright,
minus a control cost."""

import numpy as np

AXES = {"x": (0, 1.0), "-x": (0, -1.0), "y": (1, 1.0), "-y": (1, -1.0)}


def compute_reward(state, action):
    index, sign = AXES[params["axis"]]
    velocity = sign * state["root_vel"][:, index]
    upright = 0.1 * state["up"][:, 2]
    ctrl = -0.05 * np.mean(np.square(action), axis=-1)
    return velocity + upright + ctrl, {"velocity": velocity, "upright": upright, "ctrl": ctrl}
