"""`lab prompts`: the prompt templates, and the exact first prompt a language-model role gets for a world and task,
so a user can review what each role is told (and improve the templates in lab/llm/prompts/)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lab.console import make_console
from lab.errors import LabError

console = make_console()
prompts_app = typer.Typer(help="The prompts the language-model roles get: list the templates, show a role's prompt.")
SHOWN_ROLES = ("reward_designer", "task_program", "skill_writer", "curriculum", "planner")


@prompts_app.command("list")
def list_command() -> None:
    """Every prompt template, with what it is for and its inputs."""
    from lab.llm.prompting import load_template, prompt_names

    table = Table(title="prompt templates (lab/llm/prompts/)")
    for column in ("template", "inputs", "what it is for"):
        table.add_column(column, overflow="fold")
    for name in prompt_names():
        template = load_template(name)
        table.add_row(name, ", ".join(template.inputs), template.description)
    console.print(table)


@prompts_app.command("show")
def show_command(
    role: Annotated[str, typer.Argument(metavar="ROLE", help=f"One of: {', '.join(SHOWN_ROLES)}.")],
    world: Annotated[str, typer.Option(help="World name.")] = "playground",
    task: Annotated[str | None, typer.Option(help="Task spec (default: the world's first task).")] = None,
    text: Annotated[str, typer.Option(help="The words of a task or goal (task_program, planner).")] = "",
) -> None:
    """Print the first prompt ROLE gets for WORLD and TASK, exactly as it is sent (a search's or session's
    defaults for the budgets it states)."""
    from lab.curriculum.llm_curriculum import known_tasks_text
    from lab.curriculum.llm_writer import skill_judging
    from lab.llm.prompting import render
    from lab.search.config import SearchConfig
    from lab.search.designer import how_judged
    from lab.worlds import get_world
    from lab.worlds.description import describe

    if role not in SHOWN_ROLES:
        raise LabError(f"unknown role {role!r} for `lab prompts show`",
                       hint=f"roles: {', '.join(SHOWN_ROLES)}; `lab prompts list` lists every template")
    chosen = get_world(world)
    bound = chosen.task(task)
    if role == "reward_designer":
        messages = render("reward_initial", world_description=describe(chosen, bound, "reward"),
                          how_judged=how_judged(SearchConfig(world=world, task=bound.id), bound))
    elif role == "task_program":
        messages = render("task_program", world_description=describe(chosen, None, "reward"),
                          task_text=text or bound.description)
    elif role == "skill_writer":
        parameters = ", ".join(["robot", *(p.name for p in bound.family.params)])
        messages = render("skill_writer", world_description=describe(chosen, bound, "skill"),
                          task_text=bound.description, skill_name=bound.family.name,
                          signature=f"def {bound.family.name}({parameters})", skills="(none yet)",
                          how_judged=skill_judging(bound, 10, 0.8))
    elif role == "curriculum":
        messages = render("curriculum", world_description=describe(chosen, None, "curriculum"),
                          known_tasks=known_tasks_text(chosen), completed="none yet", failed="none",
                          skills="none yet")
    else:
        messages = render("planner", world_description=describe(chosen, None, "curriculum"),
                          known_tasks=known_tasks_text(chosen), skills="(none)", goal=text or bound.description)
    for message in messages:
        console.rule(message["role"])
        console.print(message["content"], markup=False, highlight=False, soft_wrap=True)
