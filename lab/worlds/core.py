"""The World protocol: state fields, parameterised task families, tasks, and the world itself.

A world is a family of simulated scenes. It makes seeded Gymnasium envs for its tasks, reads a *state* (named numpy
arrays) off the simulation, and describes itself in text for the programs' writers. Success checks, fitness
functions and reward programs read only the state; states are batched (leading axis = number of envs).
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import product
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
import numpy.typing as npt

from lab.errors import LabError, UnknownNameError
from lab.worlds.batched import BatchedEnv, SerialBatch
from lab.worlds.batched import read_state as read_state  # defined beside the batches, read here too
from lab.worlds.batched import stack_states as stack_states

State = Mapping[str, np.ndarray]
"""Named arrays read off the simulation; in a batched state every array has a leading axis of envs."""

ParamValue = str | float
StateFunction = Callable[[State, Mapping[str, ParamValue]], np.ndarray]


@dataclass(frozen=True)
class StateField:
    """One named array of the state, as a reward or skill writer is told about it."""

    name: str
    shape: tuple[int, ...]
    """Shape for one env (the batched array has a leading axis of envs in front of it)."""
    unit: str
    meaning: str
    better: Literal["higher", "lower"] | None = None
    """Which way of this field is better for the robot whatever the task, where that is known (an upright axis:
    higher; effort: lower); None when it depends on the task. The offline designer reads it instead of guessing from
    the name."""
    on_robot: bool = False
    """A point fixed to the robot itself (its root, a site on one of its bodies, its centre of mass): the offline
    designer never pairs two such points in a distance term, since the robot's own shape is not a task."""


@dataclass(frozen=True)
class Param:
    """A parameter of a task family: categorical when it has choices, a number otherwise."""

    name: str
    meaning: str
    choices: tuple[str, ...] = ()
    default: ParamValue | None = None
    low: float | None = None
    high: float | None = None

    def coerce(self, value: Any, family: str) -> ParamValue:
        """Return `value` checked against this parameter's rule, or raise a LabError that states the rule."""
        if self.choices:
            text = str(value).strip()
            if text not in self.choices:
                raise UnknownNameError(f"value for parameter {self.name!r} of task {family!r}", text, self.choices)
            return text
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise LabError(
                f"parameter {self.name!r} of task {family!r} must be a number, got {value!r}",
                hint=f"{self.name}: {self.meaning}",
            ) from None
        if not np.isfinite(number):
            raise LabError(f"parameter {self.name!r} of task {family!r} must be finite, got {value!r}")
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise LabError(
                f"parameter {self.name!r} of task {family!r} is {number:g}, outside [{self.low}, {self.high}]",
                hint=f"{self.name}: {self.meaning}",
            )
        return number

    def describe(self) -> str:
        rule = f"one of {', '.join(self.choices)}" if self.choices else f"number in [{self.low}, {self.high}]"
        return f"{self.name} ({rule}; default {self.default}): {self.meaning}"


