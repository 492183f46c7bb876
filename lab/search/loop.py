"""Eureka reward search: propose reward programs, check and repair them, train them, reflect, and evolve.

Each iteration the designer (an LLM, or the offline term search) writes K programs from the best candidates so far
and their reflections. Every program is checked and dry-run before any training; one that fails goes back to its
designer with the error, a fixed number of times. Survivors train briefly, the better half trains on the full
budget (successive halving), and candidates are ranked by their policy's mean task fitness over evaluation
episodes. The top few are carried forward. At the end the best program's policy is evaluated on held-out seeds
next to the sparse and human baselines trained on the same budget, which gives the human-normalized score.

Everything is written to one run directory and journaled in its event log as typed records (lab/search/records.py),
so a killed search resumes without training a finished candidate again. `RewardSearch(config).run(run)` writes the
run's config itself, so a search started from Python is one `lab report` and `lab reward --resume` accept.
"""

from __future__ import annotations

import json
import math
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lab.embedding import Embedder, SentenceEmbedder
from lab.errors import LabError
from lab.executors import Executor, JobResult, TrainJob, make_executor
from lab.llm.client import LLM
from lab.llm.config import build_llms, spent_usd
from lab.policy import POLICY, POLICY_EXPORT, load_policy
from lab.rewards.program import (
    BASELINES,
    REWARD_RULES,
    RewardProgram,
    SandboxedReward,
    baseline_path,
    dry_run,
    sample_states,
)
from lab.rewards.promotion import (
    PROMOTED,
    active_promoted,
    promotion_file,
    promotion_root,
    record_promotion,
    reward_history,
)
from lab.rewards.task_program import program_task
from lab.runs import SUMMARY, ProgressFn, Run
from lab.sandbox import ProgramError, check_program
from lab.sandbox.rules import program_identity
from lab.search.config import SearchConfig
from lab.search.designer import LLMRewardDesigner, OfflineDesigner, Parent, Proposal, RewardDesigner, how_judged
from lab.search.records import (
    BaselineTrained,
    CandidateProposed,
    CandidateSummary,
    CandidateTrained,
    EvaluationSummary,
    IterationDone,
    IterationStarted,
    JobsStarted,
    KeptWithinNoise,
    ProgramRejected,
    RewardPromoted,
    SearchFinished,
    SearchResult,
    SearchStarted,
    TaskProgramWritten,
    TaskRead,
)
from lab.search.reflection import TrainingStats, reflection_text
from lab.search.task_writer import write_task_program
from lab.search.terms import OfflineRewardDesigner
from lab.search.uncertainty import Outcome, outcome
from lab.training.config import TrainConfig
from lab.training.evaluation import Evaluation, render_policy
from lab.training.trainer import EVALUATION, evaluate_run
from lab.worlds import get_world
from lab.worlds.core import Task, World
from lab.worlds.reading import read_goal

SELECT_SEED = 10_000
"""Seeds from here rank candidates; the final comparison uses other seeds (HELD_OUT_SEED), so the winner's
evaluation is not the one it was picked on."""
HELD_OUT_SEED = 20_000
FINAL_EVALUATION = "final_eval.json"
SAMPLED_EVALUATION = "final_eval_sampled.json"


@dataclass
class Candidate:
    id: str
    iteration: int
    source: str
    parent: str | None
    note: str
    genome: dict[str, Any] | None
    valid: bool
    errors: list[str]
    results: dict[str, JobResult]

    @property
    def final(self) -> JobResult | None:
        result = self.results.get("full")
        return result if result is not None and result.ok else None

    @property
    def score(self) -> float:
        """Mean task fitness over the ranking episodes of its longest successful run."""
        for stage in ("full", "short"):
            result = self.results.get(stage)
            if result is not None and result.ok:
                return float(result.evaluation.get("fitness_mean", -math.inf))
        return -math.inf

    def stats(self) -> TrainingStats | None:
        final = self.final
        return TrainingStats.from_curve(final.curve) if final is not None else None

    def hacking_reasons(self) -> list[str]:
        """Why its full run looks like reward hacking (none when it does not, or has no full run)."""
        stats, final = self.stats(), self.final
        return stats.hacking_reasons(final.evaluation) if stats is not None and final is not None else []


