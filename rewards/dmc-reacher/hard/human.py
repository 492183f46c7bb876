"""The suite's reacher hard reward (dm_control/suite/reacher.py): 1 while the fingertip touches
the target (radius 0.015 m; the suite's reward is sparse already)."""

import numpy as np


def compute_reward(state, action):
    distance = np.linalg.norm(state["target_pos"] - state["body_pos"][:, 2], axis=-1)  # body 2 is the finger
    inside = (distance <= 0.015 + 0.01).astype(float)  # the target's radius plus the fingertip's
    return inside, {"in_target": inside}
