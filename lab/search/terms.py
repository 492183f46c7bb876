"""The offline reward designer: reward programs composed from typed terms over a world's state, evolved.

AutoRL-style evolutionary reward search, with no language model. The world's state fields give the candidate
terms (a distance between two positions with linear, exponential or tolerance shaping; a velocity along an axis; a
height; uprightness; a scalar field's value; action cost; an alive bonus). Terms are chosen by matching the task's
words against each term's description with the embedding model. Children are made from a parent's genome guided
by the same statistics an LLM reads in the reflection: a flat component is rescaled, a dominating one damped, a
reward that taught nothing is rewritten. Its output is ordinary Python source, like an LLM's.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from lab.embedding import Embedder
from lab.rewards.program import sample_states
from lab.search.reflection import ComponentStats, TrainingStats
from lab.worlds.core import Task, World

SHAPINGS = ("linear", "exp", "tolerance")
AXES = ("x", "y", "z")


@dataclass(frozen=True)
class Term:
    """One weighted reward term; `kind` says which state it reads and how."""

    kind: str
    fields: tuple[str, ...] = ()
    axis: int = 0
    sign: float = 1.0
    shaping: str = "linear"
    scale: float = 1.0
    weight: float = 1.0

    @property
    def key(self) -> str:
        """What the term measures, without its weight, shaping or direction: a genome holds one term per key (so
        never a velocity and its opposite)."""
        return f"{self.kind}:{','.join(self.fields)}:{self.axis}"

    @property
    def name(self) -> str:
        short = [f.removesuffix("_pos").removesuffix("_vel") for f in self.fields]
        if self.kind == "distance":
            return f"near_{short[0]}_{short[1]}"
        if self.kind == "velocity":
            return f"{short[0]}_speed_{'pos' if self.sign > 0 else 'neg'}_{AXES[self.axis]}"
        if self.kind == "height":
            return f"{short[0]}_height"
        if self.kind == "upright":
            return "upright"
        if self.kind == "value":
            return f"{self.fields[0]}" if self.sign > 0 else f"low_{self.fields[0]}"
        if self.kind == "fitness":
            return "task_fitness"
        return self.kind

    def expression(self) -> str:
        """Numpy source for the term's value, before its weight, shape (n,)."""
        if self.kind == "distance":
            a, b = self.fields
            distance = f'np.linalg.norm(state["{a}"] - state["{b}"], axis=-1)'
            if self.shaping == "exp":
                return f"np.exp(-{distance} / {self.scale:.4g})"
            if self.shaping == "tolerance":
                return f"np.where({distance} < {self.scale:.4g}, 1.0, np.exp(-({distance} - {self.scale:.4g}) / " \
                       f"{self.scale:.4g}))"
            return f"-{distance}"
        if self.kind == "velocity":
            return f'{self.sign:.0f}.0 * state["{self.fields[0]}"][:, {self.axis}]'
        if self.kind == "height":
            return f'state["{self.fields[0]}"][:, 2]'
        if self.kind == "upright":
            return f'state["{self.fields[0]}"][:, 2]'
        if self.kind == "value":
            return f'{self.sign:.0f}.0 * state["{self.fields[0]}"].astype(np.float64)'
        if self.kind == "fitness":
            return f"({self.fields[0]})"
        if self.kind == "action_cost":
            return "-np.sum(np.square(action), axis=-1)"
        if self.kind == "alive":
            return "np.ones(action.shape[0])"
        raise ValueError(f"unknown term kind {self.kind}")


@dataclass(frozen=True)
class Prototype:
    """A term the world offers, with the words it is matched by and its similarity to the task."""

    term: Term
    description: str
    similarity: float = 0.0