class RewardSearch:
    """The Eureka optimizer: `RewardSearch(config).run(run) -> SearchResult`, going on from wherever the run's
    journal says it stopped.

    The constructor only stores its arguments. `llms` are the models of an enclosing run (a curriculum session's),
    so the search spends from the same ledger and budget; without them the search builds its own from
    `config.llm`. `embedder` is a loaded sentence embedder to share (else one is loaded when needed)."""

    def __init__(self, config: SearchConfig, *, designer: RewardDesigner | None = None,
                 executor: Executor | None = None, progress: ProgressFn | None = None,
                 llms: dict[str, LLM | None] | None = None, embedder: Embedder | None = None) -> None:
        self.config = config
        self._given_designer = designer
        self._executor = executor
        self.progress: ProgressFn = progress or (lambda record: None)
        self.llms: dict[str, LLM | None] = llms if llms is not None else {}
        self._own_llms = llms is None and designer is None
        self._embedder = embedder
        self._judged: Any = None
        self._spent_before = 0.0
        self.candidates: dict[str, Candidate] = {}
        self.baseline_results: dict[str, JobResult] = {}
        self.iterations_done: list[IterationDone] = []

    def _start(self, run: Run) -> None:
        """Take up `run`: write its config (or keep the one it has, on a resume), then the world, the models, the
        task, the designer, and the state the journal holds."""
        self.run_dir = run
        self.candidates, self.baseline_results, self.iterations_done = {}, {}, []
        run.check_config("reward", self.config, "search", may_differ=frozenset({"iterations", "target_fitness"}))
        self.world: World = get_world(self.config.world)
        if self._own_llms:
            self.llms = build_llms(self.config.llm, run.path)
        self._spent_before = spent_usd(self.llms)
        self.task: Task = self._resolve_task()
        self._made_designer: RewardDesigner | None = self._given_designer
        self._replay()

    # ----- set-up
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = SentenceEmbedder()
        return self._embedder

    def _resolve_task(self) -> Task:
        """The world's task the config names, or the task text: judged by a program the model writes (journaled,
        so a resume reuses it), or, with no model, read as the nearest of the world's own tasks."""
        config = self.config
        if config.task:
            return self.world.task(config.task)
        if not config.task_text:
            raise LabError("a reward search needs a task", hint="give TASK, or --task-text 'the task in words'")
        llm = self.llms.get("reward_designer")
        if llm is None:
            task, similarity = read_goal(self.world, config.task_text, self.embedder)
            self.progress(TaskRead(task=task.id, written=False, similarity=similarity))
            return task
        written = list(self.run_dir.records(TaskProgramWritten))
        if written:
            source = written[-1].source
        else:
            source, errors = write_task_program(llm, self.world, config.task_text, config.repairs)
            self.run_dir.write(TaskProgramWritten(source=source, errors=errors))
        self.run_dir.write_text("task.py", source)
        self._judged = program_task(self.world, config.task_text, source)
        self.progress(TaskRead(task=config.task_text, written=True, source=source))
        return self._judged.task

    @property
    def designer(self) -> RewardDesigner:
        """The designer, made on first use: a resumed search with nothing left to propose never loads the offline
        designer's embedding model (seconds) or its state samples."""
        if self._made_designer is None:
            self._made_designer = self._designer()
        return self._made_designer

    def _designer_name(self) -> str:
        """The designer's name, from the journal when the search has one (without making the designer)."""
        started = next(self.run_dir.records(SearchStarted), None)
        return started.designer if started is not None else self.designer.name

    def _designer(self) -> RewardDesigner:
        llm = self.llms.get("reward_designer")
        if llm is not None:
            return LLMRewardDesigner(llm, self.world, self.task, self.config.task_text,
                                     how_judged(self.config, self.task))
        base = self._human().source if self.config.init == "human" else ""
        return OfflineDesigner(OfflineRewardDesigner(self.world, self.task, self.embedder, self.config.seed,
                                                     self.config.task_text), base)

    def _human(self) -> RewardProgram:
        path = baseline_path(self.task.world, self.task.family.name, "human")
        if path is None:
            raise LabError(f"--init human: there is no human reward for {self.task.world}/{self.task.family.name}",
                           hint="leave --init out, or add rewards/WORLD/TASK/human.py")
        return RewardProgram.from_file(path, name="human")

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = make_executor(self.config.executor, self.config.max_parallel, self.config.ray_address)
        return self._executor

    def _replay(self) -> None:
        """Rebuild the search's state from its journal (nothing on a fresh run)."""
        for proposed in self.run_dir.records(CandidateProposed):
            self.candidates[proposed.id] = Candidate(proposed.id, proposed.iteration, proposed.source, proposed.parent,
                                                     proposed.note, proposed.genome, proposed.valid,
                                                     list(proposed.errors), {})
        for trained in self.run_dir.records(CandidateTrained):
            if trained.id in self.candidates:
                self.candidates[trained.id].results[trained.stage] = trained.result
        for baseline in self.run_dir.records(BaselineTrained):
            self.baseline_results[baseline.name] = baseline.result
        self.iterations_done = list(self.run_dir.records(IterationDone))

    # ----- the loop
    def run(self, where: Run | Path | str) -> SearchResult:
        """Search in the run at `where` (new, or one this search was stopped in) until its iterations are done or
        the target is reached; then train the baselines, evaluate the best on held-out seeds, write `summary.json`."""
        config = self.config
        run = Run.at(where, "reward")
        self._start(run)
        if not any(True for _ in run.records(SearchStarted)):
            run.write(SearchStarted(designer=self.designer.name, task=self.task.id))
        try:
            if config.init == "human":
                self._initial_human()
            for iteration in range(len(self.iterations_done), config.iterations):
                if self._target_reached():
                    break
                self._iteration(iteration)
            summary = self._finish()
        finally:
            if self._executor is not None:
                self._executor.close()
            if self._judged is not None:
                self._judged.close()
        return summary

    def _target_reached(self) -> bool:
        target = self.config.target_fitness
        return target is not None and any(c.final and c.score >= target for c in self.candidates.values())

    def _initial_human(self) -> None:
        if "init" not in self.candidates:
            human = self._human()
            self._record(Candidate("init", -1, human.source, None, "the human reward (--init human)", None, True, [],
                                   {}))
        self._train([self.candidates["init"]], "full")

    def _iteration(self, iteration: int) -> None:
        started = time.perf_counter()
        spent = self._spent()
        parents = self.parents()
        self.progress(IterationStarted(iteration=iteration, parents=[p.id for p in parents]))
        ids = [f"i{iteration}c{index}" for index in range(self.config.samples)]
        missing = [cid for cid in ids if cid not in self.candidates]
        if missing:
            feedback = self.config.feedback or None
            proposals = self.designer.propose(parents, self.config.samples, iteration, feedback)
            for cid, proposal in zip(ids, proposals, strict=False):
                if cid in missing:
                    self._record(self._checked(cid, iteration, proposal))
        batch = [self.candidates[cid] for cid in ids if cid in self.candidates and self.candidates[cid].valid]
        keep = max(1, math.ceil(self.config.survivors * self.config.samples))
        if self.config.short_fraction < 1 and len(batch) > keep:  # a stage that would discard nothing is skipped
            self._train(batch, "short")
            ranked = sorted((c for c in batch if c.results.get("short") and c.results["short"].ok),
                            key=lambda c: (-c.score, c.id))
            batch = self.survivors(ranked, keep)
        self._train(batch, "full")
        best = self.best()
        record = IterationDone(iteration=iteration, seconds=round(time.perf_counter() - started, 3),
                               llm_cost_usd=round(self._spent() - spent, 6), best=best.id if best else None,
                               best_score=best.score if best else None,
                               candidates={cid: finite(self.candidates[cid].score) for cid in ids
                                           if cid in self.candidates})
        self.run_dir.write(record)
        self.iterations_done.append(record)
        self.progress(record)

    def survivors(self, ranked: list[Candidate], keep: int) -> list[Candidate]:
        """The short stage's survivors: the best `keep`, and every other candidate it could not tell from the last
        of them. Two candidates are told apart when their ranking episodes' intervals (mean +- 2 standard errors)
        do not overlap; one within the noise goes on to the full budget rather than being dropped by noise."""
        if len(ranked) <= keep:
            return ranked

        def bounds(candidate: Candidate) -> tuple[float, float]:
            evaluation = candidate.results["short"].evaluation
            mean, episodes = float(evaluation.get("fitness_mean", -math.inf)), int(evaluation.get("episodes", 1))
            error = 2 * float(evaluation.get("fitness_std", 0.0)) / math.sqrt(max(episodes, 1))
            return mean - error, mean + error

        cutoff = bounds(ranked[keep - 1])[0]
        within = [c for c in ranked[keep:] if math.isfinite(c.score) and bounds(c)[1] >= cutoff]
        if within:
            self.progress(KeptWithinNoise(ids=[c.id for c in within], cutoff=cutoff))
        return ranked[:keep] + within

    def _spent(self) -> float:
        """What this search's models have cost (its own share, when it spends from an enclosing run's ledger)."""
        return spent_usd(self.llms) - self._spent_before

    def _checked(self, cid: str, iteration: int, proposal: Proposal) -> Candidate:
        """Check, dry-run and de-duplicate a proposal, sending failures back to the designer `repairs` times."""
        errors: list[str] = []
        seen = {program_identity(c.source): c.id for c in self.candidates.values() if c.valid}
        for attempt in range(self.config.repairs + 1):
            error = proposal.error or self._problem(proposal.source, seen)
            if not error:
                return Candidate(cid, iteration, proposal.source, proposal.parent, proposal.note, proposal.genome,
                                 True, errors, {})
            errors.append(error)
            self.progress(ProgramRejected(id=cid, attempt=attempt, error=error))
            if attempt < self.config.repairs:
                proposal = self.designer.repair(proposal, error, attempt + 1)
        return Candidate(cid, iteration, proposal.source, proposal.parent, proposal.note, proposal.genome, False,
                         errors, {})

    def _problem(self, source: str, seen: dict[str, str]) -> str:
        try:
            check_program(source, REWARD_RULES)
            dry_run(RewardProgram(source, "candidate"), self.world, self.task, seed=self.config.seed)
        except ProgramError as error:
            return error.feedback()
        twin = seen.get(program_identity(source))
        if twin is not None:
            return f"this program is the same as candidate {twin}, already trained; write a different one"
        return ""

    def _record(self, candidate: Candidate) -> None:
        folder = self.run_dir.path / "candidates" / candidate.id
        folder.mkdir(parents=True, exist_ok=True)
        self.run_dir.write_text(f"candidates/{candidate.id}/reward.py", candidate.source)
        proposed = CandidateProposed(id=candidate.id, iteration=candidate.iteration, source=candidate.source,
                                     parent=candidate.parent, note=candidate.note, genome=candidate.genome,
                                     valid=candidate.valid, errors=candidate.errors)
        self.run_dir.write(proposed)
        self.candidates[candidate.id] = candidate
        self.progress(proposed)

    # ----- training
    def _job(self, name: str, reward: str, run_dir: Path, steps: int, eval_seed: int, episodes: int,
             seed_offset: int = 0) -> TrainJob:
        values = {**self.config.train, "world": self.config.world, "task": self.task.id, "reward": str(reward),
                  "steps": steps, "seed": self.config.seed + seed_offset, "eval_seed": eval_seed,
                  "eval_episodes": episodes}
        if self._judged is not None:
            values.update(task=self.config.task_text, task_program=str(self.run_dir.file("task.py").resolve()))
        return TrainJob(name, TrainConfig.model_validate(values), str(run_dir))

    def _train(self, candidates: list[Candidate], stage: str) -> None:
        steps = self.config.steps if stage == "full" else max(64, int(self.config.steps * self.config.short_fraction))
        jobs = []
        for candidate in candidates:
            if stage in candidate.results:
                continue
            folder = self.run_dir.path / "candidates" / candidate.id
            jobs.append(self._job(f"{candidate.id}/{stage}", str((folder / "reward.py").resolve()),
                                  folder / stage, steps, SELECT_SEED, self.config.select_episodes))
        if not jobs:
            return
        self.progress(JobsStarted(stage=stage, jobs=[j.id for j in jobs], steps=steps))
        self.executor.run(jobs, self._trained)

    def _trained(self, result: JobResult) -> None:
        """Journal a candidate's finished job (`ID/STAGE`) with its reflection and what its curves say."""
        cid, _, job_stage = result.id.partition("/")
        self.candidates[cid].results[job_stage] = result
        stats = TrainingStats.from_curve(result.curve) if result.ok else None
        reasons = stats.hacking_reasons(result.evaluation) if stats is not None else []
        if stats is not None:
            self.run_dir.write_text(f"candidates/{cid}/{job_stage}/reflection.txt",
                                    reflection_text(stats, result.evaluation) + "\n")
        trained = CandidateTrained(id=cid, stage=job_stage, result=result, score=finite(self.candidates[cid].score),
                                   hacking=bool(reasons), hacking_reasons=reasons,
                                   correlation=stats.reward_fitness_correlation if stats else None)
        self.run_dir.write(trained)
        self.progress(trained)

    # ----- choosing
    def ranked(self) -> list[Candidate]:
        """Candidates trained on the full budget, best first (ties by id, so the order never depends on timing)."""
        return sorted((c for c in self.candidates.values() if c.final), key=lambda c: (-c.score, c.id))

    def best(self) -> Candidate | None:
        ranked = self.ranked()
        return ranked[0] if ranked else None

    def parents(self) -> list[Parent]:
        """The best `keep` candidates to build on; one flagged for reward hacking never is (its reward pays for
        something other than the task), so with only flagged ones the designer starts afresh."""
        parents: list[Parent] = []
        for candidate in self.ranked():
            stats = candidate.stats()
            assert stats is not None and candidate.final is not None
            if candidate.hacking_reasons():
                continue
            parents.append(Parent(candidate.id, candidate.source, candidate.score,
                                  reflection_text(stats, candidate.final.evaluation), stats, candidate.genome))
            if len(parents) == self.config.keep:
                break
        return parents

    def lineage(self, cid: str) -> list[str]:
        chain = [cid]
        while (parent := self.candidates[chain[-1]].parent) is not None and parent in self.candidates:
            chain.append(parent)
        return chain

    # ----- the end
    def _finish(self) -> SearchResult:
        best = self.best()
        if best is None:
            raise LabError("no candidate trained successfully",
                           hint="see the run's events.jsonl for each candidate's error; more repairs or another "
                                "designer may help")
        if self.config.baselines:
            self._train_baselines()
        self._train_seeds(best)
        self._final_evaluation(best)
        evaluations = self._evaluations(best)
        judged = outcome([e.fitness for e in evaluations["best"]],
                         {name: [e.fitness for e in runs] for name, runs in evaluations.items()
                          if name not in ("best", "best (sampled)")},
                         seed=self.config.seed, sampled=[e.fitness for e in evaluations["best (sampled)"]])
        normalized_score = judged.score
        final = pooled(evaluations["best"])
        reasons = best.hacking_reasons()
        promoted_version, audit = self._promote(best, judged, evaluations)
        result = SearchResult(
            task=self.task.id if self._judged is None else self.config.task_text,
            task_program=self._judged is not None, designer=self._designer_name(), best=best.id,
            lineage=self.lineage(best.id), best_selection_fitness=best.score,
            final_evaluation=EvaluationSummary.model_validate(final),
            sampled_evaluation=EvaluationSummary.model_validate(pooled(evaluations["best (sampled)"])),
            baselines={name: EvaluationSummary.model_validate(pooled(runs)) for name, runs in evaluations.items()
                       if name not in ("best", "best (sampled)")},
            seeds=self.config.training_seeds,
            seed_means={name: [float(e.fitness.mean()) for e in runs] for name, runs in evaluations.items()},
            human_normalized_score=normalized_score, human_normalized_interval=judged.score_interval,
            fitness_intervals=judged.intervals, differences=judged.differences, verdict=judged.verdict,
            correlation_with_human=self._correlation(best.source),
            reward_hacking=bool(reasons), hacking_reasons=reasons, promoted_version=promoted_version, audit=audit,
            candidates={c.id: self._candidate_summary(c) for c in self.candidates.values()},
            iterations=self.iterations_done, llm_cost_usd=round(self._spent(), 6))
        self.run_dir.write_text("best.py", best.source)
        self.run_dir.write_json(SUMMARY, result.model_dump(mode="json"))
        self.run_dir.write(SearchFinished(best=best.id, final_fitness=final["fitness_mean"],
                                          human_normalized_score=normalized_score))
        return result

    @staticmethod
    def _candidate_summary(candidate: Candidate) -> CandidateSummary:
        reasons = candidate.hacking_reasons()
        return CandidateSummary(iteration=candidate.iteration,
                                score=finite(candidate.score) if candidate.results else None, valid=candidate.valid,
                                parent=candidate.parent, note=candidate.note, stages=sorted(candidate.results),
                                hacking=bool(reasons), hacking_reasons=reasons)

    def _baseline_programs(self) -> dict[str, tuple[Path, int | None]]:
        """The programs the best is compared with: the family's sparse and human rewards, and with `promote` its
        active promoted version (with that version's number)."""
        programs: dict[str, tuple[Path, int | None]] = {}
        for name in BASELINES:
            path = baseline_path(self.task.world, self.task.family.name, name)
            if path is not None:
                programs[name] = (path, None)
        if self.config.promote and self._judged is None:
            trained = [b.version for b in self.run_dir.records(BaselineTrained)
                       if b.name == PROMOTED and b.version is not None]
            if trained:  # a resumed search compares with the version it began with
                programs[PROMOTED] = (promotion_file(self.task.world, self.task.family.name, trained[0]), trained[0])
            elif not any(True for _ in self.run_dir.records(RewardPromoted)):  # not the version it wrote itself
                active = active_promoted(self.task.world, self.task.family.name)
                if active is not None:
                    programs[PROMOTED] = (active[1], active[0])
        return programs

    def _train_baselines(self) -> None:
        """Each baseline on the full budget, once per training seed, evaluated on the held-out seeds."""
        jobs = []
        programs = self._baseline_programs()
        for name, (path, _) in programs.items():
            for offset in range(self.config.training_seeds):
                job = seeded_name(name, offset)
                if job not in self.baseline_results:
                    jobs.append(self._job(job, str(path), self.run_dir.path / "baselines" / job.replace("@", "-"),
                                          self.config.steps, HELD_OUT_SEED, self.config.eval_seeds, offset))
        if not jobs:
            return
        self.progress(JobsStarted(stage="baselines", jobs=[j.id for j in jobs], steps=self.config.steps))

        def done(result: JobResult) -> None:
            self.baseline_results[result.id] = result
            trained = BaselineTrained(name=result.id, result=result,
                                      version=programs[result.id.partition("@")[0]][1])
            self.run_dir.write(trained)
            self.progress(trained)

        self.executor.run(jobs, done)

    def _promote(self, best: Candidate, judged: Outcome,
                 evaluations: dict[str, list[Evaluation]]) -> tuple[int | None, list[str]]:
        """With `promote`: write the best into the reward library as a new version when the interval of its mean
        fitness minus the active promoted version's (or, with none, the human reward's) is above zero on the same
        held-out seeds; either way, the audit says what changed in `rewards/`, on what evidence, and how to undo."""
        world, family = self.task.world, self.task.family.name
        if not self.config.promote:
            return None, [f"rewards/: nothing changed (give --promote to add the best to rewards/{world}/{family}/"
                          "promoted/ when it beats what is there)"]
        if self._judged is not None:
            return None, ["rewards/: nothing changed: a task written by the model in this run has no place in the "
                          "reward library (give a world task to promote)"]
        seeds = self.config.training_seeds
        over = f"{seeds} training seed{'s' * (seeds > 1)} x {self.config.eval_seeds} held-out episodes"
        recorded = self._recorded_promotion(best.id)
        if recorded is not None:  # this search promoted already (it is being resumed or finished again)
            version, evidence = recorded
            low, high = evidence.get("difference", (math.nan, math.nan))
            shown = f"best - {evidence.get('compared_against')} = {low:+.4g} to {high:+.4g} (95%, {over})"
            return version, self._promoted_lines(best.id, version, int(evidence.get("active_before", 0)), shown)
        versions = [b.version for b in self.run_dir.records(BaselineTrained) if b.name == PROMOTED]
        against = PROMOTED if PROMOTED in self._baseline_programs() else "human"
        label = f"promoted v{versions[0]}" if against == PROMOTED and versions else against
        difference = judged.differences.get(against)
        if difference is None:
            return None, [f"rewards/: nothing changed: there is no {against} reward trained to compare the best with"]
        shown = f"best - {label} = {difference[0]:+.4g} to {difference[1]:+.4g} (95%, {over})"
        if difference[0] <= 0:
            return None, [f"rewards/: nothing changed: the best is not above {label} ({shown})"]
        else:
            active = active_promoted(world, family)
            evidence = {"run": str(self.run_dir.path.resolve()), "candidate": best.id, "compared_against": label,
                        "active_before": active[0] if active is not None else 0,
                        "difference": list(difference), "training_seeds": seeds,
                        "held_out_seeds": [HELD_OUT_SEED + i for i in range(self.config.eval_seeds)],
                        "fitness": {name: {"mean": pooled(runs)["fitness_mean"],
                                           "interval": list(judged.intervals.get(name, (math.nan, math.nan)))}
                                    for name, runs in evaluations.items()}}
            version = record_promotion(world, family, best.source, evidence, root=promotion_root(world, family))
            self.run_dir.write(RewardPromoted(version=version, candidate=best.id, evidence=evidence))
        return version, self._promoted_lines(best.id, version, int(evidence["active_before"]), shown)

    def _recorded_promotion(self, cid: str) -> tuple[int, dict[str, Any]] | None:
        """The version this search already wrote for candidate `cid`, with its evidence: from its journal, or from
        the library's history when the search was killed between writing the version and journaling it."""
        recorded = next(self.run_dir.records(RewardPromoted), None)
        if recorded is not None:
            return recorded.version, recorded.evidence
        here = str(self.run_dir.path.resolve())
        for entry in reward_history(self.task.world, self.task.family.name):
            if entry.action == "promote" and entry.evidence.get("run") == here and entry.evidence.get(
                    "candidate") == cid:
                self.run_dir.write(RewardPromoted(version=entry.version, candidate=cid, evidence=entry.evidence))
                return entry.version, dict(entry.evidence)
        return None

    def _promoted_lines(self, cid: str, version: int, before: int, shown: str) -> list[str]:
        """The audit of a promotion: what was written, on what evidence, and the commands that show and undo it
        (back to the version active before it, so a later promotion is not the one undone)."""
        world, family = self.task.world, self.task.family.name
        words = shlex.quote(self.config.task or family)
        return [f"rewards/: promoted {cid} as {world}/{family} v{version}: {shown}",
                f"  undo: lab rewards rollback {world} {words} --to {before}   (history: lab rewards history "
                f"{world} {words})"]

    def _train_seeds(self, best: Candidate) -> None:
        """The best program trained again on each further training seed (stage `seedK`), evaluated directly on the
        held-out seeds: its first run was picked among the candidates, these were not."""
        stages = [f"seed{offset}" for offset in range(1, self.config.training_seeds) if f"seed{offset}" not in
                  best.results]
        if not stages:
            return
        folder = self.run_dir.path / "candidates" / best.id
        jobs = [self._job(f"{best.id}/{stage}", str((folder / "reward.py").resolve()), folder / stage,
                          self.config.steps, HELD_OUT_SEED, self.config.eval_seeds, int(stage.removeprefix("seed")))
                for stage in stages]
        self.progress(JobsStarted(stage="seeds", jobs=[j.id for j in jobs], steps=self.config.steps))
        self.executor.run(jobs, self._trained)

    def _best_runs(self, best: Candidate) -> list[tuple[Path, str]]:
        """The best program's runs of the final comparison, one per training seed, each with the file of its
        deterministic held-out evaluation (the first run was ranked on other seeds, so it has its own)."""
        folder = self.run_dir.path / "candidates" / best.id
        runs = [(folder / "full", FINAL_EVALUATION)]
        for offset in range(1, self.config.training_seeds):
            result = best.results.get(f"seed{offset}")
            if result is not None and result.ok:
                runs.append((folder / f"seed{offset}", EVALUATION))
        return runs

    def _evaluations(self, best: Candidate) -> dict[str, list[Evaluation]]:
        """Every policy of the final comparison on the held-out episodes, one evaluation per training seed: the
        best (deterministic and sampled) and each baseline that trained."""
        evaluations: dict[str, list[Evaluation]] = {
            "best": [read_evaluation(folder / record) for folder, record in self._best_runs(best)],
            "best (sampled)": [read_evaluation(folder / SAMPLED_EVALUATION) for folder, _ in self._best_runs(best)],
        }
        for job, result in sorted(self.baseline_results.items()):
            path = self.run_dir.path / "baselines" / job.replace("@", "-") / EVALUATION
            if result.ok and path.is_file():
                evaluations.setdefault(job.partition("@")[0], []).append(read_evaluation(path))
        return evaluations

    def _final_evaluation(self, best: Candidate) -> None:
        """The best program's policies on the held-out seeds the baselines are evaluated on: the first run with its
        deterministic actions (`final_eval.json`; the others were evaluated there by their training job) and every
        run with actions sampled as in training (`final_eval_sampled.json`): a policy can score very differently the
        two ways, and the training curves show the sampled one."""
        program = RewardProgram(best.source, best.id)
        seeds = [HELD_OUT_SEED + i for i in range(self.config.eval_seeds)]
        for folder, deterministic_record in self._best_runs(best):
            run = Run.open(folder)
            policy = None
            for record, deterministic in ((SAMPLED_EVALUATION, False), (deterministic_record, True)):
                if not run.file(record).is_file():
                    policy = policy or load_policy(run, device="cpu")
                    evaluate_run(run, policy, self.world, self.task, program, seeds, record=record,
                                 deterministic=deterministic)

    def render_videos(self, summary: SearchResult) -> list[Path]:
        """One held-out episode of the best candidate's policy and of each baseline's, rendered to
        `videos/NAME.mp4` in the run directory (the report shows them side by side); a policy that is missing
        (a baseline not trained) is left out."""
        runs = {"best": self.run_dir.path / "candidates" / summary.best / "full"}
        runs |= {name: self.run_dir.path / "baselines" / name for name in summary.baselines}
        written = []
        for name, folder in runs.items():
            if not (folder / POLICY_EXPORT).is_file() and not (folder / POLICY).is_file():
                continue
            run = Run.open(folder)
            path = self.run_dir.path / "videos" / f"{name}.mp4"
            path.parent.mkdir(exist_ok=True)
            render_policy(load_policy(run, device="cpu"), self.world, self.task, HELD_OUT_SEED, path)
            written.append(path)
        return written

    def _correlation(self, source: str) -> float | None:
        """Pearson correlation of the best reward with the human one on states of random rollouts."""
        path = baseline_path(self.task.world, self.task.family.name, "human")
        if path is None:
            return None
        state, action = sample_states(self.world, self.task, self.config.seed + 1, steps=512)
        values = []
        for program in (RewardProgram(source, "best"), RewardProgram.from_file(path, name="human")):
            with SandboxedReward(program, self.task) as reward_fn:
                values.append(np.asarray(reward_fn(state, action)[0], dtype=np.float64))
        if min(float(v.std()) for v in values) < 1e-12:
            return None
        return float(np.corrcoef(values[0], values[1])[0, 1])


