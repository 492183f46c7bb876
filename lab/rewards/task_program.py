"""Tasks given as free text: a success check and a fitness function written as a program, checked like any other.

A task program defines `compute_success(state) -> bool[n]` and `compute_fitness(state) -> float[n]` over batched
states. It is checked against the same rules as reward programs, dry-run on real states, and runs in sandboxes; the
task it makes judges training and evaluation exactly as a world's own tasks do. Its writer is the reward designer's
model, in a conversation of its own: the reward writer never sees it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lab.errors import LabError
from lab.llm.client import LLM
from lab.llm.extract import ExtractionError, extract_code
from lab.llm.prompting import render
from lab.sandbox import ProgramError, ProgramRules, Sandbox, SandboxLimits, check_program
from lab.worlds.core import State, Task, World
from lab.worlds.description import describe
from lab.worlds.written_tasks import judged_by

SUCCESS_RULES = ProgramRules("compute_success", ("state",), kind="task success check")
FITNESS_RULES = ProgramRules("compute_fitness", ("state",), kind="task fitness function")
FAMILY = "custom"


@dataclass
class ProgramTask:
    """A task whose success and fitness are a program's, each in its own sandbox (started on first use); close it
    when done."""

    task: Task
    sandboxes: list[Sandbox] = field(default_factory=list)

    def close(self) -> None:
        for sandbox in self.sandboxes:
            sandbox.close()

    def __enter__(self) -> ProgramTask:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def program_task(world: World, text: str, source: str, horizon: int | None = None,
                 limits: SandboxLimits | None = None, name: str = FAMILY) -> ProgramTask:
    """The task `text` in `world`, judged by the task program `source` (checked here, run sandboxed)."""
    check_program(source, SUCCESS_RULES)
    check_program(source, FITNESS_RULES)
    sandboxes: list[Sandbox] = []
    boxes: dict[str, Sandbox] = {}

    def caller(rules: ProgramRules) -> Callable[[State], Any]:
        def call(state: State) -> Any:
            if rules.entry not in boxes:
                boxes[rules.entry] = Sandbox(source, rules, limits=limits)
                sandboxes.append(boxes[rules.entry])
            return boxes[rules.entry].call(state=state)[0]

        return call

    steps = horizon or max(t.horizon for t in world.default_tasks())
    task = judged_by(world.name, caller(SUCCESS_RULES), caller(FITNESS_RULES), name, text, source, steps)
    return ProgramTask(task, sandboxes)


def dry_run_task(world: World, text: str, source: str, seed: int = 0) -> None:
    """Check a task program and call it on real states; raise a ProgramError saying what is wrong."""
    from lab.rewards.program import sample_states

    state, _ = sample_states(world, world.default_tasks()[0], seed)
    with program_task(world, text, source) as made:
        made.task.success(state)
        made.task.fitness(state)
        single = {k: v[:1] for k, v in state.items()}
        made.task.success(single)
        made.task.fitness(single)


def write_task_program(llm: LLM, world: World, text: str, repairs: int = 2,
                       role: str = "reward_designer") -> tuple[str, list[str]]:
    """Ask the model for the task's success check and fitness, sending failures back `repairs` times; returns the
    source and the errors met on the way."""
    messages = render("task_program", world_description=describe(world, None, "reward"), task_text=text)
    errors: list[str] = []
    for attempt in range(repairs + 1):
        reply = llm.complete(messages, n=1, role=role).texts[0]
        messages = [*messages, {"role": "assistant", "content": reply}]
        try:
            source = extract_code(reply, "compute_success")
            dry_run_task(world, text, source)
            return source, errors
        except (ExtractionError, ProgramError) as error:
            problem = error.feedback() if isinstance(error, ProgramError) else error.message
            errors.append(problem)
            if attempt < repairs:
                messages = [*messages, *render("program_repair", error=problem,
                                               signature="compute_success(state) and compute_fitness(state)")]
    raise LabError(f"the model did not write a usable task program in {repairs + 1} tries; last error: "
                   f"{errors[-1]}", hint="reword --task-text, or name one of the world's tasks")


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
    vectors = embedder.encode([text, *descriptions])
    similarity = vectors[1:] @ vectors[0]
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
    the task has no parameter for or outside that parameter's range."""
    tasks = tasks or world.default_tasks()
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


def read_task_program(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        raise LabError(f"cannot read the task program {path}: {error}") from None
