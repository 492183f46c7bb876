"""The task's fitness alone: centre-of-mass forward velocity, with no shaping, bonus or cost."""


def compute_reward(state, action):
    forward = state["com_vel"][:, 0]
    return forward, {"fitness": forward}
