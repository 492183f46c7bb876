"""The task's fitness alone: velocity along the asked axis, with no shaping, bonus or cost."""

AXES = {"x": (0, 1.0), "-x": (0, -1.0), "y": (1, 1.0), "-y": (1, -1.0)}


def compute_reward(state, action):
    index, sign = AXES[params["axis"]]
    velocity = sign * state["root_vel"][:, index]
    return velocity, {"fitness": velocity}
