"""What a training run writes in its journal, as typed records defined once (the journal stays JSON lines)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from lab.runs import Record


class RewardRejected(Record):
    """The reward program failed its check or dry run: nothing was trained."""

    event: ClassVar[str] = "rejected"
    stage: str
    error: str


class RewardDryRun(Record):
    """The reward program ran on real states before training: its components and the ranges they took."""

    event: ClassVar[str] = "dry_run"
    components: list[str]
    reward_range: list[float]
    component_ranges: dict[str, list[float]] = Field(default_factory=dict)


class CurvePoint(Record):
    """One point of the learning curve (the same point `curves.json` keeps; its fields vary with what the window
    saw, so every field is kept)."""

    model_config = ConfigDict(extra="allow")
    event: ClassVar[str] = "curve_point"
    step: int


class TrainingStarted(Record):
    event: ClassVar[str] = "started"
    algo: str
    steps: int
    n_envs: int
    device: str


class TrainingFailed(Record):
    """The reward program failed while training: the step, and the error as its writer should read it."""

    event: ClassVar[str] = "failed"
    step: int
    error: str


class Trained(Record):
    event: ClassVar[str] = "trained"
    steps: int
    seconds: float
    steps_per_second: float
    stopped_early: bool


class Evaluated(Record):
    """An evaluation over seeded episodes, summarised (the episodes are in the file it names)."""

    model_config = ConfigDict(extra="allow")
    event: ClassVar[str] = "evaluated"
    file: str
    deterministic: bool

    @classmethod
    def of(cls, file: str, deterministic: bool, summary: dict[str, Any]) -> Evaluated:
        return cls(file=file, deterministic=deterministic, **summary)
