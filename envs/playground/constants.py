"""The playground's dimensions and limits, shared by the env, its tasks and its robot API (metres, seconds)."""

import numpy as np

FRAME_SKIP = 4
"""Physics steps per env step: 4 x 5 ms = 20 ms, 50 Hz control."""
MAX_DELTA = 0.012
"""Largest gripper move per env step (m): 0.6 m/s at full action."""
WINDUP = 0.02
"""The commanded gripper point stays within this distance (m) of the real one, so a blocked gripper pushes
with a bounded force instead of winding up."""
FINGER_MAX = 0.045
GRIP_OFFSET = np.array([0.0, 0.0, -0.06])
"""The grip point (between the fingers, 1.5 cm above their tips) relative to the gripper body."""
WORKSPACE_LOW = np.array([-0.40, -0.33, 0.012])
WORKSPACE_HIGH = np.array([0.40, 0.42, 0.35])
"""Where the grip point may go (m). The table top is z = 0."""

CUBES = ("cube_red", "cube_green", "cube_blue")
OBJECTS = (*CUBES, "ball")
ZONES = ("zone_red", "zone_green", "zone_blue")
GRASPABLE = (*OBJECTS, "handle")
CUBE_HALF = 0.02
BALL_RADIUS = 0.025
ZONE_RADIUS = 0.05
REST_Z = {"cube_red": CUBE_HALF, "cube_green": CUBE_HALF, "cube_blue": CUBE_HALF, "ball": BALL_RADIUS}
DRAWER_MAX = 0.16
DRAWER_INSIDE_HALF = np.array([0.07, 0.095])
"""Half extents (m) of the drawer's inner floor in x and y."""
DRAWER_RIM_Z = 0.06
BUTTON_TRAVEL = 0.012
BUTTON_PRESSED = 0.008
