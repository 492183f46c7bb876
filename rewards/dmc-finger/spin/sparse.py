"""The suite's finger spin reward (dm_control/suite/finger.py): 1 while the body on the hinge spins
clockwise faster than 15 rad/s (the suite's reward is sparse already)."""



def compute_reward(state, action):
    spinning = (state["sensor_hinge_velocity"][:, 0] <= -15.0).astype(float)
    return spinning, {"spinning": spinning}
