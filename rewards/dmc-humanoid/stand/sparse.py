"""1 while the head is at 1.4 m or higher and the torso upright."""



def compute_reward(state, action):
    reward = ((state["body_pos"][:, 1, 2] >= 1.4) & (state["body_up"][:, 0, 2] >= 0.9)).astype(float)
    return reward, {"in_bounds": reward}