def seeded_name(name: str, offset: int) -> str:
    """A baseline's job for its `offset`-th further training seed: `NAME`, then `NAME@seed1`, `NAME@seed2`, ..."""
    return name if offset == 0 else f"{name}@seed{offset}"


def read_evaluation(path: Path) -> Evaluation:
    """An evaluation record (`eval.json`, `final_eval*.json`) as written by `evaluate_run`."""
    data = json.loads(path.read_text())
    return Evaluation(seeds=list(data.get("seeds", [])), episodes=list(data.get("episodes", [])))


def pooled(evaluations: list[Evaluation]) -> dict[str, Any]:
    """One summary of a policy's evaluations over several training seeds: the mean of each seed's summary, the
    spread over every episode, the episodes counted once each."""
    summaries = [e.summary() for e in evaluations if e.episodes]
    if not summaries:
        return {}
    keys = set.intersection(*(set(s) for s in summaries))
    merged = {key: float(np.mean([s[key] for s in summaries])) for key in keys}
    merged["episodes"] = sum(len(e.episodes) for e in evaluations)
    merged["fitness_std"] = float(np.concatenate([e.fitness for e in evaluations if e.episodes]).std())
    merged["training_seeds"] = len(summaries)
    return merged


def finite(score: float) -> float | None:
    """A score as the journal keeps it: None for a candidate that has none (-inf while ranking)."""
    return score if math.isfinite(score) else None
