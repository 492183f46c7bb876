"""The search's outcome with its uncertainty: intervals, the score only when the baselines differ, the verdict."""

from __future__ import annotations

import numpy as np

from lab.search.uncertainty import outcome


def test_separated_baselines_give_a_score_with_an_interval_around_it() -> None:
    rng = np.random.default_rng(0)
    sparse, human = rng.normal(0.0, 0.1, 10), rng.normal(1.0, 0.1, 10)
    best = rng.normal(1.5, 0.1, 10)
    judged = outcome(best, {"human": human, "sparse": sparse})
    assert judged.score is not None and judged.score_interval is not None
    low, high = judged.score_interval
    assert low < judged.score < high and 1.2 < judged.score < 1.8
    assert judged.verdict[0].startswith("the best is above sparse")
    assert judged.verdict[1].startswith("the best is above human")
    for name, values in (("best", best), ("human", human), ("sparse", sparse)):
        assert judged.intervals[name][0] < values.mean() < judged.intervals[name][1]


def test_indistinguishable_baselines_give_no_score_and_say_why() -> None:
    """Dividing noise by noise printed -0.67 and +2.28 for one task: now there is no score."""
    rng = np.random.default_rng(1)
    human, sparse = rng.normal(0.01, 0.05, 5), rng.normal(0.0, 0.05, 5)
    judged = outcome(rng.normal(0.2, 0.05, 5), {"human": human, "sparse": sparse})
    assert judged.score is None and judged.score_interval is None
    assert any("human and sparse cannot be told apart" in line for line in judged.verdict)


def test_a_best_below_sparse_is_said_plainly_and_a_missing_baseline_means_no_score() -> None:
    rng = np.random.default_rng(2)
    judged = outcome(rng.normal(-1.0, 0.1, 8), {"human": rng.normal(1.0, 0.1, 8), "sparse": rng.normal(0, 0.1, 8)})
    assert judged.verdict[0].startswith("the best is below sparse") and judged.score is not None and judged.score < 0
    alone = outcome(rng.normal(0.0, 0.1, 8), {"sparse": rng.normal(0.0, 0.1, 8)})
    assert alone.score is None and "cannot be told apart" in alone.verdict[0]
    assert alone.verdict[-1] == "no human-normalized score: it needs both baselines"


def test_a_gap_between_sampled_and_deterministic_actions_is_said() -> None:
    """A snake's policy scored 0.0008 deterministic and 0.056 sampled, and nothing said so."""
    rng = np.random.default_rng(3)
    baselines = {"human": rng.normal(1.0, 0.1, 6), "sparse": rng.normal(0.0, 0.1, 6)}
    judged = outcome(rng.normal(0.001, 0.001, 6), baselines, sampled=rng.normal(0.056, 0.01, 6))
    assert any("with its actions sampled as in training" in line for line in judged.verdict)
    close = outcome(rng.normal(0.5, 0.1, 6), baselines, sampled=rng.normal(0.5, 0.1, 6))
    assert not any("sampled" in line for line in close.verdict)


def test_several_training_seeds_give_an_interval_wider_than_their_range() -> None:
    """Resampling 3 seeds with replacement gives their range as the '95%' interval; Student's t over the seed
    means does not pretend to know more than 3 seeds say."""
    rng = np.random.default_rng(4)
    seeds = [rng.normal(mean, 0.01, 10) for mean in (0.0, 1.0, 2.0)]
    baselines = {"human": [rng.normal(5.0, 0.01, 10) for _ in range(3)],
                 "sparse": [rng.normal(-5.0, 0.01, 10) for _ in range(3)]}
    judged = outcome(seeds, baselines)
    low, high = judged.intervals["best"]
    assert low < -1.0 and high > 3.0  # t(2) x standard error 0.58 = +-2.5 around 1
    assert judged.verdict[0].startswith("the best is above sparse")
    assert judged.verdict[1].startswith("the best is below human")
    one = outcome([0.1, 0.2, 0.3], {"sparse": [0.0, 0.1, 0.0]})  # a plain list is one seed's episodes
    assert one.intervals["best"][0] >= 0.1
