def pick(robot, obj="cube_red"):
    """Grasp an object from above and raise it to carrying height (0.14 m)."""
    robot.open()
    target = robot.position(obj)
    robot.move_to((target[0], target[1], target[2] + 0.08))
    robot.move_to(robot.position(obj))
    held = robot.close()
    if held != obj:
        raise RuntimeError(f"meant to grasp {obj} but hold {held}")
    robot.move_by(0.0, 0.0, 0.14 - robot.position("gripper")[2])
