"""The offline skill writer: compositional search over the robot's primitives and the library's skills.

No language model: candidate programs are short sequences of steps (a primitive call with arguments bound from the
task's parameters, or a call to a stored skill), enumerated shortest first and played in simulation. The task's
own fitness ranks the prefixes worth extending (a beam), and the best prefixes that call stored skills, those that
end holding or nearest the task's things, and those that begin with a skill the task builds on (its tech-tree
prerequisites) are extended too, since a task's fitness often gets worse (or stays flat) before it gets better:
lifting a cube to stack it, grasping it before it moves at all, opening the drawer before anything goes in. A
sequence whose episode meets the task's success check is verified on further seeds, spread over the task family's
parameter bindings. What it finds is an ordinary skill program, parameterised by the task's parameter names, so
the skill serves every parameter value, and later searches call it as one step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import product
from typing import Any, NamedTuple

import numpy as np

from lab.skills.model import Skill, Verification
from lab.skills.runtime import EpisodeResult, ProgramPlayer
from lab.skills.store import SkillLibrary
from lab.worlds.core import Task, TaskFamily, World

HEIGHTS = (0.08, 0.045, 0.0)
"""Heights (m) above a named thing that a move may aim at: hover, one cube up, at it. Moving onto a thing is one
step that comes down from the hover height, so fingers straddle it instead of knocking it away."""
FIXED_PLACES = ("handle", "button", "drawer")


@dataclass(frozen=True)
class Step:
    """One line of a candidate program."""

    code: str
    calls: str = ""
    """The library skill this step calls, if any."""


@dataclass
class Written:
    """What a search found (the program, verified), or that it found nothing, with what it cost."""

    name: str
    source: str | None
    verification: Verification | None
    results: list[EpisodeResult] = field(default_factory=list)
    episodes: int = 0
    seconds: float = 0.0
    calls: list[str] = field(default_factory=list)
    best_error: str = ""
    """On failure: the error of the most promising candidate, as feedback."""
    stored: Skill | None = None
    """Set when the writer stored the skill itself (a policy skill, stored with its artefact)."""
    judgements: list[tuple[bool, bool]] = field(default_factory=list)
    """With a critic: (the critic said it succeeded, the code check said so), one pair per judged episode."""

    @property
    def found(self) -> bool:
        return self.source is not None


class Rank(NamedTuple):
    """How promising a candidate prefix is, compared field by field in this order."""

    clean: bool
    """It ran without an error."""
    fitness: float
    """The task's own fitness."""
    held: bool
    """It ends holding one of the task's things."""
    near: float
    """Minus the gripper's distance to the nearest of them (cm-rounded)."""
    reuses: bool
    """It calls a stored skill."""
    shorter: int
    """Minus its number of steps."""


def fixed_places(task: Task) -> list[str]:
    """The world's fixed places (drawer, handle, button) the task's description names."""
    words = set(task.family.description.lower().replace(",", " ").split())
    return [place for place in FIXED_PLACES if place in words]


def engagement(state: dict[str, Any], things: list[str]) -> tuple[bool, float]:
    """How engaged the gripper is with the task's things at an episode's end: whether it holds one, and minus its
    distance to the nearest (to the centimetre). It ranks prefixes whose task fitness ties (a lift scores nothing
    until the object rises, yet the prefix that grasps it is the one to extend)."""
    gripper = state.get("gripper_pos")
    if gripper is None:
        return False, 0.0
    held = any(bool(state.get(f"{thing}_grasped", False)) for thing in things)
    distances = [float(np.linalg.norm(np.subtract(state[f"{thing}_pos"], gripper)))
                 for thing in things if f"{thing}_pos" in state]
    return held, -round(min(distances, default=0.0), 2)


