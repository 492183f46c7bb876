def open_drawer(robot, amount=0.12):
    """Grasp the drawer's handle and pull the drawer open by `amount` metres."""
    robot.open()
    handle = robot.position("handle")
    robot.move_to((handle[0], handle[1], handle[2] + 0.08))
    robot.move_to(handle)
    robot.close()
    robot.move_by(0.0, -(amount + 0.015), 0.0)
    robot.open()
    robot.move_by(0.0, 0.0, 0.08)
