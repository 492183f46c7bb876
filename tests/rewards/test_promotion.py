"""Governed reward promotion: each promotion is a numbered version with its evidence, `--reward promoted` uses the
active one, rollbacks change which is active and are recorded, and a killed write leaves the history readable."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lab.cli import app
from lab.errors import LabError
from lab.rewards import resolve_reward
from lab.rewards.promotion import active_promoted, record_promotion, reward_history, rollback
from lab.worlds import get_world

runner = CliRunner()

PROGRAM = '''"""Reward {label}: penalise effort."""
import numpy as np


def compute_reward(state, action):
    effort = -{weight} * np.sum(action ** 2, axis=-1)
    return effort, {{"effort": effort}}
'''


def evidence(run: str, against: str, low: float, high: float) -> dict:
    return {"run": run, "candidate": "c3", "seeds": [100, 101, 102],
            "fitness": {"candidate": {"mean": np.float64(-4.0), "interval": np.array([-4.5, -3.5])},
                        against: {"mean": -5.0, "interval": [-5.6, -4.4]}},
            "difference": [low, high], "compared_against": against}


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty reward library that is searched first, so nothing is read from or written to the repository."""
    root = tmp_path / "rewards"
    root.mkdir()
    monkeypatch.setenv("LAB_REWARDS_PATH", str(root))
    return root


@pytest.fixture(scope="module")
def task():  # type: ignore[no-untyped-def]
    return get_world("reacher").task("reach")


def promote_twice(root: Path) -> None:
    assert record_promotion("reacher", "reach", PROGRAM.format(label="one", weight=1),
                            evidence("runs/search-a", "human", 0.2, 1.8), root=root) == 1
    assert record_promotion("reacher", "reach", PROGRAM.format(label="two", weight=2),
                            evidence("runs/search-b", "promoted v1", 0.1, 0.9), root=root) == 2


def test_promotions_are_versions_with_evidence_and_rollbacks_change_the_active_one(library: Path, task) -> None:
    promote_twice(library)
    folder = library / "reacher" / "reach" / "promoted"
    history = reward_history("reacher", "reach")
    assert [(e.version, e.action, e.active) for e in history] == [(1, "promote", 1), (2, "promote", 2)]
    assert history[1].evidence["run"] == "runs/search-b" and history[1].evidence["compared_against"] == "promoted v1"
    assert history[1].evidence["difference"] == [0.1, 0.9] and history[0].evidence["seeds"] == [100, 101, 102]
    assert history[0].evidence["fitness"]["candidate"] == {"mean": -4.0, "interval": [-4.5, -3.5]}  # numpy -> JSON
    assert history[0].time.endswith("+00:00")
    assert active_promoted("reacher", "reach") == (2, (folder / "v2.py").resolve())

    written = (folder / "v2.py").read_text()
    assert written.startswith('"""Promoted reward v2 of reacher/reach: from the run runs/search-b, candidate c3')
    assert "Reward two: penalise effort." in written and written.count('"""') == 2  # one docstring, merged
    program = resolve_reward("promoted", task)
    assert "-2 * np.sum" in program.source and program.name == "promoted-v2"

    assert rollback("reacher", "reach") == 1
    assert active_promoted("reacher", "reach") == (1, (folder / "v1.py").resolve())
    assert "-1 * np.sum" in resolve_reward("promoted", task).source
    assert rollback("reacher", "reach") == 0, "a second rollback goes back past v1, to the human reward"
    assert active_promoted("reacher", "reach") is None
    assert rollback("reacher", "reach", to=2) == 2, "a rollback is undone by naming the version"
    assert rollback("reacher", "reach", to=0) == 0
    assert active_promoted("reacher", "reach") is None
    with pytest.raises(LabError, match="no promoted reward of reacher/reach is active") as refused:
        resolve_reward("promoted", task)
    assert refused.value.hint and "lab rewards history" in refused.value.hint

    history = reward_history("reacher", "reach")
    assert [(e.action, e.version, e.active) for e in history] == [
        ("promote", 1, 1), ("promote", 2, 2), ("rollback", 2, 1), ("rollback", 1, 0), ("rollback", 0, 2),
        ("rollback", 2, 0)]
    assert (folder / "v1.py").is_file() and (folder / "v2.py").is_file(), "nothing is deleted"
    assert record_promotion("reacher", "reach", PROGRAM.format(label="three", weight=3), {}, root=library) == 3
    assert rollback("reacher", "reach") == 0, "before v3, nothing promoted was active"


