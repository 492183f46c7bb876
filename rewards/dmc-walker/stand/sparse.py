"""1 while the torso is at least 1.2 m high."""



def compute_reward(state, action):
    reward = (state["body_pos"][:, 0, 2] >= 1.2).astype(float)
    return reward, {"in_bounds": reward}
