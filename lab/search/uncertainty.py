"""How sure a search's outcome is: bootstrap intervals over the held-out episodes, and a verdict in plain words.

The best candidate and both baselines are each evaluated on the same held-out seeds. Resampling each one's episodes
(with replacement, `RESAMPLES` times) gives a 95% interval for its mean fitness, for the differences between them,
and for the human-normalized score (best - sparse) / |human - sparse|. When the interval of human - sparse holds
zero, the two baselines cannot be told apart on these episodes: the score would divide noise by noise, so there is
none. The intervals cover the evaluation episodes' spread only, not a second training seed's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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


def _interval(samples: np.ndarray) -> tuple[float, float]:
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return float(low), float(high)


def _resampled_means(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    picks = rng.integers(0, len(values), size=(RESAMPLES, len(values)))
    return values[picks].mean(axis=1)


def _compare(name: str, difference: tuple[float, float], other: str) -> str:
    low, high = difference
    if low > 0:
        return f"{name} is above {other} (difference {low:+.3g} to {high:+.3g})"
    if high < 0:
        return f"{name} is below {other} (difference {low:+.3g} to {high:+.3g})"
    return f"{name} and {other} cannot be told apart on these episodes (difference {low:+.3g} to {high:+.3g})"


def outcome(best: np.ndarray, baselines: dict[str, np.ndarray], seed: int = 0,
            sampled: np.ndarray | None = None) -> Outcome:
    """The outcome of per-episode fitness `best` (deterministic actions) against the baselines' (by name: human,
    sparse); `sampled` is the best's with actions sampled as in training, and a gap between the two is said."""
    rng = np.random.default_rng(seed)
    runs = {"best": np.asarray(best, dtype=np.float64)}
    runs |= {name: np.asarray(values, dtype=np.float64) for name, values in baselines.items() if len(values)}
    if sampled is not None and len(sampled):
        runs["best (sampled)"] = np.asarray(sampled, dtype=np.float64)
    means = {name: _resampled_means(values, rng) for name, values in runs.items() if len(values)}
    intervals = {name: _interval(samples) for name, samples in means.items()}
    verdict = [_compare("the best", _interval(means["best"] - means[name]), name)
               for name in ("sparse", "human") if name in means]
    if "best (sampled)" in means:
        low, high = _interval(means["best (sampled)"] - means["best"])
        if low > 0 or high < 0:
            verdict.append(f"the best policy scores {runs['best (sampled)'].mean():.4g} with its actions sampled "
                           f"as in training and {runs['best'].mean():.4g} with its deterministic actions (the "
                           "outcome's): its training curves show the sampled one")
    if "human" not in means or "sparse" not in means:
        return Outcome(intervals, None, None, verdict + ["no human-normalized score: it needs both baselines"])
    gap = _interval(means["human"] - means["sparse"])
    if gap[0] <= 0 <= gap[1]:
        verdict.append(f"human and sparse cannot be told apart on these episodes (difference {gap[0]:+.3g} to "
                       f"{gap[1]:+.3g}): no human-normalized score, it would divide noise by noise")
        return Outcome(intervals, None, None, verdict)
    spread = np.abs(means["human"] - means["sparse"])
    scores = (means["best"] - means["sparse"]) / np.maximum(spread, 1e-12)
    point = float((runs["best"].mean() - runs["sparse"].mean()) / abs(runs["human"].mean() - runs["sparse"].mean()))
    return Outcome(intervals, point, _interval(scores), verdict)