@dataclass(frozen=True)
class TaskFamily:
    """A parameterised kind of task, with its success check and fitness function over batched states.

    `success_when` says which steps' success counts for the episode ("final": the last state, "any": some state).
    `fitness_over` says how per-step fitness becomes the episode's fitness (mean, final value, or max).
    """

    name: str
    description: str
    """Natural-language goal; `{param}` placeholders are filled from the task's parameters."""
    success: StateFunction
    fitness: StateFunction
    fitness_meaning: str
    horizon: int
    params: tuple[Param, ...] = ()
    success_when: Literal["final", "any"] = "final"
    fitness_over: Literal["mean", "final", "max"] = "mean"
    prerequisites: tuple[str, ...] = ()
    """Families whose skills this one builds on: the tech tree the curriculum walks."""
    builtin_reward: bool = False
    """True when the world's own env reward is the human-written baseline for this task."""
    check: Callable[[Mapping[str, ParamValue]], str | None] | None = None
    """A rule across parameters (e.g. two objects must differ): returns what is wrong, or None."""
    parts: tuple[Task, ...] = ()
    """For a composite task: its parts, in the order they must be done."""
    program: str | None = None
    """For a task given in words: the task program (`compute_success`, `compute_fitness`) that judges it, which
    runs only in sandboxes; the functions above call into one."""
    fitness_expression: str = ""
    """The per-step fitness as one numpy expression over `state` and `params` with shape (n,), where the world can
    say it as a program could: the offline designer offers it as a term, in its first candidates."""
    in_other_words: str = ""
    """The task restated in the other words users say it with (synonyms of its verbs and things, and what sets it
    apart from its neighbours: "without grasping"); a skill of this family is indexed with it, so a request in
    words the description does not use still finds the skill."""

    def bind(self, world: str, values: Mapping[str, Any] | None = None, positional: Sequence[Any] = ()) -> Task:
        """Make a task from this family, checking every parameter and filling defaults."""
        values = dict(values or {})
        names = [p.name for p in self.params]
        if len(positional) > len(names):
            raise LabError(
                f"task {self.name!r} takes {len(names)} parameter(s) ({', '.join(names) or 'none'}), "
                f"got {len(positional)}"
            )
        for name, value in zip(names, positional, strict=False):
            if name in values:
                raise LabError(f"parameter {name!r} of task {self.name!r} is given twice")
            values[name] = value
        for name in values:
            if name not in names:
                raise UnknownNameError(f"parameter of task {self.name!r}", name, names)
        bound: dict[str, ParamValue] = {}
        for param in self.params:
            if param.name in values:
                bound[param.name] = param.coerce(values[param.name], self.name)
            elif param.default is not None:
                bound[param.name] = param.default
            else:
                raise LabError(
                    f"task {self.name!r} needs parameter {param.name!r}", hint=param.describe()
                )
        problem = self.check(bound) if self.check else None
        if problem:
            raise LabError(f"task {self.name!r}: {problem}")
        return Task(world=world, family=self, params=tuple(bound.items()))

    def bindings(self, world: str, values: Mapping[str, Any] | None = None) -> list[Task]:
        """Every task of this family over its choice parameters (numbers from `values`, else their defaults), in
        the order of the choices; bindings the family refuses (a cube stacked on itself) are left out."""
        options = [[(p.name, c) for c in p.choices] for p in self.params if p.choices]
        tasks = []
        for chosen in product(*options):
            try:
                tasks.append(self.bind(world, {**(values or {}), **dict(chosen)}))
            except LabError:
                continue
        return tasks


@dataclass(frozen=True)
class Task:
    """A task: a family with bound parameters, in a named world."""

    world: str
    family: TaskFamily
    params: tuple[tuple[str, ParamValue], ...] = ()

    @cached_property
    def param_map(self) -> Mapping[str, ParamValue]:
        return MappingProxyType(dict(self.params))

    @property
    def name(self) -> str:
        return self.family.name

    @property
    def id(self) -> str:
        """Canonical spec: `family` or `family(k=v, ...)`; parses back to the same task."""
        if not self.params:
            return self.family.name
        inner = ", ".join(f"{k}={_format_value(v)}" for k, v in self.params)
        return f"{self.family.name}({inner})"

    @property
    def description(self) -> str:
        return self.family.description.format(**self.param_map)

    @property
    def horizon(self) -> int:
        return self.family.horizon

    def success(self, state: State) -> np.ndarray:
        """Per env, whether this state meets the goal: bool array of shape (n,)."""
        return np.asarray(self.family.success(state, self.param_map), dtype=bool)

    def fitness(self, state: State) -> np.ndarray:
        """Per env, the task metric at this state: float array of shape (n,)."""
        return np.asarray(self.family.fitness(state, self.param_map), dtype=np.float64)

    def step_success(self, state: State) -> np.ndarray:
        """Per env, what an episode's judge records at this state: the success check, shape (n,); for a composite
        task each part's, shape (n, parts), so that the episode can be judged part by part in order."""
        if self.family.parts:
            return np.stack([part.success(state) for part in self.family.parts], axis=-1)
        return self.success(state)

    def breaks_order(self, held: np.ndarray, now: np.ndarray) -> np.ndarray:
        """For a composite, per env: whether a part holds for the first time (`now`, shape (n, parts), against
        `held`, the parts that held at some earlier step) before every part ahead of it has held. Running form of
        the order rule in `episode_success`."""
        after = held | now
        earlier_done = np.logical_and.accumulate(after, axis=-1)
        ahead_done = np.concatenate([np.ones_like(after[..., :1]), earlier_done[..., :-1]], axis=-1)
        return np.asarray((now & ~held & ~ahead_done).any(axis=-1), dtype=bool)

    def episode_success(self, per_step: np.ndarray) -> np.ndarray:
        """Episode success from what `step_success` recorded at each step, shape (T, n) (or (T,)), by
        `success_when`. A composite (shape (T, n, parts) or (T, parts)) succeeds when every part holds at the end
        and the parts first held in their order."""
        steps = np.asarray(per_step, dtype=bool)
        if self.family.parts:
            first = np.where(steps.any(axis=0), steps.argmax(axis=0), len(steps))
            in_order = np.all(np.diff(first, axis=-1) >= 0, axis=-1)
            return np.asarray(steps[-1].all(axis=-1) & in_order, dtype=bool)
        return self.fold_success(steps.any(axis=0), steps[-1])

    def episode_fitness(self, per_step: np.ndarray) -> np.ndarray:
        """Episode fitness from per-step fitness of shape (T, n) (or (T,)), by `fitness_over`."""
        steps = np.asarray(per_step, dtype=np.float64)
        return self.fold_fitness(steps.sum(axis=0), steps[-1], steps.max(axis=0), len(steps))

    def fold_success(self, any_step: npt.ArrayLike, last: npt.ArrayLike) -> np.ndarray:
        """Episode success from running totals: whether any step succeeded, and the last step's success."""
        return np.asarray(last if self.family.success_when == "final" else any_step, dtype=bool)

    def fold_fitness(self, total: npt.ArrayLike, last: npt.ArrayLike, best: npt.ArrayLike,
                     length: npt.ArrayLike) -> np.ndarray:
        """Episode fitness from running totals over its steps: their sum, the last value, the best, the count."""
        if self.family.fitness_over == "final":
            return np.asarray(last, dtype=np.float64)
        if self.family.fitness_over == "max":
            return np.asarray(best, dtype=np.float64)
        return np.asarray(total, dtype=np.float64) / np.maximum(length, 1)


