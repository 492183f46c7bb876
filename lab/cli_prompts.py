"""`lab prompts`: the prompt templates, and the exact first prompt a language-model role gets for a world and task,
so a user can review what each role is told (and improve the templates in lab/llm/prompts/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lab.console import make_console
from lab.errors import LabError
from lab.llm.prompting import load_template, prompt_names, render
from lab.search.config import SearchConfig

console = make_console()
prompts_app = typer.Typer(help="The prompts the language-model roles get: list the templates, show a role's prompt.")
SHOWN_ROLES = ("reward_designer", "task_program", "skill_writer", "curriculum", "planner")


@prompts_app.command("list")
def list_command() -> None:
    """Every prompt template, with what it is for and its inputs."""
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
    run: Annotated[Path | None, typer.Option(help="Show what ROLE was sent in this run instead (its first call, "
                                                  "from the run's llm_ledger.jsonl).")] = None,
) -> None:
    """Print the first prompt ROLE gets for WORLD and TASK, exactly as it is sent (a search's or session's
    defaults for the budgets it states); with --run, the first one it got in that run."""
    from lab.curriculum.llm_curriculum import known_tasks_text  # start-up: loads MuJoCo
    from lab.curriculum.llm_writer import skill_judging  # start-up: loads MuJoCo
    from lab.search.designer import how_judged  # start-up: loads MuJoCo
    from lab.worlds import get_world  # start-up: loads MuJoCo
    from lab.worlds.description import describe  # start-up: loads MuJoCo

    if run is not None:
        print_messages(sent_in(run, role))
        return
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
    print_messages(messages)


def sent_in(run: Path, role: str) -> list[dict[str, str]]:
    """The messages of the first call a role made in a run, from its ledger."""
    ledger = run / "llm_ledger.jsonl"
    if not ledger.is_file():
        raise LabError(f"{run} has no llm_ledger.jsonl: no model was called in it",
                       hint="give a run made with --llm MODEL (offline roles call no model)")
    calls = [json.loads(line) for line in ledger.read_text().splitlines() if line.strip()]
    for call in calls:
        if call.get("role") == role and call.get("messages"):
            return list(call["messages"])
    roles = sorted({str(call.get("role")) for call in calls if call.get("messages")})
    raise LabError(f"no call of the {role} role with its messages in {ledger}",
                   hint=f"roles with messages there: {', '.join(roles) or 'none (a run from before they were kept)'}")


def print_messages(messages: list[dict[str, str]]) -> None:
    for message in messages:
        console.rule(message["role"])
        console.print(message["content"], markup=False, highlight=False, soft_wrap=True)
