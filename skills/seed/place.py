def place(robot, obj="cube_red", zone="zone_blue"):
    """Pick an object up and set it down on a zone, or on top of another object, then let go."""
    rest = robot.position(obj)[2]
    pick(robot, obj)
    below = robot.position(zone)
    top = below[2] if zone.startswith("zone") else 2.0 * below[2]
    robot.move_to((below[0], below[1], 0.14))
    robot.move_to((below[0], below[1], top + rest + 0.004))
    robot.open()
    robot.move_by(0.0, 0.0, 0.08)
