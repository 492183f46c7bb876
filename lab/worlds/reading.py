"""Goals in words read as a world's own tasks without a model: the family by meaning (sentence embeddings) and
shared words, the parameters by the values the words name, a number bound to the task's numeric parameter; and
refused, listing what the world can do, when they mean none of its tasks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from lab.errors import LabError
from lab.worlds.core import Task, World


def closest_task(world: World, text: str, embedder: Any, tasks: list[Task] | None = None) -> tuple[Task, float]:
    """The world's known task (of `tasks`, default one per family) that `text` means, for runs without a model,
    and how near in meaning the two are. Embeddings weigh a sentence's nouns over its verb and hardly see word
    order, so each family is first bound to the values the text names (in the order its description puts them);
    then the family is the one whose bound description is nearest in meaning and shares most of the text's other
    words, and names all it needs."""
    tasks = tasks or world.default_tasks()
    value_words = {w for t in tasks for p in t.family.params for c in p.choices for w in str(c).lower().split("_")}
    bound: dict[str, Task] = {}
    for task in tasks:
        held = bound.get(task.family.name)
        if held is None or mentions(task, text).score > mentions(held, text).score:
            bound[task.family.name] = task
    readings = list(bound.values())
    descriptions = [spoken(t) for t in readings]
    others = [t.family.in_other_words or spoken(t) for t in readings]
    vectors = embedder.encode([text, *descriptions, *others])
    # A family is as near as the nearer of its description and its other words (a user's "walk forward" is far
    # from "make the crawler walk ... along x" but near "walk, run, crawl ... forward or back").
    similarity = np.maximum(vectors[1:len(readings) + 1] @ vectors[0], vectors[len(readings) + 1:] @ vectors[0])
    scores = [float(near) + 0.25 * shared_words(f"{description} {task.family.name}", text, ignore=value_words)
              + 0.2 * named_share(mentions(task, text))
              for near, description, task in zip(similarity, descriptions, readings, strict=True)]
    chosen = int(np.argmax(scores))
    return readings[chosen], float(similarity[chosen])


READING_THRESHOLD = 0.5
"""How near in meaning (cosine, all-MiniLM-L6-v2) a goal read without a model must be to the world's task it is read
as. Measured on the playground: 24 phrasings of its tasks scored 0.56-1.0, 19 unrelated requests 0.05-0.46."""

COLOURS = frozenset("red green blue yellow purple orange pink black white grey gray brown cyan magenta violet gold "
                    "silver".split())
NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?|\.\d+)\s*(cm|mm|m)?\b")
UNIT_SCALE = {"cm": 0.01, "mm": 0.001, "m": 1.0, "": 1.0}


def read_goal(world: World, text: str, embedder: Any, tasks: list[Task] | None = None,
              least: float = READING_THRESHOLD) -> tuple[Task, float]:
    """The world's task a goal means, read without a model (`closest_task`), with a number the goal gives (in m,
    cm or mm) bound to the task's numeric parameter. Refused with a LabError that lists what the world can do:
    a goal no nearer than `least` to any task, a colour of thing the world lacks ("the purple cube"), a number
    the task has no parameter for or outside that parameter's range. `tasks` defaults to every binding of every
    family (with only the default bindings, "push the ball into the green zone" was measured against "push the red
    cube into the blue zone" and refused)."""
    tasks = tasks or [task for family in world.task_families.values() for task in family.bindings(world.name)]
    families = sorted({t.family.name for t in tasks})
    can_do = f"the {world.name} world's tasks are {', '.join(families)} (`lab worlds show {world.name}`)"
    things = sorted({str(c) for t in tasks for p in t.family.params for c in p.choices})
    colours = {part for thing in things for part in thing.lower().split("_")} & COLOURS
    words = set(re.findall(r"[a-z]+", text.lower()))
    if colours and words & COLOURS - colours:
        missing = sorted(words & COLOURS - colours)
        raise LabError(f"the {world.name} world has nothing {' or '.join(missing)}: its things are "
                       f"{', '.join(spoken_value(t) for t in things)}", hint=can_do)
    task, similarity = closest_task(world, text, embedder, tasks)
    if similarity < least:
        raise LabError(f"{text!r} means none of the {world.name} world's tasks without a model (nearest: "
                       f"{task.family.name}, similarity {similarity:.2f} < {least})",
                       hint=f"{can_do}; or give --llm MODEL to have a model read it")
    return with_numbers(task, text), similarity


def with_numbers(task: Task, text: str) -> Task:
    """`task` with the number `text` gives bound to its one numeric parameter (a LabError for a number it cannot
    take); `task` itself when the text gives none."""
    numbers = [float(value) * UNIT_SCALE[unit] for value, unit in NUMBER.findall(text.lower())]
    if not numbers:
        return task
    numeric = [p for p in task.family.params if not p.choices]
    if len(numbers) > 1 or len(numeric) != 1:
        takes = f"one number, {numeric[0].name}" if len(numeric) == 1 else "no number"
        raise LabError(f"{text!r} is read as {task.family.name}, which takes {takes}; the goal gives "
                       f"{', '.join(f'{n:g}' for n in numbers)}",
                       hint=f"{task.family.name}: {task.family.description}")
    return task.family.bind(task.world, {**dict(task.params), numeric[0].name: numbers[0]})


def spoken_value(value: str) -> str:
    """A parameter value as it is said ("cube_red" as "red cube")."""
    head, _, tail = value.partition("_")
    return f"{tail.replace('_', ' ')} {head}" if tail else head


def spoken(task: Task) -> str:
    """The task's description with its parameter values as words are said ("cube_red" as "red cube")."""
    text = task.description
    for _, value in task.params:
        if isinstance(value, str) and "_" in value:
            text = text.replace(value, spoken_value(value))
    return text


STOP_WORDS = frozenset("the a an of to in into on it its and then at by with from m".split())


def named_share(found: Mentions) -> float:
    """The share of a task's choice parameters the text names (a half for a task without any)."""
    return found.named / found.choices if found.choices else 0.5


def shared_words(description: str, text: str, ignore: set[str] | frozenset[str] = frozenset()) -> float:
    """The share of the text's content words (less `ignore`d ones, e.g. the names of things) that a description
    uses: its verbs, mostly ("push" against "put", "pick up" against "move to")."""
    said = {singular(w) for w in re.findall(r"[a-z]+", text.lower())} - STOP_WORDS - set(ignore)
    described = {singular(w) for w in re.findall(r"[a-z]+", description.lower().replace("_", " "))}
    return len(said & described) / len(said) if said else 0.0


def singular(word: str) -> str:
    """`word` without a plural's s ("cubes" as "cube"), so a description's singular matches a goal's plural."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@dataclass(frozen=True)
class Mentions:
    """What a text names of a task's parameter values (a value is named by its distinctive word, cube_green by
    "green", and one word names one value)."""

    named: int
    unnamed_defaults: int
    choices: int
    in_order: bool

    @property
    def score(self) -> float:
        """One per value named, a half when they come in the description's order, a quarter per value the text
        leaves unnamed at its default."""
        return self.named + 0.5 * self.in_order + 0.25 * self.unnamed_defaults


def mentions(task: Task, text: str) -> Mentions:
    words = re.findall(r"[a-z0-9]+", text.lower())
    defaults = {p.name: p.default for p in task.family.params}
    used: set[int] = set()
    positions, defaults_left, choices = [], 0, 0
    for name, value in task.params:
        if not isinstance(value, str):
            continue
        choices += 1
        key = value.lower().split("_")[-1]
        at = next((i for i, word in enumerate(words) if word == key and i not in used), None)
        if at is not None:
            used.add(at)
            positions.append((task.family.description.find("{" + name + "}"), at))
        elif value == defaults.get(name):
            defaults_left += 1
    said = [at for _, at in sorted(positions)]
    return Mentions(len(positions), defaults_left, choices, said == sorted(said))
