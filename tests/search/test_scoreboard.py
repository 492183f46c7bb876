"""`lab bench rewards`: one table of the reward search against human rewards, task by task, with intervals; bad
input refused before anything is written; a killed scoreboard resumes without training anything twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.runs import Run
from lab.search.records import CandidateTrained
from lab.search.scoreboard import Scoreboard, ScoreboardConfig, TaskRow, run_scoreboard, suite_tasks, wilson


def test_the_suites_hold_every_task_with_both_baselines() -> None:
    gymnasium, dmc = suite_tasks("gymnasium"), suite_tasks("dmc")
    assert len(gymnasium) == 8 and "halfcheetah forward" in gymnasium
    assert len(dmc) == 24 and {"dmc-cheetah run", "dmc-cartpole balance", "dmc-humanoid walk"} <= set(dmc)
    assert suite_tasks("all") == gymnasium + dmc


def test_the_count_is_by_the_difference_interval_and_comes_with_its_own_interval() -> None:
    rows = [TaskRow(task=f"t{i}", standing=standing, best=best, human=1.0)
            for i, (standing, best) in enumerate([("above", 2.0), ("indistinguishable", 0.9), ("below", 0.5),
                                                   ("failed", None)])]
    board = Scoreboard(budget="smoke", designer="offline", rows=rows)
    assert board.summary() == ("of 4 tasks: above human on 1, indistinguishable on 1, below on 1, failed on 1 "
                               "(counted as not at or above); not below human on 2 (50%, 95% interval 15% to 85%); "
                               "best mean >= human mean on 1 of 4")
    low, high = wilson(10, 10)
    assert high == 1.0 and 0.7 < low < 0.75  # ten of ten still leaves the share uncertain
    assert wilson(0, 5)[0] == 0.0


def test_bad_input_is_one_line_and_leaves_nothing_behind(tmp_path: Path, lab) -> None:
    for args, message in ((["--tasks", "hopper"], "a task is `WORLD TASK`"),
                          (["--tasks", "nowhere forward"], "nowhere"),
                          (["--budget", "huge"], "budget"),
                          (["--set", "samples=0"], "samples"),
                          (["--set", "promote=true"], "never writes into rewards/")):
        result = lab("bench", "rewards", *args, "--out", str(tmp_path / "bad"))
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, args
        assert not (tmp_path / "bad").exists()


class Stop(Exception):
    pass


@pytest.mark.slow
def test_a_stopped_scoreboard_resumes_without_training_twice_and_prints_the_table(tmp_path: Path, lab) -> None:
    out = tmp_path / "board"
    config = ScoreboardConfig(tasks=["reacher reach"], budget="smoke")

    def stop_at_first_training(record: object) -> None:
        if isinstance(record, CandidateTrained):
            raise Stop

    with pytest.raises(Stop):
        run_scoreboard(config, Run.create("bench", "board", out=out), progress=stop_at_first_training)
    resumed = lab("bench", "rewards", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    events = [(e["id"], e["stage"]) for e in Run.open(out / "tasks" / "reacher-reach").events()
              if e["event"] == "trained"]
    assert len(events) == len(set(events)) == 1
    board = json.loads((out / "scoreboard.json").read_text())
    (row,) = board["rows"]
    assert row["task"] == "reacher reach" and row["standing"] in ("above", "indistinguishable", "below")
    assert row["best_interval"][0] <= row["best"] <= row["best_interval"][1]
    assert "of 1 tasks" in board["summary"] and "reacher reach" in resumed.stdout
    report = (out / "report.html").read_text()
    assert "Against human" in report and "Eureka" in report


def test_a_setting_over_the_budget_keeps_the_budget_s_other_settings() -> None:
    config = ScoreboardConfig(tasks=["reacher reach"], budget="smoke", search={"train": {"ppo": {"n_epochs": 3}}})
    search = config.search_config("reacher reach")
    assert search.steps == 512
    assert search.train == {"n_envs": 4, "ppo": {"n_steps": 64, "n_epochs": 3}, "preset": "plain"}
