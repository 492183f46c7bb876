"""What a reward search writes down and tells its watcher, as typed records defined once.

Journal records go to the run's `events.jsonl` (JSON lines, so a killed search resumes from them) and are read back
through the same types: the search's own resume, the report and a notebook all decode `CandidateTrained`, never a
dict by string keys. Progress-only records (`TaskRead`, `IterationStarted`, `ProgramRejected`, `KeptWithinNoise`,
`JobsStarted`) are not journaled; a watcher (`progress=`) receives both kinds and tells them apart by type.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from lab.executors import JobResult
from lab.runs import Record


class TaskProgramWritten(Record):
    """The model's success check and fitness for a task given in words (a resume reuses them)."""

    event: ClassVar[str] = "task_program"
    source: str
    errors: list[str] = Field(default_factory=list)


class SearchStarted(Record):
    event: ClassVar[str] = "search_started"
    designer: str
    task: str


class CandidateProposed(Record):
    """A program the designer wrote, after its checks and repairs: valid, or refused with every error met."""

    event: ClassVar[str] = "candidate"
    id: str
    iteration: int
    source: str
    parent: str | None = None
    note: str = ""
    genome: dict[str, Any] | None = None
    valid: bool
    errors: list[str] = Field(default_factory=list)


class CandidateTrained(Record):
    """A candidate trained at one stage (`short` or `full`), with what its curves say."""

    event: ClassVar[str] = "trained"
    id: str
    stage: str
    result: JobResult
    score: float | None = None
    hacking: bool = False
    hacking_reasons: list[str] = Field(default_factory=list)
    correlation: float | None = None


class BaselineTrained(Record):
    """A baseline (sparse, human, or the promoted program) trained on the search's full budget and evaluated on the
    held-out seeds; `name` is `NAME` for the first training seed and `NAME@seedK` for the K-th more."""

    event: ClassVar[str] = "baseline"
    name: str
    result: JobResult
    version: int | None = None
    """The promoted version trained, for the `promoted` baseline."""


class IterationDone(Record):
    event: ClassVar[str] = "iteration"
    iteration: int
    seconds: float
    llm_cost_usd: float
    best: str | None = None
    best_score: float | None = None
    candidates: dict[str, float | None] = Field(default_factory=dict)


class SearchFinished(Record):
    event: ClassVar[str] = "finished"
    best: str
    final_fitness: float
    human_normalized_score: float | None = None


class RewardPromoted(Record):
    """The best program was written into the reward library as `version` (`--promote`), on this evidence."""

    event: ClassVar[str] = "promoted"
    version: int
    candidate: str
    evidence: dict[str, Any] = Field(default_factory=dict)


class TaskRead(Record):
    """Progress only: the task the search works on, read from words without a model or written by one."""

    event: ClassVar[str] = "task"
    task: str
    written: bool
    similarity: float | None = None
    source: str = ""


class IterationStarted(Record):
    event: ClassVar[str] = "iteration_started"
    iteration: int
    parents: list[str] = Field(default_factory=list)


class ProgramRejected(Record):
    """Progress only: a proposal failed its checks and goes back to its designer."""

    event: ClassVar[str] = "rejected"
    id: str
    attempt: int
    error: str


class KeptWithinNoise(Record):
    """Progress only: the short stage could not tell these candidates from its survivors, so they go on too."""

    event: ClassVar[str] = "kept_within_noise"
    ids: list[str]
    cutoff: float


class JobsStarted(Record):
    event: ClassVar[str] = "training"
    stage: str
    jobs: list[str]
    steps: int


class EvaluationSummary(BaseModel):
    """A policy's evaluation over seeded episodes."""

    model_config = ConfigDict(extra="allow")

    episodes: int = 0
    fitness_mean: float = 0.0
    fitness_std: float = 0.0
    success_rate: float = 0.0
    episode_length: float = 0.0
    reward_mean: float = 0.0


class CandidateSummary(BaseModel):
    iteration: int
    score: float | None
    valid: bool
    parent: str | None
    note: str
    stages: list[str]
    hacking: bool
    hacking_reasons: list[str] = []


class SearchResult(BaseModel):
    """What a finished search found: the best program's lineage and held-out evaluation next to the baselines,
    the human-normalized score, and every candidate. Written as the run's `summary.json`."""

    task: str
    task_program: bool = False
    designer: str
    best: str
    lineage: list[str]
    best_selection_fitness: float
    final_evaluation: EvaluationSummary
    sampled_evaluation: EvaluationSummary | None = None
    """The best policy on the same seeds with its actions sampled as in training (final_evaluation's are its
    deterministic actions)."""
    baselines: dict[str, EvaluationSummary]
    """Each baseline's held-out evaluation, pooled over the training seeds (as final_evaluation is)."""
    seeds: int = 1
    """Training seeds of the final comparison: the best's program and each baseline trained on each."""
    seed_means: dict[str, list[float]] = {}
    """Each policy's mean held-out fitness per training seed (best, human, sparse, ...)."""
    human_normalized_score: float | None
    human_normalized_interval: tuple[float, float] | None = None
    """95% bootstrap interval of the score over the held-out episodes (lab.search.uncertainty)."""
    fitness_intervals: dict[str, tuple[float, float]] = {}
    """95% bootstrap interval of each policy's mean fitness (best, human, sparse)."""
    differences: dict[str, tuple[float, float]] = {}
    """95% interval of the best's mean fitness minus each baseline's (the verdict's numbers)."""
    verdict: list[str] = []
    """What the outcome says, one sentence a line: above, below or indistinguishable from each baseline."""
    correlation_with_human: float | None
    reward_hacking: bool
    hacking_reasons: list[str] = []
    promoted_version: int | None = None
    """The version of rewards/WORLD/TASK/promoted/ this search wrote (`--promote`), None when it wrote none."""
    audit: list[str] = []
    """What the search changed in the reward library, on what evidence, and how to undo it; one line each."""
    candidates: dict[str, CandidateSummary]
    iterations: list[IterationDone]
    llm_cost_usd: float
