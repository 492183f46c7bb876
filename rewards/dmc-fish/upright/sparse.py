"""1 while the torso's up axis is within about 8 degrees of vertical."""



def compute_reward(state, action):
    upright = (state["body_up"][:, 0, 2] >= 0.99).astype(float)  # body 0 is the torso
    return upright, {"upright": upright}
