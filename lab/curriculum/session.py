"""A curriculum session (Voyager on MuJoCo): propose a task, retrieve skills, write a skill, verify it, store it.

Each iteration the curriculum proposes a task; a stored skill of the task's family is tried first (the library
already solves it when it verifies); otherwise the top-k skills are retrieved for it and the writer (the offline
compositional search, or a model over up to R rounds of feedback) writes a new version of the family's skill,
verified over the family's bindings so that it serves them all; a program the library already holds is not stored
again. A verified skill is stored with its provenance, active only when it verified at least as well as the active
version of its name on the same seeds and bindings (else kept as a candidate, and the journal says so); a failed
task is recorded with its reason and backs off.
The event log is the journal: a killed session resumes from it, and its record of mastered tasks is checked against
the library on resume, so the two never disagree.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from lab.curriculum.config import CurriculumConfig
from lab.curriculum.llm_curriculum import Critic, LLMCurriculum, Plan, ProposalFailed, known_tasks_text, task_name
from lab.curriculum.llm_writer import LLMSkillWriter
from lab.curriculum.policy_learner import PolicyLearner
from lab.curriculum.proposer import LearningProgressCurriculum, Progress, every_task
from lab.curriculum.records import (
    AttemptFinished,
    CurriculumExhausted,
    EpisodesPlayed,
    SessionResult,
    TaskAttempted,
    TaskProposed,
    TaskStarted,
    session_result,
)
from lab.curriculum.writer import CompositionalWriter, Written, verification_tasks
from lab.errors import LabError
from lab.llm.client import LLM
from lab.llm.config import build_llms, spent_usd
from lab.llm.extract import ExtractionError, ask_json
from lab.llm.prompting import render
from lab.rewards.task_program import program_task
from lab.runs import SUMMARY, ProgressFn, Run
from lab.sandbox.rules import program_identity
from lab.search.task_writer import write_task_program
from lab.skills import Skill, SkillLibrary
from lab.skills.runtime import add_gated, analyse, verify_skill
from lab.worlds import get_world
from lab.worlds.core import Task, World
from lab.worlds.description import describe
from lab.worlds.reading import closest_task, read_goal


class Session:
    """The Voyager optimizer: `Session(config, library).run(run) -> SessionResult`, going on from wherever the run's
    journal stopped.

    The constructor only stores its arguments. `run` writes the run's config (so a session started from Python is
    one `lab report` and `lab curriculum --resume` accept), builds the models once for the whole session (its nested
    reward searches spend from the same ledger and budget), and uses the library's embedder for every reading."""

    def __init__(self, config: CurriculumConfig, library: SkillLibrary, *, progress: ProgressFn | None = None,
                 llms: dict[str, LLM | None] | None = None) -> None:
        self.config = config
        self.library = library
        self.show: ProgressFn = progress or (lambda record: None)
        self.llms: dict[str, LLM | None] = llms if llms is not None else {}
        self._own_llms = llms is None

    def take_up(self, run: Run) -> Session:
        """Take up `run` before any attempt (`run` does this first): its config (written when new, checked when
        not), the world, the models, the curriculum and writer, and the progress its journal holds (a skill stored
        just before a kill is journaled here)."""
        self.run_dir = run
        run.check_config("curriculum", self.config, "curriculum", may_differ=frozenset({"budget"}))
        self.world = get_world(self.config.world)
        if self._own_llms:
            self.llms = build_llms(self.config.llm, run.path)
        self.curriculum: Any = self._curriculum()
        self.writer: Any = None if self.world.robot_api_doc() is None else make_writer(
            self.config, self.world, self.library, self.llms.get("skill_writer"), self.llms.get("critic"))
        self.progress, self.iterations = self._replay()
        return self

    def _curriculum(self) -> Any:
        """The LLM curriculum when a model plays the curriculum role, else the learning-progress teacher."""
        llm = self.llms.get("curriculum")
        if llm is not None:
            return LLMCurriculum(llm, self.world, self.library.embedder, self.library,
                                 match=self.config.match_similarity)
        tasks = [self.world.task(spec) for spec in self.config.tasks] or None
        return LearningProgressCurriculum(self.world, self.library.embedder, self.config.seed,
                                          self.config.tasks_per_family, tasks=tasks)

    def _writer_for(self, task: Task, iteration: int, name: str) -> Any:
        """Who writes this attempt's skill: the session's writer, or a reward search's policy learner in a world
        without a robot API (and, with policy_after_failures, for a task the writer kept failing)."""
        failures = self.progress.failures.get(task.id, 0)
        after = self.config.policy_after_failures
        if self.world.robot_api_doc() is not None and not (after and failures >= after):
            return self.writer
        return PolicyLearner(self.world, self.library, self.run_dir.path / "policies" / f"{iteration}-{name}",
                             search=self.config.policy, llm=self.config.llm, llms=self.llms,
                             verify_seeds=self.config.verify_seeds,
                             threshold=self.config.threshold, seed=self.config.seed,
                             provenance={"run": str(self.run_dir.path), "iteration": iteration})

    def _replay(self) -> tuple[Progress, int]:
        progress = Progress()
        iterations = 0
        tasks = self.curriculum.tasks
        for proposed in self.run_dir.records(TaskProposed):
            if proposed.program and hasattr(self.curriculum, "restore"):
                self.curriculum.restore(proposed.task, proposed.text, proposed.program, proposed.horizon)
        for attempted in self.run_dir.records(TaskAttempted):
            progress.record(attempted.task, attempted.iteration, attempted.success, attempted.skill)
            iterations = attempted.iteration + 1
        for skill in self.library.skills(world=self.world.name):
            made_here = skill.provenance.get("run") == str(self.run_dir.path)
            if made_here and skill.task in tasks and skill.task not in progress.mastered:
                progress.record(skill.task, iterations, True, skill.ref)
                writer = skill.provenance.get("writer", "the session")
                self.run_dir.write(TaskAttempted(
                    iteration=iterations, task=skill.task, success=True, skill=skill.ref, calls=list(skill.calls),
                    how=f"written by {writer} (stored before the session stopped, journaled on resume)"))
                iterations += 1
        return progress, iterations

    def run(self, where: Run | Path | str) -> SessionResult:
        """Attempt tasks in the run at `where` (new, or one this session was stopped in) until the budget is spent
        or no task is left to try; write `summary.json`."""
        run = self.take_up(Run.at(where, "curriculum")).run_dir
        for iteration in range(self.iterations, self.config.budget):
            started = time.perf_counter()
            try:
                task = self._propose(iteration)
            except ProposalFailed as failed:
                self._record(TaskAttempted(iteration=iteration, task=failed.task_id, success=False,
                                           reason=failed.message, seconds=round(time.perf_counter() - started, 3)))
                continue
            if task is None:
                self.show(CurriculumExhausted(iteration=iteration))
                break
            self.show(TaskStarted(iteration=iteration, task=task.id, description=task.description))
            attempt = self._attempt(task, iteration)
            attempt.seconds = round(time.perf_counter() - started, 3)
            self._record(attempt)
        result = self.result()
        run.write_json(SUMMARY, result.model_dump(mode="json"))
        return result

    def _propose(self, iteration: int) -> Task | None:
        proposed = self.curriculum.propose(self.progress, iteration)
        if proposed is None or isinstance(proposed, Task):
            return proposed
        self.run_dir.write(TaskProposed(iteration=iteration, task=proposed.task.id, text=proposed.text,
                                        reasoning=proposed.reasoning, similarity=round(proposed.similarity, 4),
                                        program=proposed.task.family.program, horizon=proposed.task.horizon))
        return proposed.task

    def _record(self, attempt: TaskAttempted) -> None:
        self.progress.record(attempt.task, attempt.iteration, attempt.success, attempt.skill)
        self.run_dir.write(attempt)
        self.show(AttemptFinished(attempt=attempt, skills=len(self.progress.mastered), cost_usd=self.spent_usd()))

    def spent_usd(self) -> float:
        """What the session's models have cost so far (0 offline)."""
        return spent_usd(self.llms)

    def _attempt(self, task: Task, iteration: int) -> TaskAttempted:
        existing = {s.name: s for s in self.library.skills(world=self.world.name)}
        own = existing.get(task.family.name)
        if own is not None:
            seeds = list(range(self.config.verify_seeds))
            verification, _ = verify_skill(self.world, task, own, self.library, seeds, self.config.threshold)
            if verification.passed:
                return TaskAttempted(iteration=iteration, task=task.id, success=True, skill=own.ref,
                                     how="an existing skill verified on it", success_rate=verification.success_rate)
        retrieved = [h.skill.name for h in self.library.search(task.description, k=self.config.retrieve,
                                                                world=self.world.name)]
        name = task.family.name
        writer = self._writer_for(task, iteration, name)
        written = writer.write(task, name, skills=retrieved,
                               on_try=lambda episodes, _: self.show(EpisodesPlayed(episodes=episodes)))
        critic = [list(pair) for pair in written.judgements]
        if not written.found:
            return TaskAttempted(iteration=iteration, task=task.id, success=False, reason=writer.failure(written),
                                 episodes=written.episodes, retrieved=retrieved, critic=critic)
        same = self._same_program(written) if written.stored is None else None
        if same is not None:
            return TaskAttempted(iteration=iteration, task=task.id, success=True, skill=same.ref,
                                 how=f"an existing skill: {writer.name} wrote {same.ref}'s program again",
                                 episodes=written.episodes, retrieved=retrieved, critic=critic)
        stored = written.stored or self._store(task, written, iteration)
        active = self.library.active_version(stored.name)
        kept = f"{stored.name}@{active[0]}" if stored.status == "candidate" and active is not None else ""
        return TaskAttempted(iteration=iteration, task=task.id, success=True, skill=stored.ref, how=writer.how,
                             calls=list(written.calls), episodes=written.episodes, retrieved=retrieved,
                             success_rate=written.verification.success_rate if written.verification else None,
                             critic=critic, kept_active=kept,
                             compared=stored.compared.reason(stored.ref) if stored.compared else "")

    def _same_program(self, written: Written) -> Skill | None:
        """The library's skill whose program is this one (the same syntax tree, docstrings aside): storing it
        again would add a version, or a name, that says nothing new."""
        identity = program_identity(written.source or "")
        return next((skill for skill in self.library.skills(world=self.world.name, include_pending=True)
                     if skill.kind == "code" and program_identity(skill.source) == identity), None)

    def _store(self, task: Task, written: Written, iteration: int) -> Skill:
        """Store a written program through the library's gate: the active version of its name is verified on the
        same seeds and bindings the writer verified it on, and the new version is made active only when it
        succeeded at least as often (else it is kept as a candidate)."""
        assert written.source is not None and written.verification is not None
        signature = analyse(written.name, written.source)
        seeds = written.verification.seeds
        rotation = int(getattr(self.writer, "search_seed", 0))  # the compositional writer's seed, else 0 (LLM writer)
        tasks = verification_tasks(self.world, task, rotation)[:len(seeds)]
        skill = Skill(name=written.name, description=signature.docstring.split(" (written")[0], kind="code",
                      world=self.world.name, task=task.id, params=signature.params, calls=written.calls,
                      source=written.source, verification=replace(written.verification, tasks=[t.id for t in tasks]),
                      provenance={"run": str(self.run_dir.path), "writer": self.writer.name, "task": task.id,
                                  "iteration": iteration, **written_task(task)})
        return add_gated(self.library, self.world, tasks, skill)

    def result(self) -> SessionResult:
        """The session so far, from its journal."""
        return session_result(self.world.name, list(self.run_dir.records(TaskAttempted)), self.progress.mastered,
                              self.spent_usd())


