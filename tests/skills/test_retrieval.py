"""Retrieval quality: a labelled set of queries against a library of skills described as a curriculum writes them."""

from __future__ import annotations

from pathlib import Path

from lab.skills import Skill, SkillLibrary

SKILLS = {
    "reach_cube": ("playground", "move the gripper to a cube and stop just above it"),
    "pick": ("playground", "grasp an object from above and raise it to carrying height"),
    "place": ("playground", "pick an object up and set it down on a target zone, then let go"),
    "stack": ("playground", "put one cube on top of another cube"),
    "tower": ("playground", "stack all three cubes into a single tower"),
    "push_to_zone": ("playground", "push an object along the table into a zone without lifting it"),
    "open_drawer": ("playground", "grasp the drawer handle and pull the drawer open"),
    "close_drawer": ("playground", "push the drawer shut"),
    "press_button": ("playground", "press the push button down with closed fingers"),
    "put_in_drawer": ("playground", "open the drawer and put an object inside it"),
    "sort_cubes": ("playground", "put each cube in the zone of its own colour"),
    "lift_ball": ("playground", "pick up the ball and hold it in the air"),
    "hand_over_height": ("playground", "lift an object to a given height and hold it steady"),
    "open_gripper": ("playground", "open the fingers fully and release whatever is held"),
    "move_away": ("playground", "move the gripper up and away from the table to a safe pose"),
    "line_up_cubes": ("playground", "arrange the cubes in a straight row on the table"),
    "clear_zone": ("playground", "move every object out of a zone"),
    "ant_walk_forward": ("ant", "make the four-legged ant walk forward as fast as it can"),
    "ant_walk_backward": ("ant", "make the ant walk backwards"),
    "ant_turn_left": ("ant", "turn the ant in place counter-clockwise"),
    "ant_jump": ("ant", "make the ant jump as high as possible"),
    "ant_stand_still": ("ant", "keep the ant standing upright without moving"),
    "cheetah_run": ("halfcheetah", "run the half cheetah forward at top speed"),
    "cheetah_backflip": ("halfcheetah", "make the half cheetah flip over backwards"),
    "hopper_hop": ("hopper", "make the one-legged hopper hop forward without falling"),
    "walker_walk": ("walker2d", "make the biped walker walk forward steadily"),
    "humanoid_stand": ("humanoid", "keep the humanoid standing up and balanced"),
    "humanoid_walk": ("humanoid", "make the humanoid walk forward"),
    "swimmer_swim": ("swimmer", "make the three-link swimmer swim forward through the fluid"),
    "reacher_touch": ("reacher", "move the two-link arm's fingertip onto the target point"),
    "pusher_push": ("pusher", "push the cylinder on the table to the goal with the arm"),
}

QUERIES = [
    ("grab the red cube and lift it up", "pick"),
    ("set the green cube down in the blue zone", "place"),
    ("put the red block on the blue block", "stack"),
    ("build a tower out of the cubes", "tower"),
    ("slide the ball into the red zone along the table", "push_to_zone"),
    ("pull out the drawer", "open_drawer"),
    ("shut the drawer", "close_drawer"),
    ("push the button", "press_button"),
    ("store the cube in the drawer", "put_in_drawer"),
    ("match every cube to its colour zone", "sort_cubes"),
    ("hold the ball up in the air", "lift_ball"),
    ("raise the cube to 10 cm and keep it there", "hand_over_height"),
    ("let go of the object", "open_gripper"),
    ("retract the gripper to a safe position", "move_away"),
    ("place the cubes side by side in a line", "line_up_cubes"),
    ("empty the zone of all objects", "clear_zone"),
    ("bring the gripper next to the cube", "reach_cube"),
    ("ant locomotion forward", "ant_walk_forward"),
    ("make the quadruped move in reverse", "ant_walk_backward"),
    ("rotate the ant to the left on the spot", "ant_turn_left"),
    ("the ant should leap upwards", "ant_jump"),
    ("ant stays still and upright", "ant_stand_still"),
    ("sprint forward with the cheetah", "cheetah_run"),
    ("cheetah does a backflip", "cheetah_backflip"),
    ("hopper moves forward by hopping", "hopper_hop"),
    ("two-legged walking robot goes forward", "walker_walk"),
    ("humanoid keeps its balance standing", "humanoid_stand"),
    ("humanoid takes steps forward", "humanoid_walk"),
    ("swim ahead", "swimmer_swim"),
    ("touch the target with the fingertip", "reacher_touch"),
    ("move the cylinder to the goal position", "pusher_push"),
    ("pick up the ball", "lift_ball"),
]


def test_retrieval_top1_and_top5(tmp_path: Path, embedder) -> None:
    with SkillLibrary(tmp_path, embedder) as library:
        for name, (world, description) in SKILLS.items():
            library.add(Skill(name=name, description=description, kind="code" if world == "playground" else "policy",
                              world=world, task=name))
        top1 = top5 = 0
        misses = []
        for query, expected in QUERIES:
            names = [hit.skill.name for hit in library.search(query, k=5)]
            top1 += names[0] == expected
            top5 += expected in names
            if names[0] != expected:
                misses.append((query, expected, names[:3]))
    n = len(QUERIES)
    print(f"retrieval over {n} queries, {len(SKILLS)} skills: top-1 {top1 / n:.1%}, top-5 {top5 / n:.1%}; "
          f"misses: {misses}")
    assert n >= 30
    assert top5 / n >= 0.9 and top1 / n >= 0.7