def all_of(world: str, parts: Sequence[Task]) -> Task:
    """A composite task, `A & B & ...`: done in order in one episode, judged by every part's success check (all
    must hold at the end, and each must first have held no earlier than the one before it) and the sum of their
    fitness at the end. Its id parses back to the same task."""
    if len(parts) < 2:
        raise LabError("a composite task needs at least two parts, joined by &")
    momentary = [part.id for part in parts if part.family.success_when != "final"]
    if momentary:
        raise LabError(f"{', '.join(momentary)} succeeds at a moment, not in the end state, so it cannot be judged "
                       "as part of a composite task", hint="compose tasks whose success holds at the end")

    def success(state: State, _: Mapping[str, ParamValue]) -> np.ndarray:
        return np.logical_and.reduce([part.success(state) for part in parts])

    def fitness(state: State, _: Mapping[str, ParamValue]) -> np.ndarray:
        return np.sum([part.fitness(state) for part in parts], axis=0)

    description = ", then ".join(part.description for part in parts).replace("{", "{{").replace("}", "}}")
    family = TaskFamily(" & ".join(part.id for part in parts), description, success, fitness,
                        "the sum of the parts' fitness at the end", sum(part.horizon for part in parts),
                        fitness_over="final", parts=tuple(parts))
    return family.bind(world)


def _format_value(value: ParamValue) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_SPEC = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def parse_task_spec(spec: str) -> tuple[str, list[str], dict[str, str]]:
    """Split `family`, `family(a, b)` or `family(k=v, ...)` into name, positional and keyword values."""
    match = _SPEC.match(spec)
    if not match:
        raise LabError(
            f"cannot read task {spec!r}",
            hint="write a task as NAME, NAME(value, ...) or NAME(param=value, ...), e.g. 'place(cube_red, zone_blue)'",
        )
    name, inner = match.group(1), match.group(2)
    positional: list[str] = []
    keywords: dict[str, str] = {}
    if inner and inner.strip():
        for part in inner.split(","):
            part = part.strip()
            if not part:
                raise LabError(f"empty parameter in task {spec!r}")
            if "=" in part:
                key, value = (s.strip() for s in part.split("=", 1))
                if key in keywords:
                    raise LabError(f"parameter {key!r} is given twice in task {spec!r}")
                keywords[key] = value
            elif keywords:
                raise LabError(f"positional value {part!r} after a keyword one in task {spec!r}")
            else:
                positional.append(part)
    return name, positional, keywords


