"""The Python API is as good as the command line: training, a reward search and a curriculum session started from
Python (as the README's notebook section does, on tiny budgets) leave runs that `lab report`, `lab eval` and
`--resume` accept, and their results are typed."""

from __future__ import annotations

from pathlib import Path

from lab.curriculum.config import CurriculumConfig
from lab.curriculum.session import Session, solve
from lab.runs import Run
from lab.search import RewardSearch, SearchConfig
from lab.search.records import CandidateTrained
from lab.skills import SkillLibrary
from lab.training import TrainConfig, train

TINY_TRAINING = {"n_envs": 2, "ppo": {"n_steps": 64}, "curve_points": 10}


def test_a_training_run_from_python_is_one_the_cli_reports_and_evaluates(tmp_path: Path, lab) -> None:
    result = train(TrainConfig(world="reacher", task="reach", reward="human", steps=256, eval_episodes=2,
                               **TINY_TRAINING), tmp_path / "trained")
    assert result.run.path == tmp_path / "trained" and result.evaluation.summary()["episodes"] == 2
    reported = lab("report", str(tmp_path / "trained"))
    assert reported.returncode == 0, reported.stderr
    evaluated = lab("eval", str(tmp_path / "trained"), "--episodes", "2")
    assert evaluated.returncode == 0, evaluated.stderr


def test_a_search_from_python_is_one_the_cli_reports_and_resumes(tmp_path: Path, lab) -> None:
    config = SearchConfig(world="reacher", task="reach", samples=1, iterations=1, steps=256, short_fraction=1.0,
                          baselines=False, eval_seeds=2, select_episodes=2, max_parallel=1, train=TINY_TRAINING)
    found = RewardSearch(config).run(tmp_path / "search")
    assert found.best == "i0c0" and found.final_evaluation.episodes == 2
    trained = list(Run.open(tmp_path / "search").records(CandidateTrained))
    assert [(t.id, t.stage, t.result.ok) for t in trained] == [("i0c0", "full", True)]
    reported = lab("report", str(tmp_path / "search"))
    assert reported.returncode == 0, reported.stderr
    resumed = lab("reward", "--resume", str(tmp_path / "search"))
    assert resumed.returncode == 0 and "held-out evaluation over 2 seeds" in resumed.stdout, resumed.stderr
    assert [t.id for t in Run.open(tmp_path / "search").records(CandidateTrained)] == ["i0c0"]


def test_a_session_from_python_is_one_the_cli_reports_and_resumes_and_its_library_composes(
        tmp_path: Path, lab, embedder) -> None:
    with SkillLibrary(tmp_path / "lib", embedder) as library:
        config = CurriculumConfig(world="playground", budget=1, library=tmp_path / "lib", verify_seeds=3,
                                  episode_budget=200, tasks=["reach(cube_red)"])
        outcome = Session(config, library).run(tmp_path / "session")
        assert outcome.iterations == 1 and outcome.skills_learned == ["reach@1"]
        assert library.search("move the gripper to the red cube", k=1)[0].skill.name == "reach"
        _, _, written = solve("playground", "move the gripper to the blue cube", library)
        assert written.found and written.verification is not None and written.verification.passed
    reported = lab("report", str(tmp_path / "session"))
    assert reported.returncode == 0, reported.stderr
    resumed = lab("curriculum", "--resume", str(tmp_path / "session"))
    assert resumed.returncode == 0 and "session summary (1 iterations" in resumed.stdout, resumed.stderr