@dataclass
class Genome:
    """A reward program as terms (and optionally a base program, e.g. the human reward, added as one term)."""

    terms: list[Term]
    base: str = ""
    base_weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"terms": [asdict(t) for t in self.terms], "base": self.base, "base_weight": self.base_weight}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Genome:
        terms = [Term(**{**t, "fields": tuple(t["fields"])}) for t in data["terms"]]
        return cls(terms, str(data.get("base", "")), float(data.get("base_weight", 1.0)))

    def render(self, task: Task, note: str = "") -> str:
        """The genome as a reward program in the same form an LLM writes."""
        lines = [f'"""Reward for: {task.description}.', "",
                 "Composed by the offline reward designer from typed terms over the state" +
                 (f"; {note}" if note else "") + '."""', "", "import numpy as np", ""]
        if self.base:
            lines += [_renamed_base(self.base), ""]
        lines += ["", "def compute_reward(state, action):"]
        names = []
        if self.base:
            lines.append(f"    base, _ = base_reward(state, action)\n    base = {self.base_weight:.4g} * base")
            names.append("base")
        for term in self.terms:
            lines.append(f"    {term.name} = {term.weight:.4g} * {term.expression()}")
            names.append(term.name)
        lines.append(f"    reward = {' + '.join(names) if names else 'np.zeros(action.shape[0])'}")
        lines.append("    return reward, {" + ", ".join(f'"{n}": {n}' for n in names) + "}")
        return "\n".join(lines) + "\n"


def _renamed_base(source: str) -> str:
    """A program's `compute_reward` renamed to `base_reward`, with its module docstring dropped."""
    tree = ast.parse(source)
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "compute_reward":
            node.name = "base_reward"
        if isinstance(node, ast.Name) and node.id == "compute_reward":
            node.id = "base_reward"
    tree.body = body
    return ast.unparse(tree)


def prototypes(world: World, task: Task, embedder: Embedder, extra_text: str = "",
               constant: frozenset[str] = frozenset()) -> list[Prototype]:
    """Every term the world's state offers, each scored by meaning against the task. A term whose value cannot
    change is left out: the distance between two fields in `constant` (the same in every state of random rollouts
    over several episodes), the height or velocity of one. (A scalar that random actions never change is kept: a
    drawer's opening or a grasp flag moves only when the policy does something right.) Two points fixed to the
    robot make no distance term; a scalar goes the way its field says is better; the task's own fitness, where the
    world can write it, scores above every other term."""
    fields = world.state_fields
    positions = [f for f in fields if f.shape == (3,) and f.unit == "m" and f.name.endswith("_pos")]
    velocities = [f for f in fields if f.shape == (3,) and f.unit == "m/s"]
    found: list[tuple[Term, str]] = []
    for i, a in enumerate(positions):
        for b in positions[i + 1:]:
            if (a.on_robot and b.on_robot) or (a.name in constant and b.name in constant):
                continue
            found.append((Term("distance", (a.name, b.name), shaping="exp"),
                          f"move the {_words(a.name)} to the {_words(b.name)}: bring {a.meaning} close to "
                          f"{b.meaning}"))
        if a.name in constant:
            continue
        found.append((Term("height", (a.name,)), f"raise the {_words(a.name)} high: lift, jump, height of "
                                                 f"{a.meaning} above the ground"))
    for v in velocities:
        if v.name in constant:
            continue
        for axis, direction in enumerate(AXES):
            for sign, words in ((1.0, {"x": "forward", "y": "left", "z": "up"}[direction]),
                                (-1.0, {"x": "backward", "y": "right", "z": "down"}[direction])):
                found.append((Term("velocity", (v.name,), axis=axis, sign=sign),
                              f"run {words} fast: {_words(v.name)} along {'+' if sign > 0 else '-'}{direction} "
                              f"({v.meaning})"))
    for f in fields:
        if f.name == "up" and f.shape == (3,):
            found.append((Term("upright", (f.name,)), "stay upright and balanced, do not fall over or flip"))
        if f.shape == () and f.unit != "s":
            lower = f.better == "lower"
            found.append((Term("value", (f.name,), sign=-1.0 if lower else 1.0),
                          f"{'decrease' if lower else 'increase'} {_words(f.name)}: {f.meaning}"))
    found.append((Term("action_cost", weight=0.05), "use small smooth actions with little control effort and energy"))
    found.append((Term("alive"), "stay alive and healthy for the whole episode, keep going without falling"))
    query = f"{task.description}. {extra_text}".strip()
    vectors = embedder.encode([query, *[d for _, d in found]])
    scores = vectors[1:] @ vectors[0]
    offered = [Prototype(term, text, float(score) + _direction_bonus(term, query))
               for (term, text), score in zip(found, scores, strict=True)]
    if task.family.fitness_expression:
        best = max((p.similarity for p in offered), default=0.0)
        offered.insert(0, Prototype(Term("fitness", (task.family.fitness_expression,)),
                                    f"the task's own fitness: {task.family.fitness_meaning}", best + 0.05))
    return offered


