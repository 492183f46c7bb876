def reach(robot, obj="cube_red"):
    """Bring the gripper point to an object, coming down from above with the fingers open."""
    robot.open()
    target = robot.position(obj)
    robot.move_to((target[0], target[1], target[2] + 0.08))
    robot.move_to(robot.position(obj))
