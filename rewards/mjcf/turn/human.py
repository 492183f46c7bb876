"""Yaw rate in the asked direction, a small bonus for staying upright, minus a control cost."""

import numpy as np


def compute_reward(state, action):
    sign = 1.0 if params["direction"] == "left" else -1.0
    turning = sign * state["root_angvel"][:, 2]
    upright = 0.1 * state["up"][:, 2]
    ctrl = -0.05 * np.mean(np.square(action), axis=-1)
    return turning + upright + ctrl, {"turning": turning, "upright": upright, "ctrl": ctrl}
