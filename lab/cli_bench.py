"""`lab bench rewards`: the reward search over a suite of tasks, scored against the human rewards, in one table.

Everything is checked (tasks, budget, settings, the model) before the run directory is made; the table is printed
as tasks finish and at the end with the count and its interval; `--resume DIR` goes on after a kill.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lab.cli_llm import llm_settings
from lab.cli_reward import SearchWatcher
from lab.cli_train import apply_settings
from lab.console import make_console
from lab.runs import Run
from lab.search.scoreboard import Scoreboard, ScoreboardConfig, TaskRow, run_scoreboard
from lab.settings import validated

console = make_console()
bench_app = typer.Typer(help="Benchmarks of what the lab learns (the reward search against human rewards).",
                        no_args_is_help=True)


@bench_app.command("rewards")
def bench_rewards_command(
    suite: Annotated[str, typer.Option(help="gymnasium (the Gymnasium adapter worlds' tasks), dmc (the DeepMind "
                                            "Control suite's) or all.")] = "gymnasium",
    tasks: Annotated[list[str] | None, typer.Option("--tasks", help="Only this task, as 'WORLD TASK' (repeat "
                                                                    "the option for more).")] = None,
    budget: Annotated[str, typer.Option(help="smoke, short (~10 tasks in a few hours on 2 cores), medium or "
                                             "full (Eureka-like).")] = "short",
    set_: Annotated[list[str] | None, typer.Option("--set", help="A search setting over the budget's, e.g. "
                                                                 "steps=300000 or max_parallel=1.")] = None,
    seed: Annotated[int, typer.Option(help="Seeds every task's search.")] = 0,
    llm: Annotated[str | None, typer.Option(help="offline (default) or a model, e.g. openai/gpt-4o")] = None,
    api_base: Annotated[str | None, typer.Option(help="Base URL of the model's server.")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default: runs/<time>-bench-...).")] = None,
    resume: Annotated[Path | None, typer.Option(help="Go on with a stopped scoreboard in this directory.")] = None,
) -> None:
    """Run the reward search on every task of a suite and score it against the human rewards."""
    if resume is not None:
        run = Run.open(resume, made_by="bench")
        config = run.read_config(ScoreboardConfig, "scoreboard")
        console.print(f"resuming {run.path} (its own settings; finished tasks are read back)")
    else:
        search: dict[str, Any] = {}
        apply_settings(search, set_ or [], example="steps=300000")
        config = validated(ScoreboardConfig, {"suite": suite, "tasks": tasks or [], "budget": budget,
                                              "search": search, "seed": seed,
                                              "llm": llm_settings(llm, api_base).model_dump()},
                           "scoreboard", hint="`lab bench rewards --help` lists the options")
        for entry in config.task_list():  # every task's settings checked before anything is written
            config.search_config(entry)
        run = Run.create("bench", f"rewards-{config.suite}-{config.budget}", out=out)
    console.print(f"run directory: {run.path}")
    entries = config.task_list()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        overall = bar.add_task("tasks", total=len(entries))

        def done(row: TaskRow) -> None:
            bar.advance(overall)
            bar.console.print(f"[bold]{row.task}[/]: {describe(row)}", highlight=False)

        board = run_scoreboard(config, run, on_row=done, progress=SearchWatcher(bar).show)
    console.print(scoreboard_table(board))
    console.print(board.summary(), highlight=False)
    console.print("(Eureka: at or above human on 83% of 29 tasks; Text2Reward: 13 of 17; different tasks, "
                  "budgets and models, so not a like-for-like comparison)")
    from lab.report.html import write_report  # start-up: loads matplotlib

    console.print(f"wrote {run.file('scoreboard.json')} and {write_report(run.path)}")


def _interval(bounds: tuple[float, float] | None) -> str:
    return f" [{bounds[0]:.4g}, {bounds[1]:.4g}]" if bounds else ""


def _value(value: float | None, bounds: tuple[float, float] | None) -> str:
    return "" if value is None else f"{value:.4g}{_interval(bounds)}"


def describe(row: TaskRow) -> str:
    if row.standing == "failed":
        return f"[red]failed[/]: {row.error}"
    return (f"best {_value(row.best, row.best_interval)}, human {_value(row.human, row.human_interval)}, "
            f"sparse {_value(row.sparse, row.sparse_interval)}: {row.standing} human ({row.seconds:.0f} s)")


def scoreboard_table(board: Scoreboard) -> Table:
    table = Table(title=f"reward search against human rewards ({board.designer} designer, {board.budget} budget; "
                        "95% intervals)")
    for column in ("task", "best", "human", "sparse", "human-normalized", "vs human", "seconds"):
        table.add_column(column, justify="left" if column in ("task", "vs human") else "right")
    for row in board.rows:
        table.add_row(row.task, _value(row.best, row.best_interval), _value(row.human, row.human_interval),
                      _value(row.sparse, row.sparse_interval),
                      _value(row.score, row.score_interval) if row.score is not None else "none",
                      row.standing if row.standing != "failed" else f"failed: {row.error[:60]}", f"{row.seconds:.0f}")
    return table
