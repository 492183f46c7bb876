"""How sure a search's outcome is: bootstrap intervals over the held-out episodes, and a verdict in plain words.

The best candidate and both baselines are each evaluated on the same held-out seeds. Resampling each one's episodes
(with replacement, `RESAMPLES` times) gives a 95% interval for its mean fitness, for the differences between them,
and for the human-normalized score (best - sparse) / |human - sparse|. When the interval of human - sparse holds
zero, the two baselines cannot be told apart on these episodes: the score would divide noise by noise, so there is
none.

A policy trained on several seeds (`lab reward --seeds N`) is one group of episodes per training seed; its mean is
the mean of the seeds' means, and its draws come from Student's t over those seed means (mean + standard error x
t with N - 1 degrees of freedom), so the intervals hold the spread between training seeds as well as between
episodes. Resampling 2 or 3 seeds with replacement would not: its percentile interval is the range of the seed
means, which holds the true mean about half the time with 2 seeds. The t draws are wide with few seeds (with 2, a
Cauchy), which is what 2 or 3 seeds can say. With one seed the intervals cover the evaluation episodes' spread only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

Runs = np.ndarray | Sequence[np.ndarray]
"""One policy's per-episode fitness: one array (one training seed), or one array per training seed."""

RESAMPLES = 4000
LEVEL = 0.95


@dataclass(frozen=True)
class Outcome:
    """The search's outcome with its uncertainty: each policy's mean fitness with its interval, the score with its
    interval (None when the baselines are indistinguishable or missing), and the verdict, one sentence a line."""

    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    score: float | None = None
    score_interval: tuple[float, float] | None = None
    verdict: list[str] = field(default_factory=list)
    differences: dict[str, tuple[float, float]] = field(default_factory=dict)
    """95% interval of the best's mean fitness minus each other policy's (by name)."""


def _interval(samples: np.ndarray) -> tuple[float, float]:
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def _groups(runs: Runs) -> list[np.ndarray]:
    """A policy's episodes as one float array per training seed, empty seeds left out."""
    if (isinstance(runs, np.ndarray) and runs.ndim <= 1) or (len(runs) and np.ndim(runs[0]) == 0):
        groups = [np.asarray(runs)]
    else:
        groups = list(runs)
    return [np.asarray(g, dtype=np.float64).reshape(-1) for g in groups if len(g)]


def _mean(groups: list[np.ndarray]) -> float:
    return float(np.mean([g.mean() for g in groups]))


def _resampled_means(groups: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """`RESAMPLES` draws of a policy's mean: bootstrap means of its episodes when there is one training seed;
    else the mean of its seeds' means plus their standard error times Student's t (N - 1 degrees of freedom)."""
    if len(groups) == 1:
        values = groups[0]
        picks = rng.integers(0, len(values), size=(RESAMPLES, len(values)))
        return values[picks].mean(axis=1)
    means = np.array([g.mean() for g in groups])
    error = means.std(ddof=1) / np.sqrt(len(means))
    return means.mean() + error * rng.standard_t(len(means) - 1, size=RESAMPLES)


def _compare(name: str, difference: tuple[float, float], other: str) -> str:
    low, high = difference
    if low > 0:
        return f"{name} is above {other} (difference {low:+.3g} to {high:+.3g})"
    if high < 0:
        return f"{name} is below {other} (difference {low:+.3g} to {high:+.3g})"
    return f"{name} and {other} cannot be told apart on these episodes (difference {low:+.3g} to {high:+.3g})"


def _verdict_order(name: str) -> tuple[int, str]:
    """Sparse, then human, then any other program compared (by name)."""
    return ({"sparse": 0, "human": 1}.get(name, 2), name)


def outcome(best: Runs, baselines: dict[str, Runs], seed: int = 0, sampled: Runs | None = None) -> Outcome:
    """The outcome of per-episode fitness `best` (deterministic actions) against the baselines' (by name: human,
    sparse, and any other program compared, e.g. the promoted one); `sampled` is the best's with actions sampled as
    in training, and a gap between the two is said. Each may be one array or one per training seed."""
    rng = np.random.default_rng(seed)
    runs = {"best": _groups(best)}
    runs |= {name: _groups(values) for name, values in baselines.items()}
    if sampled is not None:
        runs["best (sampled)"] = _groups(sampled)
    runs = {name: groups for name, groups in runs.items() if groups}
    means = {name: _resampled_means(groups, rng) for name, groups in runs.items()}
    intervals = {name: _interval(samples) for name, samples in means.items()}
    differences = {name: _interval(means["best"] - means[name])
                   for name in sorted(set(means) - {"best", "best (sampled)"}, key=_verdict_order)}
    verdict = [_compare("the best", difference, name) for name, difference in differences.items()]
    if "best (sampled)" in means:
        low, high = _interval(means["best (sampled)"] - means["best"])
        if low > 0 or high < 0:
            verdict.append(f"the best policy scores {_mean(runs['best (sampled)']):.4g} with its actions sampled "
                           f"as in training and {_mean(runs['best']):.4g} with its deterministic actions (the "
                           "outcome's): its training curves show the sampled one")
    if "human" not in means or "sparse" not in means:
        return Outcome(intervals, None, None, verdict + ["no human-normalized score: it needs both baselines"],
                       differences)
    gap = _interval(means["human"] - means["sparse"])
    if gap[0] <= 0 <= gap[1]:
        verdict.append(f"human and sparse cannot be told apart on these episodes (difference {gap[0]:+.3g} to "
                       f"{gap[1]:+.3g}): no human-normalized score, it would divide noise by noise")
        return Outcome(intervals, None, None, verdict, differences)
    spread = np.abs(means["human"] - means["sparse"])
    scores = (means["best"] - means["sparse"]) / np.maximum(spread, 1e-12)
    point = (_mean(runs["best"]) - _mean(runs["sparse"])) / abs(_mean(runs["human"]) - _mean(runs["sparse"]))
    return Outcome(intervals, point, _interval(scores), verdict, differences)