class CompositionalWriter:
    """Writes a skill for a task by searching compositions of primitives and stored skills in simulation."""

    name = "search"
    how = "written by compositional search"

    def __init__(self, world: World, library: SkillLibrary | None = None, *, beam: int = 6, max_length: int = 5,
                 verify_seeds: int = 10, threshold: float = 0.8, search_seed: int = 0,
                 episode_budget: int = 1500) -> None:
        self.world = world
        self.library = library
        self.beam = beam
        self.max_length = max_length
        self.verify_seeds = verify_seeds
        self.threshold = threshold
        self.search_seed = search_seed
        self.episode_budget = episode_budget

    # ----- the vocabulary
    def steps(self, task: Task, skills: list[str] | None = None) -> list[Step]:
        """Every step a candidate for `task` may take: primitives over the task's named things, and calls to the
        stored skills (only those named in `skills`, when given)."""
        names = [p.name for p in task.family.params if p.choices]
        numbers = [p.name for p in task.family.params if not p.choices]
        places = [f'"{place}"' for place in fixed_places(task)]
        steps = [Step("robot.open()"), Step("robot.close()"),
                 Step("try:\n        robot.close()\n    except NothingToGrasp:\n        pass")]
        for target in [*names, *places]:
            for height in HEIGHTS[:-1]:
                steps.append(Step(f"robot.move_to(robot.position({target}) + np.array([0.0, 0.0, {height}]))"))
            steps.append(Step(f"robot.move_to(robot.position({target}) + np.array([0.0, 0.0, {HEIGHTS[0]}]))\n"
                              f"    robot.move_to(robot.position({target}))"))
        steps += [Step("robot.move_by(0.0, 0.0, 0.1)"), Step("robot.move_by(0.0, 0.0, -0.03)")]
        for number in numbers:
            if "height" in number:
                steps.append(Step(f"robot.move_by(0.0, 0.0, {number})"))
            else:
                steps.append(Step(f"robot.move_by(0.0, -({number} + 0.015), 0.0)"))
        steps += self._skill_steps(task, names, numbers, skills)
        return steps

    def _skill_steps(self, task: Task, names: list[str], numbers: list[str],
                     allowed: list[str] | None) -> list[Step]:
        if self.library is None:
            return []
        steps = []
        for skill in self.library.skills(world=self.world.name, kind="code"):
            if skill.name == task.family.name or (allowed is not None and skill.name not in allowed):
                continue
            family = self.world.task_families.get(skill.task.partition("(")[0])
            choices = {p.name for p in family.params if p.choices} if family is not None else set()
            required = [k for k, v in skill.params.items() if v is None or k in choices]
            if len(required) > 3:
                continue
            for binding in self._bindings(family, required, names):
                arguments = [f"{k}={v}" for k, v in zip(required, binding, strict=True)]
                arguments += [f"{k}={k}" for k in skill.params if k in numbers and k not in required]
                steps.append(Step(f"{skill.name}(robot{''.join(', ' + a for a in arguments)})", calls=skill.name))
                for extra in self._at_most(family, skill.params, numbers):
                    steps.append(Step(f"{skill.name}(robot{''.join(', ' + a for a in [*arguments, extra])})",
                                      calls=skill.name))
        return steps

    @staticmethod
    def _at_most(family: TaskFamily | None, params: dict[str, object], numbers: list[str]) -> list[str]:
        """A stored skill's numeric parameters that this task does not set, at the most its task family allows
        (the drawer opened all the way, to put something in it), as extra arguments, one per variant."""
        if family is None:
            return []
        return [f"{p.name}={p.high!r}" for p in family.params
                if p.name in params and p.name not in numbers and not p.choices and p.high is not None
                and p.high != params[p.name]]

    @staticmethod
    def _bindings(family: TaskFamily | None, required: list[str], names: list[str]) -> list[tuple[str, ...]]:
        """Arguments for a stored skill's parameters that name things: the task's own parameter names, all
        different; in a task without any, the values the skill's task family allows, as literals."""
        if names:
            return [b for b in product(names, repeat=len(required)) if len(set(b)) == len(b)]
        if family is None:
            return []
        options = {p.name: [repr(c) for c in p.choices] for p in family.params if p.choices}
        if any(k not in options for k in required):
            return []
        return [b for b in product(*(options[k] for k in required)) if len(set(b)) == len(b)]

    def render(self, task: Task, name: str, steps: list[Step]) -> str:
        """A candidate as a skill program: parameters named as the task's, numbers defaulting to its values."""
        arguments = []
        for param in task.family.params:
            value = task.param_map[param.name]
            arguments.append(param.name if param.choices else f"{param.name}={value!r}")
        placeholders = {p.name: f"<{p.name}>" for p in task.family.params}
        description = task.family.description.format(**placeholders)
        body = "\n".join(f"    {step.code}" for step in steps) or "    pass"
        signature = ", ".join(["robot", *arguments])
        return (f"import numpy as np\n\n\ndef {name}({signature}):\n"
                f'    """{description[0].upper() + description[1:]} (written by compositional search)."""\n'
                f"{body}\n")

    # ----- the search
    def write(self, task: Task, name: str | None = None, on_try: Callable[[int, EpisodeResult], None] | None = None,
              skills: list[str] | None = None) -> Written:
        """Search for a program that meets `task`'s success check, shortest first, and verify it; `skills` limits
        the stored skills it may call (e.g. to those retrieved for the task)."""
        name = name or task.family.name
        started = time.perf_counter()
        vocabulary = self.steps(task, skills)
        prerequisites = set(task.family.prerequisites)
        things = [str(v) for _, v in task.params if isinstance(v, str)] + fixed_places(task)
        written = Written(name, None, None)
        best: tuple[Rank, str] | None = None
        with ProgramPlayer(self.world, task, self.library) as player:
            frontier: list[tuple[int, ...]] = [()]
            for _ in range(self.max_length):
                scored: list[tuple[Rank, tuple[int, ...]]] = []
                for prefix in frontier:
                    for index in range(len(vocabulary)):
                        if prefix and prefix[-1] == index:
                            continue
                        candidate = (*prefix, index)
                        steps = [vocabulary[i] for i in candidate]
                        source = self.render(task, name, steps)
                        result = player.play(name, source, self.search_seed, with_state=True)
                        written.episodes += 1
                        if on_try is not None:
                            on_try(written.episodes, result)
                        if result.success and not result.error:
                            verification, results = self._verify(player, task, name, source)
                            written.episodes += len(results)
                            if verification.passed:
                                steps, verification, results = self._prune(player, task, name, steps, verification,
                                                                           results, written)
                                written.source = self.render(task, name, steps)
                                written.verification, written.results = verification, results
                                written.calls = sorted({s.calls for s in steps if s.calls})
                                written.seconds = time.perf_counter() - started
                                return written
                        key = Rank(not result.error,
                                   result.fitness if math.isfinite(result.fitness) else -math.inf,
                                   *engagement(result.final_state, things),
                                   any(s.calls for s in steps), -len(candidate))
                        scored.append((key, candidate))
                        if best is None or key > best[0]:
                            best = (key, result.error)
                        if written.episodes >= self.episode_budget:
                            break
                    if written.episodes >= self.episode_budget:
                        break
                if written.episodes >= self.episode_budget or not scored:
                    break
                scored.sort(key=lambda item: item[0], reverse=True)
                clean = [(k, c) for k, c in scored if k.clean] or scored
                reusing = [c for k, c in clean if k.reuses][:self.beam]
                by_engagement = sorted(clean, key=lambda item: (item[0].held, item[0].near, item[0].fitness),
                                       reverse=True)
                engaged = [c for _, c in by_engagement][:self.beam]
                building = [c for _, c in by_engagement if vocabulary[c[0]].calls in prerequisites][:self.beam]
                frontier = list(dict.fromkeys([c for _, c in clean[:self.beam]] + reusing + engaged + building))
        written.seconds = time.perf_counter() - started
        written.best_error = best[1] if best else ""
        return written

    def failure(self, written: Written) -> str:
        """Why a search found nothing, for the session's journal."""
        closest = f"; the closest one stopped with: {written.best_error}" if written.best_error else ""
        return (f"no program of up to {self.max_length} steps met the success check within {written.episodes} "
                f"episodes{closest}")

    def _prune(self, player: ProgramPlayer, task: Task, name: str, steps: list[Step], verification: Verification,
               results: list[EpisodeResult], written: Written) -> tuple[list[Step], Verification, list[EpisodeResult]]:
        """Drop every step the program does as well without (the beam can carry a detour into a program that
        works; a detour in a stored skill misleads every program that calls it)."""
        index = 0
        while len(steps) > 1 and index < len(steps):
            shorter = steps[:index] + steps[index + 1:]
            source = self.render(task, name, shorter)
            first = player.play(name, source, self.search_seed)
            written.episodes += 1
            if first.success and not first.error:
                again, replayed = self._verify(player, task, name, source)
                written.episodes += len(replayed)
                if again.successes >= verification.successes:
                    steps, verification, results = shorter, again, replayed
                    continue
            index += 1
        return steps, verification, results

    def _verify(self, player: ProgramPlayer, task: Task, name: str,
                source: str) -> tuple[Verification, list[EpisodeResult]]:
        seeds = [self.search_seed + 1 + i for i in range(self.verify_seeds)]
        tasks = verification_tasks(self.world, task, self.search_seed)
        results = [player.play(name, source, seed, task=tasks[i % len(tasks)]) for i, seed in enumerate(seeds)]
        return Verification(self.world.version, task.id, seeds, sum(r.success for r in results),
                            self.threshold), results


def verification_tasks(world: World, task: Task, seed: int) -> list[Task]:
    """The tasks a skill for `task` is verified on, in turn over its seeds: `task` first, then the other bindings
    of its family's parameters in a seeded order (a skill takes its parameters as arguments, so it must serve them
    all, not one). Every writer verifies this way, so their verification counts compare."""
    if world.task_families.get(task.family.name) is not task.family:
        return [task]
    others = [t for t in task.family.bindings(world.name, task.param_map) if t.id != task.id]
    order = np.random.default_rng(seed).permutation(len(others))
    return [task, *(others[i] for i in order)]
