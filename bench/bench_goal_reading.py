"""Offline goal reading on the playground: how near in meaning (all-MiniLM-L6-v2 cosine) phrasings of its tasks and
unrelated requests come to the task each is read as, against the threshold `lab solve` and `lab reward --task-text`
refuse below (READING_THRESHOLD), and how many phrasings are read as the task they mean.

Prints: the similarity range of each group, the margin between them, the share of phrasings read right, and every
phrasing the threshold would misjudge. Run: `python bench/bench_goal_reading.py`.
"""

from __future__ import annotations

from lab.curriculum.proposer import every_task
from lab.embedding import SentenceEmbedder
from lab.worlds import get_world
from lab.worlds.reading import READING_THRESHOLD, closest_task

PHRASINGS = {
    "open the drawer": "open_drawer", "put the red cube in the blue zone": "place", "press the button": "press_button",
    "push the ball into the green zone": "push", "stack the red cube on the blue cube": "stack",
    "pick up the ball": "lift", "lift the green cube": "lift", "build a tower": "tower", "sort the cubes": "sort",
    "move the gripper to the ball": "reach", "put the blue cube in the drawer": "put_in_drawer",
    "reach the red cube": "reach", "touch the green cube": "reach", "grab the ball and raise it": "lift",
    "slide the blue cube to the red zone": "place", "pull the drawer open": "open_drawer",
    "push the button down": "press_button", "stack all cubes": "tower", "put each cube in its zone": "sort",
    "place the ball on the green zone": "place", "go to the blue cube": "reach", "hit the button": "press_button",
    "lift the ball": "lift", "put the green cube on top of the red cube": "stack",
}
UNRELATED = ("fly to the moon", "make me a sandwich", "write a poem", "dance", "what is the weather", "sing a song",
             "drive the car home", "cook dinner", "launch the rocket", "open the window", "paint the wall",
             "feed the cat", "hello", "jump", "swim across the lake", "turn on the lights", "do nothing", "walk",
             "the moon")


def main() -> None:
    world = get_world("playground")
    pool = every_task(world)
    embedder = SentenceEmbedder()
    read = {text: closest_task(world, text, embedder, pool) for text in [*PHRASINGS, *UNRELATED]}
    meant = [read[text][1] for text in PHRASINGS]
    unrelated = [read[text][1] for text in UNRELATED]
    right = sum(read[text][0].family.name == family for text, family in PHRASINGS.items())
    print(f"phrasings of the playground's tasks ({len(meant)}): similarity {min(meant):.2f}-{max(meant):.2f}; "
          f"read as the task meant: {right}/{len(meant)}")
    print(f"unrelated requests ({len(unrelated)}): similarity {min(unrelated):.2f}-{max(unrelated):.2f}")
    print(f"threshold {READING_THRESHOLD}: margin {min(meant) - max(unrelated):+.2f} between the groups")
    for text, family in PHRASINGS.items():
        task, similarity = read[text]
        if similarity < READING_THRESHOLD or task.family.name != family:
            print(f"  phrasing {text!r}: read as {task.id} ({similarity:.2f}), meant {family}")
    for text in UNRELATED:
        if read[text][1] >= READING_THRESHOLD:
            print(f"  unrelated {text!r} would be read as {read[text][0].id} ({read[text][1]:.2f})")


if __name__ == "__main__":
    main()
