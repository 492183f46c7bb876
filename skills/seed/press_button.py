def press_button(robot):
    """Press the button down with the closed fingers."""
    try:
        robot.close()
    except Exception:
        pass
    button = robot.position("button")
    robot.move_to((button[0], button[1], button[2] + 0.06))
    try:
        robot.move_to((button[0], button[1], button[2] + 0.002))
    except Exception:
        pass
    robot.move_by(0.0, 0.0, 0.06)
