"""Reward search: the offline loop beats the sparse reward, a model's loop repairs and reflects, a killed search
resumes without retraining, and Ray gives what the local pool gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lab.llm.config import LLMSettings
from lab.report.html import write_report
from lab.rewards.program import REWARD_RULES, RewardProgram
from lab.runs import Record, Run
from lab.sandbox import check_program
from lab.search.loop import RewardSearch, SearchConfig
from lab.search.records import CandidateTrained, TaskRead

TRAIN = {"n_envs": 4, "ppo": {"n_steps": 64}, "curve_points": 10}


def search(tmp_path: Path, name: str = "search", **settings: Any) -> tuple[SearchConfig, Run]:
    values: dict[str, Any] = {"world": "reacher", "task": "reach", "samples": 2, "iterations": 2, "steps": 1024,
                              "eval_seeds": 3, "select_episodes": 2, "max_parallel": 2, "train": TRAIN, **settings}
    config = SearchConfig.model_validate(values)
    return config, Run.create("reward", name, out=tmp_path / name)


def trained_once(run: Run) -> None:
    seen = [(e["id"], e["stage"]) for e in run.events() if e["event"] == "trained"]
    assert len(seen) == len(set(seen)), f"a candidate was trained twice: {seen}"


@pytest.mark.slow
def test_offline_search_beats_the_sparse_reward_on_reacher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # --promote writes into ./rewards
    config, run = search(tmp_path, samples=3, iterations=2, steps=8192, eval_seeds=5, promote=True,
                         train={**TRAIN, "n_envs": 8})
    summary = RewardSearch(config).run(run)
    final, sparse = summary.final_evaluation.fitness_mean, summary.baselines["sparse"].fitness_mean
    assert final > sparse, summary
    assert summary.designer == "offline" and summary.verdict[0].startswith("the best ")
    if summary.human_normalized_score is None:  # at this budget human and sparse are often within the noise
        assert any("human and sparse cannot be told apart" in line for line in summary.verdict)
    else:
        low, high = summary.human_normalized_interval or (None, None)
        assert low <= summary.human_normalized_score <= high
    assert set(summary.fitness_intervals) == {"best", "best (sampled)", "human", "sparse"}
    assert summary.sampled_evaluation is not None and summary.sampled_evaluation.episodes == 5
    assert (run.path / "best.py").read_text() == (run.path / "candidates" / summary.best / "reward.py").read_text()
    assert summary.lineage[0] == summary.best
    assert -1.0 <= summary.correlation_with_human <= 1.0
    assert len(summary.iterations) == 2 and all(i.llm_cost_usd is not None for i in summary.iterations)
    trained_once(run)
    report = write_report(run.path).read_text()
    assert "Fitness per candidate per iteration" in report and "Lineage of the best" in report
    assert "<svg" in report and "human-normalized score" in report and "Reflection on the best" in report
    reflection = run.path / "candidates" / summary.best / "full" / "reflection.txt"
    assert reflection.read_text().startswith("We trained an RL policy")
    promoted = tmp_path / "rewards" / "reacher" / "reach" / "promoted" / "v1.py"
    if summary.promoted_version is not None:  # promoted only when its interval is above human's
        assert summary.promoted_version == 1 and summary.differences["human"][0] > 0
        assert summary.audit[0].startswith(f"rewards/: promoted {summary.best} as reacher/reach v1")
        check_program(RewardProgram.from_file(promoted).source, REWARD_RULES)
    else:
        assert not promoted.exists() and "nothing changed: the best is not above human" in summary.audit[0]
        assert summary.differences["human"][0] <= 0


class StopAfter(Exception):
    pass


def test_a_stopped_search_resumes_without_training_a_finished_candidate_again(tmp_path: Path) -> None:
    config, run = search(tmp_path, short_fraction=1.0, baselines=False)
    finished: list[str] = []

    def stop_after_two(record: Record) -> None:
        if isinstance(record, CandidateTrained):
            finished.append(record.id)
            if len(finished) == 2:
                raise StopAfter

    with pytest.raises(StopAfter):
        RewardSearch(config, progress=stop_after_two).run(run)
    assert {trained.id for trained in Run.open(run.path).records(CandidateTrained)} == set(finished)
    summary = RewardSearch(config).run(Run.open(run.path))
    trained_once(run)
    assert set(summary.candidates) == {"i0c0", "i0c1", "i1c0", "i1c1"}


BROKEN = "import os\n\ndef compute_reward(state, action):\n    return os.getpid(), {}\n"
FIRST = '''import numpy as np

def compute_reward(state, action):
    distance = -np.linalg.norm(state["fingertip_pos"] - state["target_pos"], axis=-1)
    return distance, {"distance": distance}
'''
REPAIRED = FIRST.replace("-np.linalg.norm", "-2.0 * np.linalg.norm")
IMPROVED = '''import numpy as np

def compute_reward(state, action):
    distance = -np.linalg.norm(state["fingertip_pos"] - state["target_pos"], axis=-1)
    effort = -0.1 * np.sum(action ** 2, axis=-1)
    return distance + effort, {"distance": distance, "effort": effort}
'''


def answer(request: dict[str, Any], index: int) -> str:
    last = request["messages"][-1]["content"]
    if "has the following error" in last:
        return f"Fixed.\n```python\n{REPAIRED}```"
    if "task_score" in last:
        return f"Better:\n```python\n{IMPROVED}```"
    return f"```python\n{BROKEN if index == 0 else FIRST}```"


def test_a_model_writes_is_repaired_from_its_error_and_reads_the_reflection(tmp_path: Path, model_server,
                                                                          monkeypatch) -> None:
    model_server.answer = answer
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    llm = LLMSettings(model="openai/reward-writer", api_base=model_server.url, cache=False).model_dump()
    config, run = search(tmp_path, short_fraction=1.0, baselines=False, llm=llm)
    summary = RewardSearch(config).run(run)
    assert summary.designer == "llm"
    texts = [r["messages"][-1]["content"] for r in model_server.requests]
    repair = next(t for t in texts if "has the following error" in t)
    assert "os" in repair and "import" in repair
    reflection = next(r for r in model_server.requests if "task_score" in r["messages"][-1]["content"])
    assert any(m["role"] == "assistant" and "compute_reward" in m["content"] for m in reflection["messages"])
    assert "distance: [" in reflection["messages"][-1]["content"]
    candidates = {e["id"]: e for e in run.events() if e["event"] == "candidate"}
    assert candidates["i0c0"]["valid"] and candidates["i0c0"]["source"] == REPAIRED
    assert "`import os` is not allowed" in candidates["i0c0"]["errors"][0]
    assert candidates["i1c0"]["source"] == IMPROVED
    assert any("same as candidate" in e for c in candidates.values() for e in c["errors"])
    assert summary.candidates["i1c0"].parent in ("i0c0", "i0c1")


def test_a_model_that_answers_with_an_escape_gets_the_refusal_and_the_search_goes_on(tmp_path: Path, model_server,
                                                                                   monkeypatch) -> None:
    """The issue's red team through a model: the first answer is the match-statement escape."""
    secret, pwned = "sk-canary-search-1b9d", tmp_path / "pwned"
    escape = ("def compute_reward(state, action):\n    match ():\n        case tuple(__class__=t):\n"
              f"            t.__base__.__subclasses__()[0].__init__.__globals__['os'].system('touch {pwned}')\n"
              "    return action[:, 0] * 0.0, {}\n")

    def hostile_first(request: dict[str, Any], index: int) -> str:
        last = request["messages"][-1]["content"]
        if "has the following error" in last or "task_score" in last:
            return f"```python\n{REPAIRED}```"
        return f"```python\n{escape if index == 0 else FIRST}```"

    model_server.answer = hostile_first
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    llm = LLMSettings(model="openai/reward-writer", api_base=model_server.url, cache=False).model_dump()
    config, run = search(tmp_path, short_fraction=1.0, baselines=False, llm=llm, iterations=1)
    summary = RewardSearch(config).run(run)
    candidates = {e["id"]: e for e in run.events() if e["event"] == "candidate"}
    assert "`match` statements are not allowed" in candidates["i0c0"]["errors"][0]
    assert candidates["i0c0"]["valid"] and candidates["i0c0"]["source"] == REPAIRED
    assert summary.best is not None
    assert not pwned.exists()
    for path in run.path.rglob("*"):
        assert not path.is_file() or secret.encode() not in path.read_bytes(), path