def test_bad_input_is_one_clear_lab_error(library: Path, task) -> None:
    with pytest.raises(LabError, match="no reward of reacher/reach was ever promoted") as never:
        rollback("reacher", "reach")
    with pytest.raises(LabError, match="no promoted reward of reacher/reach is active"):
        resolve_reward("promoted", task)
    assert reward_history("reacher", "reach") == [] and active_promoted("reacher", "reach") is None
    promote_twice(library)
    with pytest.raises(LabError, match="there is no promoted v7 of reacher/reach; versions: v1, v2") as unknown:
        rollback("reacher", "reach", to=7)
    with pytest.raises(LabError, match="v2 is already active"):
        rollback("reacher", "reach", to=2)
    rollback("reacher", "reach", to=0)
    with pytest.raises(LabError, match="nothing to roll back") as nothing:
        rollback("reacher", "reach")
    with pytest.raises(LabError, match="not valid Python"):
        record_promotion("reacher", "reach", "def compute_reward(state, action:\n", {}, root=library)
    for error in (never.value, unknown.value, nothing.value):
        assert "\n" not in error.message and error.hint
    assert len(reward_history("reacher", "reach")) == 3, "refused requests record nothing"


def test_an_mjcf_world_shares_its_templates_folder(library: Path) -> None:
    record_promotion("mjcf:/models/arm.xml", "reach", PROGRAM.format(label="m", weight=1), {}, root=library)
    assert (library / "mjcf" / "reach" / "promoted" / "v1.py").is_file()
    assert active_promoted("mjcf:/elsewhere/other.xml", "reach") == (
        1, (library / "mjcf" / "reach" / "promoted" / "v1.py").resolve())


def test_a_killed_history_write_leaves_the_old_history(library: Path, task, monkeypatch: pytest.MonkeyPatch) -> None:
    record_promotion("reacher", "reach", PROGRAM.format(label="one", weight=1), {"run": "a"}, root=library)
    real_replace = os.replace

    class Killed(BaseException):
        """The process dying after the new history is written aside, before it is renamed into place."""

    def dies_before_the_history_is_renamed(source: str | Path, target: str | Path) -> None:
        if Path(target).name == "history.json":
            raise Killed
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", dies_before_the_history_is_renamed)
    with pytest.raises(Killed):
        record_promotion("reacher", "reach", PROGRAM.format(label="two", weight=2), {"run": "b"}, root=library)
    monkeypatch.setattr(os, "replace", real_replace)

    history_file = library / "reacher" / "reach" / "promoted" / "history.json"
    assert len(json.loads(history_file.read_text())) == 1
    assert [e.version for e in reward_history("reacher", "reach")] == [1]
    assert "-1 * np.sum" in resolve_reward("promoted", task).source, "the unrecorded v2.py is not active"
    assert record_promotion("reacher", "reach", PROGRAM.format(label="two", weight=2), {"run": "b"},
                            root=library) == 2, "the next promotion takes the number the killed one did not record"
    assert "-2 * np.sum" in resolve_reward("promoted", task).source


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_the_history_and_rollback_commands(library: Path) -> None:
    for command in (["rewards"], ["rewards", "history"], ["rewards", "rollback"]):
        assert invoke(*command, "--help").exit_code == 0
    empty = invoke("rewards", "history", "reacher", "reach")
    assert empty.exit_code == 0 and "was ever promoted" in empty.output
    promote_twice(library)
    shown = invoke("rewards", "history", "reacher", "reach")
    assert shown.exit_code == 0, shown.output
    assert "reacher/reach: promoted rewards (* active: v2)" in shown.output
    assert "v2 *" in shown.output and "runs/search-b" in shown.output and "promoted v1" in shown.output
    assert "[+0.1, +0.9]" in shown.output and "[+0.2, +1.8]" in shown.output and "human" in shown.output

    rolled = invoke("rewards", "rollback", "reacher", "reach")
    assert rolled.exit_code == 0, rolled.output
    assert "reacher/reach: v1 is active" in rolled.output
    assert "to redo: lab rewards rollback reacher reach --to 2" in rolled.output
    none = invoke("rewards", "rollback", "reacher", "reach", "--to", "0")
    assert none.exit_code == 0 and "no promoted version is active" in none.output and "--to 1" in none.output
    after = invoke("rewards", "history", "reacher", "reach")
    assert "* active: none" in after.output and "rollback -> v1" in after.output and "rollback -> none" in after.output
    assert "v2 *" not in after.output and "v1 *" not in after.output

    unknown = invoke("rewards", "rollback", "reacher", "reach", "--to", "5")
    assert isinstance(unknown.exception, LabError) and "no promoted v5" in unknown.exception.message


def test_a_bad_rollback_exits_2_with_one_line(library: Path, lab) -> None:
    result = lab("rewards", "rollback", "reacher", "reach", "--to", "3")
    assert result.returncode == 2
    assert "no reward of reacher/reach was ever promoted" in result.stderr and "Traceback" not in result.stderr
