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