DIRECTIONS = {(0, 1.0): "forward", (0, -1.0): "backward", (1, 1.0): "left", (1, -1.0): "right", (2, 1.0): "up",
              (2, -1.0): "down"}
OPPOSITE = {"forward": "backward", "backward": "forward", "left": "right", "right": "left", "up": "down",
            "down": "up"}


def _direction_bonus(term: Term, query: str) -> float:
    """Sentence embeddings barely tell "run forward" from "run backward": a velocity term whose direction the
    task names is raised, and one whose opposite the task names (and not its own) is pushed well down."""
    if term.kind != "velocity":
        return 0.0
    words = set(query.lower().replace("(", " ").replace(")", " ").replace(",", " ").replace(".", " ").split())
    direction = DIRECTIONS[(term.axis, term.sign)]
    if direction in words:
        return 0.1
    if OPPOSITE[direction] in words:
        return -0.3
    return 0.0


def _words(name: str) -> str:
    return name.removesuffix("_pos").removesuffix("_vel").replace("_", " ")


def typical_distances(world: World, state: Mapping[str, np.ndarray]) -> dict[tuple[str, str], float]:
    """The median distance between every two position fields over a random rollout's states (to scale shaped
    terms)."""
    names = [f.name for f in world.state_fields if f.shape == (3,) and f.unit == "m" and f.name.endswith("_pos")]
    return {(a, b): max(float(np.median(np.linalg.norm(state[a] - state[b], axis=-1))), 1e-3)
            for i, a in enumerate(names) for b in names[i + 1:]}


def constant_fields(states: list[Mapping[str, np.ndarray]]) -> frozenset[str]:
    """The fields that never changed over batches of states from different episodes (a term on one would only
    shift the reward; a target that is fixed within an episode but moves between them is not constant)."""
    names = set(states[0])
    return frozenset(name for name in names
                     if np.asarray(states[0][name]).size and
                     np.ptp(np.concatenate([np.asarray(s[name], dtype=np.float64) for s in states]), axis=0).max() == 0)


