"""Move the grip point to the object: a smooth pull towards it, and a bonus once within reach."""

import numpy as np


def compute_reward(state, action):
    distance = np.linalg.norm(state["gripper_pos"] - state[params["obj"] + "_pos"], axis=-1)
    approach = 1.0 - np.tanh(5.0 * distance)
    arrived = 0.5 * (distance <= 0.025)
    return approach + arrived, {"approach": approach, "arrived": arrived}
