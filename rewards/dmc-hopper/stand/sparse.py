"""1 while the torso is 0.6-2 m above the foot."""



def compute_reward(state, action):
    height = state["body_com"][:, 0, 2] - state["body_com"][:, 4, 2]  # torso (body 0) above foot (body 4)
    standing = ((height >= 0.6) & (height <= 2.0)).astype(float)
    return standing, {"standing": standing}
