"""Reward designers: who writes the candidate reward programs of a search, an LLM (Eureka) or the offline search.

Both take the same inputs, the parents (the best candidates so far, with their reflections and statistics) and
optionally a person's feedback, and give the same output: Python source for `compute_reward`, with a note of how it
was made. A program that fails its check or dry run goes back to its designer with the error (`repair`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from lab.llm.client import LLM
from lab.llm.extract import ExtractionError, extract_code
from lab.llm.prompting import render
from lab.llm.types import Message
from lab.search.config import SearchConfig
from lab.search.reflection import TrainingStats
from lab.search.terms import Genome, OfflineRewardDesigner
from lab.training.config import TrainConfig
from lab.worlds.core import Task, World
from lab.worlds.description import describe


@dataclass
class Proposal:
    """One candidate reward program as its designer wrote it."""

    source: str
    parent: str | None = None
    note: str = ""
    genome: dict[str, Any] | None = None
    error: str = ""
    """Set when the designer could not produce a program at all (e.g. a reply with no code)."""
    history: list[Message] = field(default_factory=list)
    """The conversation that produced it (LLM designers), so a repair continues it."""


@dataclass
class Parent:
    """A trained candidate the next programs are made from."""

    id: str
    source: str
    score: float
    reflection: str
    stats: TrainingStats | None = None
    genome: dict[str, Any] | None = None


class RewardDesigner(Protocol):
    name: str

    def propose(self, parents: list[Parent], k: int, iteration: int, feedback: str | None) -> list[Proposal]:
        """k new programs: from scratch when there are no parents, else improving on them."""
        ...

    def repair(self, proposal: Proposal, error: str, attempt: int) -> Proposal:
        """The proposal rewritten after its check, dry run or extraction failed with `error`."""
        ...


class LLMRewardDesigner:
    """Eureka's designer: the world's description and the task text, then the best programs with their
    reflections (or a person's feedback); K samples per iteration, spread over the parents."""

    name = "llm"

    def __init__(self, llm: LLM, world: World, task: Task, task_text: str = "", how_judged: str = "") -> None:
        self.llm = llm
        self.start = render("reward_initial", world_description=describe(world, task, "reward", words=task_text),
                            how_judged=how_judged)

    def propose(self, parents: list[Parent], k: int, iteration: int, feedback: str | None) -> list[Proposal]:
        if not parents:
            return self._sample(list(self.start), k, None, "first samples")
        proposals: list[Proposal] = []
        shares = [k // len(parents) + (1 if i < k % len(parents) else 0) for i in range(len(parents))]
        for parent, share in zip(parents, shares, strict=True):
            if share == 0:
                continue
            text = feedback or parent.reflection
            messages = [*self.start, {"role": "assistant", "content": f"```python\n{parent.source}```"},
                        *render("reward_reflection", feedback=text)]
            how = "from a person's feedback" if feedback else "from its reflection"
            proposals += self._sample(messages, share, parent.id, f"improved on {parent.id} {how}")
        return proposals

    def _sample(self, messages: list[Message], n: int, parent: str | None, note: str) -> list[Proposal]:
        reply = self.llm.complete(messages, n=n, role="reward_designer")
        return [self._proposal(text, messages, parent, note) for text in reply.texts]

    def _proposal(self, text: str, messages: list[Message], parent: str | None, note: str) -> Proposal:
        history = [*messages, {"role": "assistant", "content": text}]
        try:
            return Proposal(extract_code(text, "compute_reward"), parent, note, history=history)
        except ExtractionError as error:
            return Proposal("", parent, note, error=error.message, history=history)

    def repair(self, proposal: Proposal, error: str, attempt: int) -> Proposal:
        messages = [*proposal.history, *render("reward_repair", error=error)]
        reply = self.llm.complete(messages, n=1, role="reward_designer")
        return self._proposal(reply.texts[0], messages, proposal.parent, f"{proposal.note}; repaired ({attempt})")


OVER_THE_EPISODE = {"mean": "averaged over the episode's steps", "final": "at the episode's last step",
                    "max": "its best value during the episode"}
SUCCESS_AT = {"final": "holds at the episode's last step", "any": "holds at any step of the episode"}


ALGORITHMS = {"ppo": "PPO (an MLP policy, observations and rewards normalised)",
              "sb3-ppo": "PPO (stable-baselines3, an MLP policy)", "sac": "SAC (stable-baselines3, an MLP policy)"}


def how_judged(config: SearchConfig, task: Task) -> str:
    """What the reward designer is told about the training its programs get and how the result is scored: the
    algorithm and budget, the task score in words, the episodes it is measured on, what success means (never the
    scoring code, which judges the designer's work)."""
    training = TrainConfig.model_validate({**config.train, "world": config.world, "task": task.id})
    short = max(64, int(config.steps * config.short_fraction))
    stages = (f" (every program first trains {short:,} steps; the best {config.survivors:.0%} of each iteration's "
              "programs then train the full budget)" if config.short_fraction < 1 else "")
    family = task.family
    said = any(words in family.fitness_meaning for words in ("episode", "at the end"))
    over = "" if said else f", {OVER_THE_EPISODE[family.fitness_over]}"
    return "\n".join([
        "## How your reward is used and how the result is judged",
        f"- Each reward function trains a new policy from scratch: {ALGORITHMS[training.algo]} on {training.envs} "
        f"copies of the world stepped together (your function gets all of them at once), for {config.steps:,} env "
        f"steps{stages}. The policy maximises your reward only; it never sees the task score.",
        f"- The trained policy is judged by the task score: {family.fitness_meaning}{over}. Candidates are ranked "
        "by the deterministic policy's (its mean "
        f"action's) mean task score over {config.select_episodes} evaluation episodes; the best is then compared on "
        f"{config.eval_seeds} held-out episodes with the task's sparse reward and a human-written one.",
        f"- An episode succeeds when the task's check {SUCCESS_AT[family.success_when]}.",
    ])


class OfflineDesigner:
    """The offline designer behind the same interface: fresh genomes first, then guided mutations of parents."""

    name = "offline"

    def __init__(self, search: OfflineRewardDesigner, base: str = "") -> None:
        self.search = search
        self.base = base

    def propose(self, parents: list[Parent], k: int, iteration: int, feedback: str | None) -> list[Proposal]:
        proposals = []
        bias = self.search.feedback_bias(feedback) if feedback else None
        genomes = {p.id: p.genome for p in parents if p.genome is not None}
        genomes.update({p.id: Genome([], base=self.base).to_dict() for p in parents
                        if p.genome is None and self.base and p.source == self.base})
        usable = [p for p in parents if p.id in genomes]
        for index in range(k):
            rng = self.search.rng(iteration, index)
            if not usable:
                genome = self.search.fresh_genome(rng, self.base, first=iteration == 0 and index == 0)
                note, parent_id = "fresh terms drawn by meaning", None
            else:
                parent = usable[index % len(usable)]
                genome, changes = self.search.mutate(Genome.from_dict(genomes[parent.id]), parent.stats, rng, bias)
                note, parent_id = f"from {parent.id}: " + ("; ".join(changes) or "weights perturbed"), parent.id
            proposals.append(Proposal(genome.render(self.search.task, note), parent_id, note, genome.to_dict()))
        return proposals

    def repair(self, proposal: Proposal, error: str, attempt: int) -> Proposal:
        genome = self.search.fresh_genome(self.search.rng(10_000 + attempt, len(error)), self.base)
        note = f"{proposal.note}; redrawn after: {error.splitlines()[0] if error else 'an error'}"
        return Proposal(genome.render(self.search.task, note), proposal.parent, note, genome.to_dict())
