"""Run directories are written only by the lab: a link planted in one is replaced or refused, never followed."""

from pathlib import Path

import pytest

from lab.errors import LabError
from lab.runs import Run, write_atomic


def test_a_link_planted_at_a_run_file_or_its_partial_is_replaced_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").symlink_to(outside)
    (run / ".report.json.partial").symlink_to(outside)
    write_atomic(run / "config.json", "{}")
    write_atomic(run / "report.json", "{}")
    assert outside.read_text() == "untouched"
    assert not (run / "config.json").is_symlink() and (run / "config.json").read_text() == "{}"
    assert (run / "report.json").read_text() == "{}"


def test_a_link_planted_as_the_event_log_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    run = Run.create("train", "planted", out=tmp_path / "run")
    (run.path / "events.jsonl").unlink(missing_ok=True)
    (run.path / "events.jsonl").symlink_to(outside)
    with pytest.raises(LabError, match="must be a plain file"):
        run.event("started")
    assert outside.read_text() == "untouched"


def test_records_are_written_and_read_through_their_types(tmp_path: Path) -> None:
    import numpy as np

    from lab.executors import JobResult
    from lab.search.records import CandidateTrained, IterationDone

    run = Run.create("reward", "records", out=tmp_path / "run")
    result = JobResult("i0c0", True, {"fitness_mean": np.float32(0.5)}, [{"step": np.int64(64)}], 1.0, 64)
    run.write(CandidateTrained(id="i0c0", stage="full", result=result, score=0.5))
    run.write(IterationDone(iteration=0, seconds=1.0, llm_cost_usd=0.0, candidates={"i0c0": 0.5}))
    trained = list(run.records(CandidateTrained))
    assert [(t.id, t.result.evaluation["fitness_mean"], t.result.curve[0]["step"]) for t in trained] == [
        ("i0c0", 0.5, 64)]
    assert [i.iteration for i in run.records(IterationDone)] == [0]
    run.event("trained", id="i0c1")
    with pytest.raises(LabError, match=r"trained record \(line 3 of .*events.jsonl\)"):
        list(run.records(CandidateTrained))


def test_an_optimizer_refuses_a_run_made_with_other_settings(tmp_path: Path) -> None:
    from lab.curriculum.session import CurriculumConfig

    run = Run.at(str(tmp_path / "session"), "curriculum")
    made = CurriculumConfig(world="playground", budget=2)
    run.check_config("curriculum", made, "curriculum")
    run.check_config("curriculum", made.model_copy(update={"budget": 5}), "curriculum",
                     may_differ=frozenset({"budget"}))
    with pytest.raises(LabError, match=r"other curriculum settings \(verify_seeds differ\)"):
        run.check_config("curriculum", made.model_copy(update={"verify_seeds": 3}), "curriculum")
    assert Run.at(tmp_path / "session", "curriculum").path == run.path
    with pytest.raises(LabError, match="is a run of `lab curriculum`, not of `lab reward`"):
        Run.at(tmp_path / "session", "reward")
