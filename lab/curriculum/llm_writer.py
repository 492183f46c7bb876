"""The LLM skill writer (Voyager's action agent): a model writes a skill program, it runs in simulation, and the
errors, the success rate and (with a critic) the critique go back to it, for at most R rounds."""

from __future__ import annotations

import time
from typing import Any

from lab.curriculum.llm_curriculum import Critic
from lab.curriculum.writer import Written, verification_tasks
from lab.llm.client import LLM
from lab.llm.extract import ExtractionError, extract_code
from lab.llm.prompting import render
from lab.llm.types import Message
from lab.sandbox import ProgramError
from lab.skills.model import Verification
from lab.skills.runtime import EpisodeResult, ProgramPlayer, analyse
from lab.skills.store import SkillLibrary
from lab.worlds.core import Task, World
from lab.worlds.description import describe
from lab.worlds.robot import PROGRAM_STEPS, SETTLE_STEPS


class LLMSkillWriter:
    """Writes a skill for a task with a model, verifying each round's program on seeded episodes."""

    name = "llm"
    how = "written by the LLM writer"

    def __init__(self, llm: LLM, world: World, library: SkillLibrary | None = None, *, rounds: int = 4,
                 verify_seeds: int = 10, threshold: float = 0.8, critic: Critic | None = None) -> None:
        self.llm = llm
        self.critic = critic
        self.world = world
        self.library = library
        self.rounds = rounds
        self.verify_seeds = verify_seeds
        self.threshold = threshold

    def _skills_text(self, skills: list[str] | None) -> str:
        if self.library is None or not skills:
            return "(none yet)"
        return "\n\n".join(f"```python\n{self.library.get(name).source}```" for name in skills)

    def write(self, task: Task, name: str | None = None, on_try: Any = None,
              skills: list[str] | None = None) -> Written:
        name = name or task.family.name
        started = time.perf_counter()
        parameters = ", ".join(["robot", *(p.name for p in task.family.params)])
        signature = f"def {name}({parameters})"
        messages: list[Message] = render(
            "skill_writer", world_description=describe(self.world, task, "skill"), task_text=task.description,
            skill_name=name, signature=signature, skills=self._skills_text(skills),
            how_judged=skill_judging(task, self.verify_seeds, self.threshold))
        written = Written(name, None, None)
        with ProgramPlayer(self.world, task, self.library) as player:
            for _ in range(self.rounds):
                reply = self.llm.complete(messages, role="skill_writer").texts[0]
                messages = [*messages, {"role": "assistant", "content": reply}]
                try:
                    source = extract_code(reply, name)
                    analyse(name, source)
                except (ExtractionError, ProgramError) as error:
                    feedback = error.feedback() if isinstance(error, ProgramError) else error.message
                    written.best_error = feedback
                    messages = [*messages, *render("skill_rejected", error=feedback, signature=signature)]
                    continue
                seeds = list(range(self.verify_seeds))
                tasks = verification_tasks(self.world, task, 0)
                results = [player.play(name, source, seed, task=tasks[index % len(tasks)],
                                       with_state=self.critic is not None) for index, seed in enumerate(seeds)]
                written.episodes += len(results)
                verification = Verification(self.world.version, task.id, seeds, sum(r.success for r in results),
                                            self.threshold)
                if verification.passed:
                    known = {s.name for s in self.library.skills()} if self.library is not None else set()
                    written.source, written.verification, written.results = source, verification, results
                    written.calls = sorted(analyse(name, source).called & known)
                    break
                critique = self._critique(task, source, results, written)
                lines = [f"success on {verification.successes} of {len(seeds)} seeds (needs "
                         f"{self.threshold:.0%}).", *failure_lines(task, results)]
                lines += [f"critique: {critique}"] if critique else []
                written.best_error = lines[-1]
                messages = [*messages, *render("skill_feedback", feedback="\n".join(lines))]
        written.seconds = time.perf_counter() - started
        return written

    def failure(self, written: Written) -> str:
        """Why no round's program was stored, for the session's journal."""
        return f"no program met the success check in {self.rounds} rounds; the last feedback: {written.best_error}"

    def _critique(self, task: Task, source: str, results: list[EpisodeResult], written: Written) -> str:
        """The critic's verdict on the first failed episode, recorded against the code check's; its critique,
        for the writer. It is asked only after a failure: a program the code check passed needs no critique."""
        if self.critic is None or not results:
            return ""
        episode = next((r for r in results if not r.success), results[0])
        verdict = self.critic.judge(task, source, [episode])
        if verdict is None:
            return ""
        written.judgements.append((verdict.success, episode.success))
        return verdict.critique.strip()


def skill_judging(task: Task, seeds: int, threshold: float) -> str:
    """What the skill writer is told about how its program is judged, before it writes anything."""
    family = task.family
    moment = "at the last step" if family.success_when == "final" else "at any step"
    return "\n".join([
        "## How the skill is judged",
        f"- It runs from a fresh reset of the world for at most {PROGRAM_STEPS:,} robot steps (each primitive uses "
        f"several); after it returns, the world runs {SETTLE_STEPS} more steps without commands (a held object "
        "must stay where it should) and the task's check is read " + moment + ".",
        f"- Task score: {family.fitness_meaning}; it shows how close a failed episode came.",
        f"- It is verified on {seeds} seeded episodes (objects start in other places each seed), spread over this "
        "task and the other values of its parameters (a skill serves them all), and stored when at least "
        f"{threshold:.0%} succeed.",
    ])


def failure_lines(task: Task, results: list[EpisodeResult], shown: int = 3) -> list[str]:
    """The failed episodes as the writer should read them: seeds with the same error told once, an episode that
    ended without success with its task score and what that score means."""
    grouped: dict[str, list[int]] = {}
    for result in results:
        if not result.success:
            what = result.error or (f"finished without success: task score {result.fitness:.3g} "
                                    f"({task.family.fitness_meaning})")
            grouped.setdefault(what, []).append(result.seed)
    lines = []
    for what, failed in list(grouped.items())[:shown]:
        which = f"seed {failed[0]}" if len(failed) == 1 else f"seeds {', '.join(map(str, failed))}"
        lines.append(f"{which}: {what}")
    return lines
