"""The task's fitness alone: forward velocity, with no shaping, bonus or cost."""


def compute_reward(state, action):
    forward = state["torso_vel"][:, 0]
    return forward, {"fitness": forward}
