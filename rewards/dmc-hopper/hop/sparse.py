"""1 while the torso is 0.6-2 m above the foot and the hopper moves forward at 2 m/s or more."""



def compute_reward(state, action):
    height = state["body_com"][:, 0, 2] - state["body_com"][:, 4, 2]  # torso (body 0) above foot (body 4)
    standing = ((height >= 0.6) & (height <= 2.0)).astype(float)
    reward = standing * (state["sensor_torso_subtreelinvel"][:, 0] >= 2.0)
    return reward, {"in_bounds": reward}
