"""The task's fitness alone: the yaw rate in the asked direction."""


def compute_reward(state, action):
    sign = 1.0 if params["direction"] == "left" else -1.0
    turning = sign * state["root_angvel"][:, 2]
    return turning, {"fitness": turning}
