"""Held-out paraphrased retrieval requests, written without looking at the retrieval code;
used only to measure, never to tune."""

HELD_OUT: dict[str, list[str]] = {
    "reach": [
        "position the end-effector beside the blue cube",
        "approach the ball",
        "skill that moves the hand close to a block without grabbing it",
        "reaching motion toward a target object",
        "hover the gripper just above the red box",
    ],
    "lift": [
        "hoist the red block into the air",
        "grasp the ball and elevate it",
        "skill that picks an object off the table and raises it to a set height",
        "lift up the green box",
        "grip a block and keep it suspended above the tabletop",
    ],
    "push": [
        "push the blue cube into the green region",
        "without picking it up, drive the ball across the table into the blue square",
        "skill that moves a block into a target region by contact only, never grasping it",
        "sweep the red box into the green bin",
        "edge the green cube into the red target area using the side of the hand",
    ],
    "place": [
        "pick up the blue box and set it in the red region",
        "transfer the ball to the green square and release it there",
        "skill that grasps an object, carries it and lowers it inside a coloured zone",
        "place the green cube in the blue region",
        "pick-and-place a block into a target square",
    ],
    "stack": [
        "set the red box on top of the blue box",
        "stack two blocks",
        "skill that balances a single cube on another cube",
        "lower the blue block so it sits atop the red block",
        "red on top of green, just those two cubes",
    ],
    "tower": [
        "arrange the three boxes in a single vertical stack",
        "build a three-level tower from the red, green and blue cubes",
        "skill that piles every cube on the table into a single stack",
        "three-block tower",
        "place green on red, then blue on green, ending with all three cubes stacked",
    ],
    "open_drawer": [
        "drawer opening",
        "hook the handle and draw the drawer toward the robot",
        "skill that extends the drawer so its inside becomes accessible",
        "tug on the drawer handle until the drawer is fully out",
        "drag the drawer outward with the end-effector",
    ],
    "press_button": [
        "depress the button",
        "tap the button with the gripper fingertips",
        "skill that lowers the end-effector onto the button until it clicks",
        "trigger the button on the table",
        "button press",
    ],
    "put_in_drawer": [
        "place the ball into the drawer",
        "load the green block into the drawer compartment",
        "skill that picks up an object and deposits it inside the drawer",
        "tuck the blue box away in the drawer",
        "carry the object over and release it into the drawer",
    ],
    "sort": [
        "arrange the blocks so that each sits on the matching coloured square",
        "red cube to red zone, green to green, blue to blue",
        "skill that groups the cubes into the zones that share their colour",
        "colour-sort the blocks",
        "tidy the table by placing every block in the area matching its hue",
    ],
}