@dataclass
class OfflineRewardDesigner:
    """Proposes reward genomes for one task and mutates them from training statistics; deterministic per seed."""

    world: World
    task: Task
    embedder: Embedder
    seed: int = 0
    extra_text: str = ""
    temperature: float = 0.04
    catalogue: list[Prototype] = field(default_factory=list)
    distances: dict[tuple[str, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.catalogue or not self.distances:
            state, _ = sample_states(self.world, self.task, self.seed, steps=64)
            if not self.catalogue:
                others = [sample_states(self.world, self.task, self.seed + k, steps=8)[0] for k in (1, 2)]
                self.catalogue = prototypes(self.world, self.task, self.embedder, self.extra_text,
                                            constant_fields([state, *others]))
            if not self.distances:
                self.distances = typical_distances(self.world, state)
        self._similarity = {(p.term.key, p.term.sign): p.similarity for p in self.catalogue}

    def rng(self, *salt: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *salt])

    # ----- making terms
    def _draw(self, rng: np.random.Generator, exclude: set[str], bias: np.ndarray | None = None) -> Term | None:
        positions = [i for i, p in enumerate(self.catalogue) if p.term.key not in exclude and
                     p.term.kind != "action_cost"]
        if not positions:
            return None
        options = [self.catalogue[i] for i in positions]
        scores = np.array([p.similarity for p in options])
        if bias is not None:
            scores = scores + bias[positions]
        weights = np.exp((scores - scores.max()) / self.temperature)
        choice = options[int(rng.choice(len(options), p=weights / weights.sum()))]
        return self._fresh(choice.term, rng)

    def _fresh(self, term: Term, rng: np.random.Generator) -> Term:
        weight = float(np.exp(rng.uniform(math.log(0.5), math.log(2.0))))
        if term.kind == "distance":
            typical = self.distances.get((term.fields[0], term.fields[1]), 0.1)
            shaping = SHAPINGS[int(rng.integers(len(SHAPINGS)))]
            scale = typical * (0.5 if shaping == "exp" else 0.1) * float(np.exp(rng.normal(0, 0.3)))
            return replace(term, shaping=shaping, scale=scale, weight=weight)
        return replace(term, weight=weight)

    def _cost(self, rng: np.random.Generator) -> Term:
        return Term("action_cost", weight=float(np.exp(rng.uniform(math.log(0.005), math.log(0.1)))))

    def fresh_genome(self, rng: np.random.Generator, base: str = "", first: bool = False) -> Genome:
        """A new genome: one to three terms drawn by meaning, often with an action cost; the `first` of a search
        starts from the task's own fitness where the world can write it."""
        terms: list[Term] = []
        fitness = next((p.term for p in self.catalogue if p.term.kind == "fitness"), None)
        if first and fitness is not None:
            terms.append(self._fresh(fitness, rng))
        for _ in range(1 + int(rng.binomial(2, 0.35))):
            term = self._draw(rng, {t.key for t in terms})
            if term is not None:
                terms.append(term)
        if rng.random() < 0.5:
            terms.append(self._cost(rng))
        return Genome(terms, base=base)

    # ----- evolving
    def mutate(self, genome: Genome, stats: TrainingStats | None, rng: np.random.Generator,
               feedback_bias: np.ndarray | None = None) -> tuple[Genome, list[str]]:
        """A child of `genome`: rescale what the statistics call flat, damp what dominates, then perturb."""
        notes: list[str] = []
        if stats is not None and stats.learned_nothing and rng.random() < 0.5:
            notes.append("the task fitness never improved and nothing succeeded: rewritten")
            return self.fresh_genome(rng, genome.base), notes
        terms: list[Term] = []
        for term in genome.terms:
            component = stats.components.get(term.name) if stats is not None else None
            guided = self._guided(term, component, stats, notes)
            if guided is not None:
                terms.append(guided)
        for index, term in enumerate(terms):
            factor = float(np.exp(rng.normal(0, 0.35)))
            terms[index] = replace(term, weight=term.weight * factor)
        roll = rng.random()
        if roll < 0.35 or not terms:
            added = self._draw(rng, {t.key for t in terms}, feedback_bias)
            if added is not None:
                terms.append(added)
                notes.append(f"added {added.name}")
        elif roll < 0.55 and len(terms) > 1:
            weakest = min(terms, key=lambda t: self._similarity.get((t.key, t.sign), 0.0))
            terms.remove(weakest)
            notes.append(f"dropped {weakest.name}")
        elif roll < 0.75:
            shaped = [i for i, t in enumerate(terms) if t.kind == "distance"]
            if shaped:
                index = int(rng.choice(shaped))
                shaping = SHAPINGS[int(rng.integers(len(SHAPINGS)))]
                terms[index] = replace(terms[index], shaping=shaping)
                notes.append(f"{terms[index].name} shaped {shaping}")
        base_weight = genome.base_weight * float(np.exp(rng.normal(0, 0.2))) if genome.base else 1.0
        return Genome(terms, genome.base, base_weight), notes

    def _guided(self, term: Term, component: ComponentStats | None, stats: TrainingStats | None,
                notes: list[str]) -> Term | None:
        if component is None or stats is None:
            return term
        if component.flat:
            if term.kind == "distance" and term.shaping != "linear":
                notes.append(f"{term.name} was flat: scale {term.scale:.3g} -> {term.scale * 3:.3g}")
                return replace(term, scale=term.scale * 3)
            if len(stats.components) > 1:
                notes.append(f"{term.name} was flat: dropped")
                return None
            notes.append(f"{term.name} was flat: weight x3")
            return replace(term, weight=term.weight * 3)
        if stats.dominant == term.name and len(stats.components) > 1:
            notes.append(f"{term.name} dominated the reward: weight x0.3")
            return replace(term, weight=term.weight * 0.3)
        return term

    def feedback_bias(self, text: str) -> np.ndarray:
        """Similarity of each catalogue term to a person's feedback, so added terms follow what they asked."""
        vectors = self.embedder.encode([text, *[p.description for p in self.catalogue]])
        return 0.5 * (vectors[1:] @ vectors[0])
