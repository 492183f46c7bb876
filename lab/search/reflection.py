"""Reflection on a training run, as Eureka writes it: every reward component and the task's numbers at ~10 points.

The same statistics feed the LLM designer (as text) and the offline designer (as numbers): which components were
flat, which dominated, whether the task fitness improved, and whether the reward climbed while the task fitness
did not (reward hacking).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

POINTS = 10
FLAT = 0.05
"""A component is flat when its range over training is below this fraction of its typical magnitude."""
DOMINANT = 0.8
"""A component dominates when it carries more than this share of the reward's total magnitude."""
FLAT_FITNESS = 0.02
"""The task fitness is flat when it gained less than this fraction of its largest magnitude over training."""
FROZEN = 0.8
"""A policy is frozen when its evaluation episodes spend at least this share of their second half at rest."""


@dataclass
class ComponentStats:
    values: list[float]

    @property
    def flat(self) -> bool:
        values = np.asarray(self.values)
        if len(values) < 2:
            return False
        magnitude = max(float(np.abs(values).mean()), 1e-6)
        return float(values.max() - values.min()) < FLAT * magnitude or float(np.abs(values).max()) < 1e-6


@dataclass
class TrainingStats:
    """A run's curves thinned to ~10 points: per-step components, fitness, success rate, episode length, return."""

    components: dict[str, ComponentStats]
    fitness: list[float]
    success_rate: list[float]
    episode_length: list[float]
    episode_reward: list[float]
    shares: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_curve(cls, points: list[dict[str, Any]]) -> TrainingStats:
        chosen = _thin(points)
        names = sorted({n for p in chosen for n in p.get("step_components", {})})
        components = {n: ComponentStats([float(p.get("step_components", {}).get(n, 0.0)) for p in chosen])
                      for n in names}
        with_episodes = _thin([p for p in points if p.get("episodes")])
        late = chosen[len(chosen) // 2:] or chosen
        magnitude = {n: float(np.mean([abs(p.get("step_components", {}).get(n, 0.0)) for p in late])) for n in names}
        total = sum(magnitude.values()) or 1.0
        return cls(
            components=components,
            fitness=[float(p["fitness"]) for p in with_episodes] or [float(p["step_fitness"]) for p in chosen],
            success_rate=[float(p["success_rate"]) for p in with_episodes],
            episode_length=[float(p["episode_length"]) for p in with_episodes],
            episode_reward=[float(p["episode_reward"]) for p in with_episodes],
            shares={n: m / total for n, m in magnitude.items()},
        )

    @property
    def dominant(self) -> str | None:
        """The component carrying most of the reward's magnitude, when there are others for it to crowd out."""
        if len(self.shares) < 2:
            return None
        name = max(self.shares, key=lambda n: self.shares[n], default=None)
        return name if name is not None and self.shares[name] > DOMINANT else None

    @property
    def fitness_gain(self) -> float:
        return _late_minus_early(self.fitness)

    @property
    def learned_nothing(self) -> bool:
        return self.fitness_gain <= 0 and max(self.success_rate, default=0.0) == 0.0

    @property
    def fitness_flat(self) -> bool:
        """The task fitness did not improve beyond a sliver of its own scale (or fell)."""
        scale = max(float(np.abs(self.fitness).max()), 1e-6) if self.fitness else 1e-6
        return self.fitness_gain <= FLAT_FITNESS * scale

    def reward_climbed(self, share: float) -> bool:
        """The reward's episode return rose by more than `share` of its largest magnitude over training."""
        if len(self.episode_reward) < 3:
            return False
        scale = max(float(np.abs(self.episode_reward).max()), 1e-6)
        return _late_minus_early(self.episode_reward) > share * scale

    @property
    def reward_hacking(self) -> bool:
        """The reward's episode return climbed clearly while the task fitness stayed flat or fell."""
        return len(self.fitness) >= 3 and self.reward_climbed(0.2) and self.fitness_flat

    def hacking_reasons(self, evaluation: dict[str, Any] | None = None) -> list[str]:
        """Why a run looks like reward hacking (none: it does not): the return climbing while the task fitness
        stays flat, or the policy freezing in a posture the reward pays for (at rest through most of its evaluation
        episodes' second half, never succeeding, fitness flat, while the return rose over training)."""
        reasons = []
        if self.reward_hacking:
            reasons.append("the reward's return climbed while the task fitness stayed flat or fell")
        still = float((evaluation or {}).get("still_fraction", 0.0))
        if (still >= FROZEN and float((evaluation or {}).get("success_rate", 0.0)) == 0.0 and self.fitness_flat
                and self.reward_climbed(0.05)):
            reasons.append(f"the policy freezes in a posture the reward pays for: at rest {still:.0%} of the second "
                           "half of its evaluation episodes, never succeeding, while the return rose")
        return reasons

    @property
    def reward_fitness_correlation(self) -> float | None:
        """Spearman correlation, over training, of the reward's episode return with the task fitness."""
        if len(self.episode_reward) < 3 or len(self.episode_reward) != len(self.fitness):
            return None
        ranks = [np.argsort(np.argsort(v)) for v in (self.episode_reward, self.fitness)]
        if min(float(np.std(r)) for r in ranks) == 0:
            return None
        return float(np.corrcoef(ranks[0], ranks[1])[0, 1])


def _thin(points: list[dict[str, Any]], count: int = POINTS) -> list[dict[str, Any]]:
    if len(points) <= count:
        return list(points)
    indices = np.unique(np.linspace(0, len(points) - 1, count).round().astype(int))
    return [points[i] for i in indices]


def _late_minus_early(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    third = max(1, len(values) // 3)
    return float(np.mean(values[-third:]) - np.mean(values[:third]))


def _series(name: str, values: list[float], empty: str = "no data") -> str:
    if not values:
        return f"{name}: {empty}"
    shown = ", ".join(f"{v:.3g}" for v in values)
    return f"{name}: [{shown}], Max: {max(values):.3g}, Mean: {float(np.mean(values)):.3g}, Min: {min(values):.3g}"


def reflection_text(stats: TrainingStats, evaluation: dict[str, Any] | None = None) -> str:
    """Eureka's policy feedback, told straight: each component per step and the task's numbers over finished
    episodes during training (each with its own number of points), the final deterministic evaluation with its
    components, what stands out, and only the tips these statistics call for."""
    points = max((len(c.values) for c in stats.components.values()), default=0)
    lines = [f"We trained an RL policy with the reward function above. Its components, per step, at {points} "
             f"points over training, and the task's numbers over the episodes that finished, at {len(stats.fitness)} "
             "points (each with the maximum, mean and minimum):"]
    lines += [_series(name, component.values) for name, component in stats.components.items()]
    none_finished = "no episode finished at these points"
    lines.append(_series("task_score", stats.fitness, none_finished))
    lines.append(_series("success_rate", stats.success_rate, none_finished))
    lines.append(_series("episode_length", stats.episode_length, none_finished))
    lines.append("These training numbers come from the exploring policy (actions sampled around its mean); the "
                 "final evaluation below runs the deterministic policy (its mean action), so the two can differ.")
    if evaluation:
        components = {k.removeprefix("component/"): v for k, v in evaluation.items() if k.startswith("component/")}
        parts = ", ".join(f"{name} {value:.3g}" for name, value in components.items())
        lines.append(f"Final evaluation (deterministic policy, {int(evaluation.get('episodes', 0)) or 'its'} "
                     f"episodes): task_score {evaluation.get('fitness_mean', 0):.3g}, success rate "
                     f"{evaluation.get('success_rate', 0):.0%}"
                     + (f"; reward components summed over an episode, mean: {parts}." if parts else "."))
    flat = [name for name, c in stats.components.items() if c.flat]
    flags = [f"- {name} stayed nearly constant" for name in flat]
    if stats.dominant:
        flags.append(f"- {stats.dominant} carried {stats.shares[stats.dominant]:.0%} of the reward's magnitude")
    hacking = stats.hacking_reasons(evaluation)
    flags += [f"- REWARD HACKING: {reason}; the policy found a way to collect reward without doing the task"
              for reason in hacking]
    if flags:
        lines += ["Observations:", *flags]
    tips = []
    if stats.learned_nothing:
        tips.append("The task score did not improve and no episode succeeded: the reward as written does not lead "
                    "the policy towards the task; rewrite it around the quantity the task is scored on.")
    elif stats.fitness_gain > 0 and max(stats.success_rate, default=0.0) == 0.0:
        tips.append("The task score improved, though no episode has succeeded yet: keep what drives the "
                    "improvement and make it stronger or more precise near the goal.")
    if hacking:
        tips.append("Remove or bound the term the policy exploits, so that reward only comes with task progress"
                    + (" (a term paying for a posture pays a robot that stands still: reward the task's progress "
                       "instead)" if any("freezes" in reason for reason in hacking) else "") + ".")
    if flat:
        tips.append(f"{', '.join(flat)} stayed nearly constant, so RL cannot optimise it as written: change its scale "
                    "(or its temperature, if it is transformed), rewrite it, or drop it.")
    if stats.dominant:
        tips.append(f"{stats.dominant} dominates the reward: rescale it so the other terms matter.")
    lines.append("Please analyse the feedback above and write a new, improved reward function for the task.")
    lines += [f"({index}) {tip}" for index, tip in enumerate(tips, start=1)]
    return "\n".join(lines)
