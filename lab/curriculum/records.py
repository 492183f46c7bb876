"""What a curriculum session writes down and tells its watcher, as typed records defined once.

`TaskProposed` and `TaskAttempted` are the session's journal (`events.jsonl`, JSON lines: a killed session resumes
from them); the report, the summary and a notebook read them through these types. `TaskStarted`, `EpisodesPlayed`
and `CurriculumExhausted` are progress only, for a watcher (`progress=`), which tells records apart by type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from pydantic import BaseModel, Field

from lab.runs import Record


class TaskProposed(Record):
    """A task a model proposed in words: its success check (a task program) when it is none of the world's."""

    event: ClassVar[str] = "proposed"
    iteration: int
    task: str
    text: str
    reasoning: str = ""
    similarity: float = 0.0
    program: str | None = None
    horizon: int | None = None


class TaskAttempted(Record):
    """One iteration's attempt at a task: the skill that solved it and how, or why it failed."""

    event: ClassVar[str] = "attempted"
    iteration: int
    task: str
    success: bool
    skill: str = ""
    how: str = ""
    reason: str = ""
    calls: list[str] = Field(default_factory=list)
    episodes: int | None = None
    retrieved: list[str] = Field(default_factory=list)
    success_rate: float | None = None
    critic: list[list[bool]] = Field(default_factory=list)
    seconds: float = 0.0
    kept_active: str = ""
    """When the written version (`skill`) verified worse than the active version of its name on the same seeds and
    tasks: the active version, which stays active (`skill` is stored as a candidate)."""
    compared: str = ""
    """How the written version compared with the active version of its name, in one line (empty when the name had
    none)."""

    @property
    def wrote_skill(self) -> bool:
        """Whether the attempt stored a new skill (not one already in the library)."""
        return self.success and self.how.startswith("written by")


class TaskStarted(Record):
    event: ClassVar[str] = "task"
    iteration: int
    task: str
    description: str


class EpisodesPlayed(Record):
    """Progress only: episodes the writer has played so far for this task's skill."""

    event: ClassVar[str] = "episode"
    episodes: int


class CurriculumExhausted(Record):
    """Progress only: no task is left to try now (every one mastered or backing off)."""

    event: ClassVar[str] = "exhausted"
    iteration: int


class AttemptFinished(Record):
    """Progress only: an attempt as journaled, with the session's running totals."""

    event: ClassVar[str] = "attempt_finished"
    attempt: TaskAttempted
    skills: int
    cost_usd: float


class CriticAgreement(BaseModel):
    judged: int
    agreed: int
    rate: float


class SessionResult(BaseModel):
    """What a session did: skills learned (and which compose others), families and tasks mastered, failures by
    reason, the critic's agreement with the code check, cost and time. Written as the run's `summary.json`."""

    world: str
    iterations: int
    skills_learned: list[str]
    composed: list[str]
    families_mastered: list[str]
    tasks_mastered: list[str]
    failures_by_reason: dict[str, int]
    critic_agreement: CriticAgreement | None
    cost_usd: float
    seconds: float


def critic_agreement(attempts: list[TaskAttempted]) -> CriticAgreement | None:
    """How often the critic's verdict matched the code check over the episodes it judged (None without one)."""
    pairs = [pair for attempt in attempts for pair in attempt.critic]
    if not pairs:
        return None
    agreed = sum(critic == check for critic, check in pairs)
    return CriticAgreement(judged=len(pairs), agreed=agreed, rate=round(agreed / len(pairs), 4))


def failures_by_reason(attempts: list[TaskAttempted]) -> dict[str, int]:
    """Failed attempts counted by reason, numbers masked so one reason is one row."""
    reasons: dict[str, int] = {}
    for attempt in attempts:
        if not attempt.success:
            key = re.sub(r"\d+", "N", (attempt.reason or "unknown").split(";")[0])
            reasons[key] = reasons.get(key, 0) + 1
    return reasons


def session_result(world: str, attempts: list[TaskAttempted], tasks_mastered: Iterable[str],
                   cost_usd: float) -> SessionResult:
    """The session's result from its journaled attempts."""
    learned = [attempt for attempt in attempts if attempt.wrote_skill]
    return SessionResult(
        world=world, iterations=len(attempts), skills_learned=[a.skill for a in learned],
        composed=[a.skill for a in learned if a.calls],
        families_mastered=sorted({a.task.partition("(")[0] for a in attempts if a.success}),
        tasks_mastered=sorted(tasks_mastered), failures_by_reason=failures_by_reason(attempts),
        critic_agreement=critic_agreement(attempts), cost_usd=round(cost_usd, 6),
        seconds=round(sum(a.seconds for a in attempts), 1))
