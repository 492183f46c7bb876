def stack(robot, a="cube_red", b="cube_blue"):
    """Put cube a on top of cube b."""
    place(robot, a, b)
