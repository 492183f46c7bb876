"""A task given in words gets its success check and fitness written by a model: asked, checked, dry-run and
repaired, in a conversation of its own (the reward writer never sees it)."""

from __future__ import annotations

from lab.errors import LabError, ProgramError
from lab.llm.client import LLM
from lab.llm.extract import ExtractionError, extract_code
from lab.llm.prompting import render
from lab.rewards.task_program import dry_run_task
from lab.worlds.core import World
from lab.worlds.description import describe


def write_task_program(llm: LLM, world: World, text: str, repairs: int = 2,
                       role: str = "reward_designer") -> tuple[str, list[str]]:
    """Ask the model for the task's success check and fitness, sending failures back `repairs` times; returns the
    source and the errors met on the way."""
    messages = render("task_program", world_description=describe(world, None, "reward"), task_text=text)
    errors: list[str] = []
    for attempt in range(repairs + 1):
        reply = llm.complete(messages, n=1, role=role).texts[0]
        messages = [*messages, {"role": "assistant", "content": reply}]
        try:
            source = extract_code(reply, "compute_success")
            dry_run_task(world, text, source)
            return source, errors
        except (ExtractionError, ProgramError) as error:
            problem = error.feedback() if isinstance(error, ProgramError) else error.message
            errors.append(problem)
            if attempt < repairs:
                messages = [*messages, *render("program_repair", error=problem,
                                               signature="compute_success(state) and compute_fitness(state)")]
    raise LabError(f"the model did not write a usable task program in {repairs + 1} tries; last error: "
                   f"{errors[-1]}", hint="reword --task-text, or name one of the world's tasks")