@runtime_checkable
class HasState(Protocol):
    """What every world env offers besides Gymnasium's API: the state view of its current simulation."""

    def state(self) -> dict[str, np.ndarray]: ...


def as_batch(state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One env's state as a batch of one."""
    return {name: value[None] for name, value in state.items()}


@dataclass
class World(ABC):
    """A family of simulated scenes with its state view, description and task families."""

    name: str
    summary: str
    state_fields: tuple[StateField, ...]
    task_families: Mapping[str, TaskFamily]
    action_meaning: str = ""
    """What each action dimension does, as the writers are told."""
    major_version: int = 1
    kind: Literal["locomotion", "manipulation"] = "locomotion"
    source_files: tuple[Path, ...] = field(default=(), repr=False)
    """Files that define the world; their content goes into `version`."""
    backends: tuple[str, ...] = ("native",)
    """How `make_batch` can simulate the world: `native` (every world), `warp` (MuJoCo Warp)."""

    @cached_property
    def version(self) -> str:
        """`NAME-vMAJOR+HASH`: the hash covers the defining files and the simulator versions."""
        import mujoco

        digest = hashlib.sha256()
        for path in sorted(self.source_files):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        digest.update(f"mujoco={mujoco.__version__};gymnasium={gym.__version__}".encode())
        return f"{self.name}-v{self.major_version}+{digest.hexdigest()[:10]}"

    def task(self, spec: str | Task | None = None) -> Task:
        """The task named by `spec` (e.g. `place(cube_red, zone_blue)`); None means the first family."""
        if isinstance(spec, Task):
            if spec.world != self.name:
                raise LabError(f"task {spec.id!r} belongs to world {spec.world!r}, not {self.name!r}")
            return spec
        if spec is None:
            return next(iter(self.task_families.values())).bind(self.name)
        if "&" in spec:
            return all_of(self.name, [self.task(part.strip()) for part in spec.split("&")])
        name, positional, keywords = parse_task_spec(spec)
        family = self.task_families.get(name)
        if family is None:
            raise UnknownNameError(
                f"task of world {self.name!r}", name, self.task_families,
                hint=f"`lab worlds show {self.name}` lists its tasks and their parameters",
            )
        return family.bind(self.name, keywords, positional)

    def default_tasks(self) -> list[Task]:
        """One task per family, with default parameters."""
        return [family.bind(self.name) for family in self.task_families.values()]

    def state_field(self, name: str) -> StateField:
        for state_field in self.state_fields:
            if state_field.name == name:
                return state_field
        raise UnknownNameError(f"state field of world {self.name!r}", name, [f.name for f in self.state_fields])

    @abstractmethod
    def make_env(self, task: Task | str | None = None, *, seed: int | None = None,
                 render_mode: str | None = None) -> gym.Env:
        """A new env for `task`: its first `reset()` without a seed uses `seed`; episodes end at the horizon."""

    @abstractmethod
    def state_source(self) -> str:
        """The source code that computes the state, shown to writers as Eureka shows the env's code."""

    def make_batch(self, task: Task | str | None, num_envs: int, *, seed: int = 0, threads: int = 1,
                   backend: str = "native", device: str = "auto") -> BatchedEnv:
        """`num_envs` copies of `task`'s env stepped together (copy i starts from seed + i): one Gymnasium env per
        copy stepped in turn, unless the world has a native batch (which steps them in C across `threads`) or,
        with `backend="warp"`, a MuJoCo Warp batch on `device`."""
        if backend == "warp":
            raise LabError(f"world {self.name!r} has no MuJoCo Warp backend",
                           hint="train it with --backend native (the Gymnasium adapter worlds have both)")
        return SerialBatch(self, self.task(task), num_envs, seed)

    def observe(self, env: gym.Env) -> np.ndarray:
        """The observation a policy acting in `env` sees now, read without stepping (policy skills act from it)."""
        return np.asarray(env.unwrapped._get_obs())  # type: ignore[attr-defined]

    def robot(self, env: gym.Env) -> Any | None:
        """The robot API over `env` for skill programs, or None in worlds without primitives."""
        return None

    def robot_api_doc(self) -> str | None:
        """Documentation of the robot API given to skill writers, or None in worlds without primitives."""
        return None

    def reference_solutions(self) -> Mapping[str, Callable[..., Any]]:
        """Scripted programs `f(robot, **params)` per task family, used by the world checks."""
        return {}
