"""1 while the torso is at least 1.2 m high and the walker moves forward at 8 m/s or more."""



def compute_reward(state, action):
    reward = ((state["body_pos"][:, 0, 2] >= 1.2) & (state["sensor_torso_subtreelinvel"][:, 0] >= 8.0)).astype(float)
    return reward, {"in_bounds": reward}
