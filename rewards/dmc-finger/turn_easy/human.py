"""The suite's finger turn_easy reward (dm_control/suite/finger.py): 1 while the spinning body's tip is
in the large target (radius 0.07 m; the suite's reward is sparse already)."""

import numpy as np


def compute_reward(state, action):
    to_target = (state["target_pos"] - state["tip_pos"])[:, [0, 2]]
    inside = (np.linalg.norm(to_target, axis=-1) <= 0.07).astype(float)  # the target's radius
    return inside, {"in_target": inside}
