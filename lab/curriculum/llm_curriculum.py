"""The LLM curriculum and critic (Voyager's automatic curriculum and self-verification, on MuJoCo).

The curriculum model proposes the next task in words from the world's description, the completed and failed
tasks and the library's skill names. A proposal that means one of the world's own tasks (by embedding similarity)
is that task, judged by the world's code; any other gets a success check written for it (a task program), which
is checked and dry-run like every generated program before a skill is written against it. The critic model reads
a skill's final states and says whether the task was done and what to change: its critique goes back to the
writer, and how often it agrees with the code check is recorded (the code check decides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from lab.curriculum.proposer import Progress, every_task
from lab.errors import LabError
from lab.llm.client import LLM
from lab.llm.extract import ExtractionError, ask_json
from lab.llm.prompting import render
from lab.rewards.task_program import program_task
from lab.search.task_writer import write_task_program
from lab.skills.runtime import EpisodeResult
from lab.skills.store import SkillLibrary
from lab.worlds.core import Task, World
from lab.worlds.description import describe
from lab.worlds.reading import closest_task


class Proposal(BaseModel):
    """The curriculum model's reply."""

    reasoning: str = Field("", description="why this task, now")
    task: str = Field(min_length=3, max_length=300, description="the next task, in one sentence")


class Plan(BaseModel):
    """The planner model's reply (`lab solve` with a model)."""

    reasoning: str = Field("", description="how the goal breaks down")
    subgoals: list[str] = Field(min_length=1, max_length=8, description="1 to 8 subgoals, in the order to do them")


class Verdict(BaseModel):
    """The critic model's reply."""

    reasoning: str = Field("", description="what the episode shows")
    success: bool = Field(description="whether the episode did the task")
    critique: str = Field("", description="what to change in the program, when it failed")


@dataclass
class Proposed:
    """A task the curriculum proposed, and how: the model's words, and the task program written for it, if any."""

    task: Task
    text: str
    reasoning: str = ""
    similarity: float = 0.0


class ProposalFailed(LabError):
    """The curriculum could not turn its proposal into a checkable task; the session records it as a failure."""

    def __init__(self, task_id: str, text: str, reason: str) -> None:
        super().__init__(f"the proposed task {text!r} has no usable success check: {reason}")
        self.task_id, self.text, self.reason = task_id, text, reason


def task_name(text: str, taken: set[str]) -> str:
    """A short identifier for a task given in words (it names the skill that solves it), unlike any in `taken`."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    words = [w for w in words if w not in {"the", "a", "an", "of", "to", "and", "it", "its"}][:6] or ["task"]
    base = "_".join(words)[:48].strip("_")
    if not base[0].isalpha():
        base = f"task_{base}"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name


def known_tasks_text(world: World) -> str:
    lines = []
    for family in world.task_families.values():
        options = "; ".join(f"{p.name}: {', '.join(map(str, p.choices))}" if p.choices else
                            f"{p.name}: a number (default {p.default})" for p in family.params)
        lines.append(f"- {family.description}" + (f" ({options})" if options else ""))
    return "\n".join(lines)


class LLMCurriculum:
    """Proposes tasks with a model; writes success checks for tasks outside the world's families."""

    name = "llm"

    def __init__(self, llm: LLM, world: World, embedder: Any, library: SkillLibrary, *, match: float = 0.85,
                 horizon: int | None = None, repairs: int = 2) -> None:
        self.llm, self.world, self.embedder, self.library = llm, world, embedder, library
        self.match, self.repairs = match, repairs
        self.horizon = horizon or max(t.horizon for t in world.default_tasks())
        self.known = every_task(world)
        self.tasks: dict[str, Task] = {t.id: t for t in self.known}
        """Every task this curriculum can name: the world's, and those it wrote checks for."""

    def _history(self, progress: Progress) -> tuple[str, str]:
        """What is done, by family (a skill serves every binding of its family, so listing bindings one by one
        invites repeats), with the families left; and what failed."""
        mastered = [self.tasks[t] for t in progress.mastered if t in self.tasks]
        families = sorted({task.family.name for task in mastered})
        done = [name if name in self.world.task_families else
                next(t.description for t in mastered if t.family.name == name) for name in families]
        left = sorted(set(self.world.task_families) - set(families))
        completed = (f"{', '.join(done)} (a skill serves every object and value of its family); families left: "
                     f"{', '.join(left) or 'none'}") if done else "none yet"
        failed = [self.tasks[t].description for t, n in progress.failures.items()
                  if n and t in self.tasks and t not in progress.mastered]
        return completed, ", ".join(failed) or "none"

    def propose(self, progress: Progress, iteration: int) -> Proposed:
        """The model's next task, as one of the world's tasks or a task with a success check written for it."""
        completed, failed = self._history(progress)
        skills = ", ".join(sorted({s.name for s in self.library.skills(world=self.world.name)})) or "none yet"
        messages = render("curriculum", world_description=describe(self.world, None, "curriculum"),
                          known_tasks=known_tasks_text(self.world), completed=completed, failed=failed,
                          skills=skills)
        try:
            proposal = ask_json(self.llm, messages, Proposal, role="curriculum")
        except ExtractionError as error:
            raise ProposalFailed("unreadable_proposal", "", error.message) from None
        text = proposal.task.strip().rstrip(".")
        task, similarity = closest_task(self.world, text, self.embedder, self.known)
        if similarity >= self.match:
            return Proposed(task, text, proposal.reasoning, similarity)
        name = task_name(text, set(self.world.task_families) | {t for t in self.tasks
                                                                  if self.tasks[t].description != text})
        if name in self.tasks:
            return Proposed(self.tasks[name], text, proposal.reasoning, similarity)
        try:
            source, _ = write_task_program(self.llm, self.world, text, self.repairs, role="curriculum")
        except LabError as error:
            raise ProposalFailed(name, text, error.message) from None
        return Proposed(self.restore(name, text, source), text, proposal.reasoning, similarity)

    def restore(self, name: str, text: str, source: str, horizon: int | None = None) -> Task:
        """Register a task given in words and its (checked) task program: on proposal, and when a session
        resumes from its journal."""
        task = program_task(self.world, text, source, horizon or self.horizon, name=name).task
        self.tasks[name] = task
        return task


def episodes_text(results: list[EpisodeResult], limit: int = 3) -> str:
    """Final states of a few episodes, as the critic reads them."""
    parts = []
    for result in results[:limit]:
        head = f"Episode with seed {result.seed}, {result.steps} steps"
        head += f", stopped by an error: {result.error}" if result.error else ""
        state = "\n".join(f"  {k} = {v}" for k, v in result.final_state.items() if not k.endswith(("_vel", "_quat")))
        parts.append(f"{head}. The state at the end:\n{state}")
    return "\n\n".join(parts)


class Critic:
    """Judges from final states whether a program did its task, with a critique for its writer."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm

    def judge(self, task: Task, source: str, results: list[EpisodeResult]) -> Verdict | None:
        """The critic's verdict, or None when it gave no usable reply (the code check still decides)."""
        messages = render("critic", task_text=task.description, program=source.rstrip(),
                          episodes=episodes_text(results))
        try:
            return ask_json(self.llm, messages, Verdict, role="critic")
        except ExtractionError:
            return None
