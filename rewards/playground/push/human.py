"""Pushing: get the grip point behind the object (on the side away from the zone), then move the object to the
zone along the table."""

import numpy as np


def compute_reward(state, action):
    obj = state[params["obj"] + "_pos"]
    zone = state[params["zone"] + "_pos"]
    heading = zone[:, :2] - obj[:, :2]
    heading = heading / np.maximum(np.linalg.norm(heading, axis=-1, keepdims=True), 1e-6)
    behind = obj.copy()
    behind[:, :2] = obj[:, :2] - 0.04 * heading
    behind[:, 2] = 0.02
    to_object = np.linalg.norm(state["gripper_pos"] - behind, axis=-1)
    to_zone = np.linalg.norm(obj[:, :2] - zone[:, :2], axis=-1)
    approach = 0.5 * (1.0 - np.tanh(5.0 * to_object))
    push = 2.0 * (1.0 - np.tanh(5.0 * to_zone))
    arrived = 1.0 * (to_zone <= 0.04)
    return approach + push + arrived, {"approach": approach, "push": push, "arrived": arrived}