def written_task(task: Task) -> dict[str, Any]:
    """Provenance for a skill whose task was given in words: the words and the task program that checks it."""
    if task.family.program is None:
        return {}
    return {"task_text": task.description, "task_program": task.family.program, "task_horizon": task.horizon}


def split_goal(goal: str, world: World, library: SkillLibrary, llm: LLM | None = None) -> list[str]:
    """The goal's subgoals, in order: the planner model's, or (offline) the goal cut at "then" and ";"."""
    if llm is None:
        return [p.strip() for p in re.split(r";|,? then |,? and then ", goal) if p.strip()]
    skills = "\n".join(f"- {s.name}: {s.description}" for s in library.skills(world=world.name)) or "(none)"
    messages = render("planner", world_description=describe(world, None, "curriculum"),
                      known_tasks=known_tasks_text(world), skills=skills, goal=goal)
    try:
        return [part.strip() for part in ask_json(llm, messages, Plan, role="curriculum").subgoals if part.strip()]
    except ExtractionError as error:
        raise LabError(f"the planner model gave no usable plan: {error.message}",
                       hint="try again, or solve offline (without --llm)") from None


def solve(world_name: str, goal: str, library: SkillLibrary, config: CurriculumConfig | None = None,
          on_try: Callable[[int, Any], None] | None = None,
          llms: dict[str, LLM | None] | None = None) -> tuple[Task, float, Written]:
    """Voyager's zero-shot mode: the goal is split into subgoals (by the planner model in the curriculum role, or
    offline at "then" and ";"), each read as the world's task it means (offline, a part that means none of them, or
    names a thing or number the world lacks, refuses the goal); several make one composite task, judged part by part
    in their order. With a
    model, a subgoal that is none of the world's tasks makes the whole goal a task given in words, its success
    check written by the model. A program for the task is then written (by the skill_writer model, or by
    compositional search) over the library's skills, which stay frozen: nothing is stored."""
    config = config or CurriculumConfig(world=world_name)
    llms = llms or {}
    planner, coder = llms.get("curriculum"), llms.get("skill_writer")
    world = get_world(world_name)
    pool = every_task(world)
    parts = split_goal(goal, world, library, planner)
    read = read_goal if planner is None else closest_task
    found = [read(world, part, library.embedder, pool) for part in parts]
    similarity = min(s for _, s in found)
    if planner is not None and similarity < config.match_similarity:
        source, _ = write_task_program(planner, world, goal, role="curriculum")
        task = program_task(world, goal, source, name=task_name(goal, set(world.task_families))).task
    elif len(found) == 1:
        task = found[0][0]
    else:
        task = world.task(" & ".join(t.id for t, _ in found))
    name = f"{task.family.name}_solution" if task.family.name.isidentifier() else "goal_solution"
    writer = make_writer(config, world, library, coder)
    if coder is not None:
        retrieved = [h.skill.name for h in library.search(goal, k=config.retrieve, world=world.name, kind="code")]
        return task, similarity, writer.write(task, name, skills=retrieved)
    return task, similarity, writer.write(task, name, on_try=on_try)


def make_writer(config: CurriculumConfig, world: World, library: SkillLibrary, llm: LLM | None = None,
                critic: LLM | None = None) -> Any:
    """The skill writer a curriculum asks for: the LLM writer when a model plays the skill_writer role (with a
    critic when one plays that role), else the compositional search."""
    if llm is not None:
        return LLMSkillWriter(llm, world, library, rounds=config.rounds, verify_seeds=config.verify_seeds,
                              threshold=config.threshold, critic=Critic(critic) if critic is not None else None)
    return CompositionalWriter(world, library, beam=config.beam, max_length=config.max_length,
                               verify_seeds=config.verify_seeds, threshold=config.threshold,
                               episode_budget=config.episode_budget)
