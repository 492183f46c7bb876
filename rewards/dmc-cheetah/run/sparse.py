"""1 while the torso subtree runs forward at 10 m/s or more, the speed the suite's reward asks for."""



def compute_reward(state, action):
    reward = (state["sensor_torso_subtreelinvel"][:, 0] >= 10.0).astype(float)
    return reward, {"fast": reward}