def test_ray_trains_the_same_candidates_to_the_same_scores_as_the_local_pool(tmp_path: Path) -> None:
    scores = {}
    for executor in ("local", "ray"):
        config, run = search(tmp_path, executor, executor=executor, iterations=1, short_fraction=1.0,
                             baselines=False, steps=512)
        summary = RewardSearch(config).run(run)
        scores[executor] = {c: v.score for c, v in summary.candidates.items()}
    assert scores["local"] == scores["ray"]


def test_init_human_starts_from_the_human_reward(tmp_path: Path) -> None:
    config, run = search(tmp_path, init="human", samples=1, iterations=1, short_fraction=1.0, baselines=False,
                         steps=512)
    summary = RewardSearch(config).run(run)
    assert "init" in summary.candidates and summary.candidates["init"].stages == ["full"]
    assert "def base_reward" in (run.path / "candidates" / "i0c0" / "reward.py").read_text()
    assert summary.candidates["i0c0"].parent == "init"


def test_the_cli_reports_a_bad_world_and_a_bad_resume_clearly(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lab.cli import app

    runner = CliRunner()
    wrong = runner.invoke(app, ["reward", "reachr", "reach", "--out", str(tmp_path / "x")])
    assert wrong.exit_code != 0 and "Did you mean 'reacher'" in str(wrong.exception)
    missing = runner.invoke(app, ["reward", "--resume", str(tmp_path / "nothing")])
    assert missing.exit_code != 0 and "not a run directory" in str(missing.exception)
    assert not (tmp_path / "x").exists()


TASK_WRONG_SHAPE = '''import numpy as np

def compute_success(state):
    return np.zeros((3, 3), dtype=bool)

def compute_fitness(state):
    return np.linalg.norm(state["fingertip_pos"] - state["target_pos"], axis=-1)
'''
TASK_FIXED = '''import numpy as np

def compute_success(state):
    return np.linalg.norm(state["fingertip_pos"] - state["target_pos"], axis=-1) > 0.15

def compute_fitness(state):
    # metres between fingertip and target: far is good
    return np.linalg.norm(state["fingertip_pos"] - state["target_pos"], axis=-1)
'''
AWAY = '''import numpy as np

def compute_reward(state, action):
    away = np.linalg.norm(state["fingertip_pos"] - state["target_pos"], axis=-1)
    return away, {"away": away}
'''


def test_a_task_in_words_is_judged_by_a_program_the_model_writes(tmp_path: Path, model_server, monkeypatch) -> None:
    def task_then_rewards(request: dict[str, Any], index: int) -> str:
        first = request["messages"][0]["content"]
        if "turn a robot task given in words" in first:
            broken = not any("failed with this error" in m["content"] for m in request["messages"])
            return f"```python\n{TASK_WRONG_SHAPE if broken else TASK_FIXED}```"
        return f"```python\n{AWAY}```"

    model_server.answer = task_then_rewards
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    llm = LLMSettings(model="openai/task-writer", api_base=model_server.url, cache=False).model_dump()
    config, run = search(tmp_path, task="", task_text="keep the fingertip far away from the target", samples=1,
                         iterations=1, short_fraction=1.0, baselines=False, steps=512, llm=llm)
    summary = RewardSearch(config).run(run)
    assert summary.task_program and summary.task == "keep the fingertip far away from the target"
    assert (run.path / "task.py").read_text() == TASK_FIXED
    written = next(e for e in run.events() if e["event"] == "task_program")
    assert "shape (3, 3)" in written["errors"][0]
    reward_prompts = [r for r in model_server.requests if "reward engineer" in r["messages"][0]["content"]]
    assert reward_prompts and all("compute_success" not in m["content"] for r in reward_prompts
                                  for m in r["messages"])
    trained = Run.open(run.path / "candidates" / "i0c0" / "full")
    assert trained.read_json("config.json")["task_program"].endswith("task.py")
    assert summary.final_evaluation.fitness_mean > 0.05


def test_without_a_model_a_task_in_words_is_read_as_the_nearest_known_task(tmp_path: Path) -> None:
    seen: list[TaskRead] = []
    config, run = search(tmp_path, task="", task_text="bring the fingertip onto the target point", samples=1,
                         iterations=1, short_fraction=1.0, baselines=False, steps=256)
    RewardSearch(config, progress=lambda record: seen.append(record) if isinstance(record, TaskRead) else None).run(run)
    assert seen[0].task == "reach(tolerance=0.02)" and not seen[0].written


@pytest.mark.slow
def test_kill_9_mid_search_then_resume_trains_nothing_twice(tmp_path: Path, kill_9, lab) -> None:
    out = tmp_path / "killed"
    kill_9(["reward", "reacher", "reach", "--samples", "2", "--iterations", "2", "--steps", "1024", "--eval-seeds",
            "2", "--max-parallel", "2", "--set", "train.n_envs=4", "--set", "train.ppo.n_steps=64", "--set",
            "train.curve_points=10", "--set", "select_episodes=2", "--out", str(out)], out, "trained", 3)
    before = [(e["id"], e["stage"]) for e in Run.open(out).events() if e["event"] == "trained"]
    resumed = lab("reward", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    trained_once(Run.open(out))
    after = [(e["id"], e["stage"]) for e in Run.open(out).events() if e["event"] == "trained"]
    assert after[:len(before)] == before and len(after) > len(before)
    assert (out / "summary.json").exists() and "human-normalized score" in resumed.stdout


def test_a_robot_never_seen_goes_from_its_mjcf_file_and_a_sentence_to_a_policy_that_beats_sparse(
        tmp_path: Path, lab) -> None:
    """Issue 17's acceptance: an arm written here, a sentence, no model: the sentence is read as the arm's reach
    template, the offline designer's best reward trains a policy that ends nearer the goal than the sparse one;
    the same command writes the report, with a video of the best and of each baseline."""
    from tests.worlds.test_mjcf import ARM

    robot = tmp_path / "arm.xml"
    robot.write_text(ARM)
    out = tmp_path / "search"
    done = lab("reward", f"mjcf:{robot}", "--task-text", "move the fingertip to the goal point", "--samples", "1",
               "--iterations", "1", "--steps", "30000", "--eval-seeds", "5", "--set", "train.n_envs=16", "--out",
               str(out), "--video", "--report")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for name in ("best", "human", "sparse"):
        assert (out / "videos" / f"{name}.mp4").stat().st_size > 10_000
    assert "videos/best.mp4" in (out / "report.html").read_text()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["task"].startswith("reach(point=fingertip")
    best, sparse = summary["final_evaluation"]["fitness_mean"], summary["baselines"]["sparse"]["fitness_mean"]
    assert best > sparse + 0.1, (best, sparse)


def test_a_candidate_flagged_for_reward_hacking_never_becomes_a_parent() -> None:
    from lab.executors.base import JobResult
    from lab.search.loop import Candidate

    def curve(rewards: list[float], fitness: list[float]) -> list[dict[str, Any]]:
        return [{"step": i, "episodes": 4, "episode_reward": r, "fitness": f, "success_rate": 0.0,
                 "episode_length": 100.0, "step_fitness": f, "step_components": {"x": r}}
                for i, (r, f) in enumerate(zip(rewards, fitness, strict=True))]

    def candidate(cid: str, score: float, points: list[dict[str, Any]]) -> Candidate:
        result = JobResult(cid, True, {"fitness_mean": score}, points)
        return Candidate(cid, 0, "def compute_reward(state, action): ...", None, "", None, True, [],
                         {"full": result})

    search = RewardSearch(SearchConfig(world="reacher", task="reach", keep=2))
    hacked = curve([0.0, 1.0, 5.0, 20.0, 40.0], [-0.3, -0.3, -0.31, -0.32, -0.33])
    honest = curve([0.0, 1.0, 2.0, 3.0, 4.0], [-0.3, -0.25, -0.2, -0.15, -0.1])
    search.candidates = {"a": candidate("a", -0.05, hacked), "b": candidate("b", -0.1, honest),
                         "c": candidate("c", -0.2, honest), "d": candidate("d", -0.3, honest)}
    assert search.candidates["a"].stats().reward_hacking  # type: ignore[union-attr]
    assert [p.id for p in search.parents()] == ["b", "c"]
    assert search.best() is search.candidates["a"]  # still ranked and reported, only not built on


def test_a_short_stage_that_cannot_tell_candidates_apart_keeps_them_instead_of_dropping_by_noise() -> None:
    """On a snake robot every candidate of the short stage was within the noise, and halving discarded by it."""
    from lab.executors.base import JobResult
    from lab.search.loop import Candidate

    def candidate(cid: str, mean: float, std: float) -> Candidate:
        result = JobResult(cid, True, {"fitness_mean": mean, "fitness_std": std, "episodes": 4}, [])
        return Candidate(cid, 0, "def compute_reward(state, action): ...", None, "", None, True, [],
                         {"short": result})

    search = RewardSearch(SearchConfig(world="reacher", task="reach"))
    noisy = [candidate("a", 0.05, 0.2), candidate("b", 0.04, 0.2), candidate("c", 0.03, 0.2),
             candidate("d", 0.02, 0.2)]
    assert [c.id for c in search.survivors(noisy, 2)] == ["a", "b", "c", "d"]
    clear = [candidate("a", 1.0, 0.01), candidate("b", 0.9, 0.01), candidate("c", 0.5, 0.01),
             candidate("d", 0.45, 0.1)]
    assert [c.id for c in search.survivors(clear, 2)] == ["a", "b"]
    mixed = [candidate("a", 1.0, 0.01), candidate("b", 0.9, 0.2), candidate("c", 0.7, 0.2),
             candidate("d", 0.1, 0.01)]
    assert [c.id for c in search.survivors(mixed, 2)] == ["a", "b", "c"]


def test_a_policy_that_freezes_in_a_posture_the_reward_pays_for_is_flagged_and_never_a_parent() -> None:
    """On a snake the designer rewarded bringing the head to the robot's own centre of mass: the policy curled up
    and froze, the return rose a little, the task's fitness stayed flat, and nothing was flagged."""
    from lab.executors.base import JobResult
    from lab.search.loop import Candidate

    rising = [{"step": i, "episodes": 4, "episode_reward": r, "fitness": 0.001, "success_rate": 0.0,
               "episode_length": 100.0, "step_fitness": 0.001, "step_components": {"x": r}}
              for i, r in enumerate([1.0, 1.05, 1.1, 1.12, 1.15])]

    def candidate(cid: str, still: float, score: float) -> Candidate:
        evaluation = {"fitness_mean": score, "success_rate": 0.0, "still_fraction": still}
        return Candidate(cid, 0, "def compute_reward(state, action): ...", None, "", None, True, [],
                         {"full": JobResult(cid, True, evaluation, rising)})

    search = RewardSearch(SearchConfig(world="reacher", task="reach", keep=2))
    search.candidates = {"frozen": candidate("frozen", 0.95, 0.01), "moving": candidate("moving", 0.1, 0.005)}
    reasons = search.candidates["frozen"].hacking_reasons()
    assert len(reasons) == 1 and "freezes in a posture" in reasons[0] and "95%" in reasons[0]
    assert search.candidates["moving"].hacking_reasons() == []
    assert [p.id for p in search.parents()] == ["moving"]


def test_the_final_comparison_trains_the_best_and_each_baseline_on_several_seeds(tmp_path: Path) -> None:
    """With --seeds 2 the intervals hold the spread between training seeds; the report shows every candidate's
    program and the best's and the baselines' curves on one chart."""
    config, run = search(tmp_path, samples=1, iterations=1, short_fraction=1.0, steps=256, seeds=2, eval_seeds=3)
    summary = RewardSearch(config).run(run)
    assert summary.seeds == 2 and summary.final_evaluation.episodes == 6
    assert {name: len(means) for name, means in summary.seed_means.items()} == {
        "best": 2, "best (sampled)": 2, "human": 2, "sparse": 2}
    assert summary.baselines["human"].episodes == 6
    assert summary.final_evaluation.fitness_mean == pytest.approx(float(np.mean(summary.seed_means["best"])))
    best = f"candidates/{summary.best}/seed1"
    for path in (f"{best}/eval.json", f"{best}/final_eval_sampled.json", "baselines/human-seed1/eval.json",
                 "baselines/sparse-seed1/eval.json"):
        assert (run.path / path).is_file(), path
    seed1 = json.loads((run.path / f"candidates/{summary.best}/seed1/config.json").read_text())
    assert seed1["seed"] == config.seed + 1
    report = write_report(run.path).read_text()
    assert "2 training seeds" in report and "Mean held-out fitness per training seed" in report
    assert "Every candidate&#x27;s program" in report and report.count("<details>") == 1
    assert "The best against the baselines while training" in report
    again = RewardSearch(config).run(Run.open(run.path))  # resumed: nothing trains again
    trained_once(run)
    assert again.seed_means == summary.seed_means


def test_promote_writes_a_version_only_above_what_is_promoted_and_says_how_to_undo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A regressed reward never replaces a promoted one: the best must be above it (or above human, with none
    promoted) on the same held-out seeds; the audit says what changed, on what evidence, and how to undo it."""
    from lab.rewards.promotion import active_promoted, reward_history
    from lab.search.loop import Candidate
    from lab.search.records import BaselineTrained
    from lab.search.uncertainty import Outcome
    from lab.training.evaluation import Evaluation
    from lab.worlds import get_world

    monkeypatch.chdir(tmp_path)

    def searching(name: str) -> RewardSearch:
        found = RewardSearch(SearchConfig(world="reacher", task="reach", promote=True, steps=64, eval_seeds=2))
        found.run_dir = Run.create("reward", name, out=tmp_path / name)
        found.task, found._judged = get_world("reacher").task("reach"), None
        return found

    def evaluations(best: float, other: float, name: str) -> dict[str, list[Evaluation]]:
        episode = {"success": False, "length": 50, "reward": 0.0}
        return {key: [Evaluation([0, 1], [{**episode, "fitness": value}, {**episode, "fitness": value}])]
                for key, value in (("best", best), (name, other))}

    best = Candidate("i0c0", 0, FIRST, None, "", None, True, [], {})
    first = searching("first")
    version, audit = first._promote(best, Outcome(differences={"human": (0.05, 0.2)}),
                                     evaluations(-0.1, -0.2, "human"))
    assert version == 1 and active_promoted("reacher", "reach") is not None
    assert audit[0].startswith("rewards/: promoted i0c0 as reacher/reach v1: best - human = +0.05 to +0.2")
    assert "lab rewards rollback reacher reach --to 0" in audit[1]
    assert first._promote(best, Outcome(differences={"human": (0.05, 0.2)}),
                          evaluations(-0.1, -0.2, "human"))[0] == 1  # finishing again writes nothing new
    assert len(reward_history("reacher", "reach")) == 1

    second = searching("second")
    assert second._baseline_programs()["promoted"][1] == 1  # the active version is trained as a baseline
    from lab.executors.base import JobResult
    second.run_dir.write(BaselineTrained(name="promoted", result=JobResult("promoted", True, {}, []), version=1))
    version, audit = second._promote(best, Outcome(differences={"promoted": (-0.1, 0.3), "human": (0.5, 0.9)}),
                                     evaluations(-0.1, -0.1, "promoted"))
    assert version is None and "not above promoted v1" in audit[0]
    assert len(reward_history("reacher", "reach")) == 1

    killed = searching("killed")  # killed after writing v2, before journaling it: the resume finds it
    from lab.rewards.promotion import record_promotion
    record_promotion("reacher", "reach", FIRST, {"run": str(killed.run_dir.path.resolve()), "candidate": "i0c0",
                                                 "difference": [0.1, 0.2], "compared_against": "human"})
    assert killed._promote(best, Outcome(differences={"promoted": (0.05, 0.2)}),
                           evaluations(-0.1, -0.2, "promoted"))[0] == 2
    assert len(reward_history("reacher", "reach")) == 2
