"""`lab reward`: Eureka reward search for a task, with the offline designer by default or any model.

The options, their help and their defaults come from `SearchConfig`; this module only reads them, makes the run,
shows the search's records as they come, and prints its result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.syntax import Syntax
from rich.table import Table

from lab.cli_llm import llm_settings
from lab.cli_options import settings_options
from lab.cli_train import apply_settings
from lab.console import make_console
from lab.embedding import SentenceEmbedder
from lab.errors import LabError
from lab.llm.config import OFFLINE
from lab.runs import Record, Run
from lab.search.config import SearchConfig
from lab.search.records import (
    BaselineTrained,
    CandidateProposed,
    CandidateTrained,
    IterationDone,
    IterationStarted,
    JobsStarted,
    KeptWithinNoise,
    ProgramRejected,
    SearchResult,
    TaskRead,
)
from lab.settings import read_yaml_mapping, validated

console = make_console()


def _feedback(value: str | None) -> str:
    """--feedback is text, or a file holding it."""
    if value and Path(value).is_file():
        return Path(value).read_text()
    return value or ""


@settings_options(SearchConfig, leave_out=("world", "task"), short={"samples": "-k"},
                  help_extra={"feedback": "; text or a file holding it"})
def reward_command(
    world: Annotated[str | None, typer.Argument(help="World name (not needed with --resume).")] = None,
    task: Annotated[str | None, typer.Argument(help="Task spec, e.g. reach or forward.")] = None,
    llm: Annotated[str | None, typer.Option(help="offline (default) or a model, e.g. openai/gpt-4o")] = None,
    api_base: Annotated[str | None, typer.Option(help="Base URL of the model's server.")] = None,
    config: Annotated[Path | None, typer.Option(help="A YAML file of search settings (llm: section too).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Any setting, e.g. train.ppo.n_steps=64.")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default: runs/<time>-reward-...).")] = None,
    resume: Annotated[Path | None, typer.Option(help="Go on with a stopped search in this run directory.")] = None,
    report: Annotated[bool, typer.Option(help="Write report.html at the end.")] = False,
    video: Annotated[bool, typer.Option(help="Render a held-out episode of the best and of each baseline to "
                                             "videos/NAME.mp4 (shown in the report).")] = False,
    given: dict[str, Any] | None = None,
) -> None:
    """Search for a reward program: propose, check and repair, train, reflect, evolve; compare with baselines."""
    embedder = None
    if resume is not None:
        run = Run.open(resume, made_by="reward")
        settings = run.read_config(SearchConfig, "search")
        console.print(f"resuming {run.path} (its own settings; finished candidates are not trained again)")
    else:
        values = {**(given or {}), "world": world, "task": task}
        values["feedback"] = _feedback(values.get("feedback")) or None
        settings = search_settings(values, config, set_ or [], llm, api_base)
        embedder = checked_goal(settings)
        run = Run.create("reward", f"{settings.world}-{task_label(settings)}", out=out)
    console.print(f"run directory: {run.path}")
    # Loaded once the settings are checked and the run exists: a mistake is told in a second, not four.
    from lab.search.loop import RewardSearch  # start-up: the search loads training (torch)

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        watcher = SearchWatcher(bar)
        search = RewardSearch(settings, progress=watcher.show, embedder=embedder)
        result = search.run(run)
    print_result(result, run)
    if video:
        for path in search.render_videos(result):
            console.print(f"wrote {path}")
    if report:
        from lab.report.html import write_report  # start-up: loads matplotlib

        console.print(f"wrote {write_report(run.path)}")


def search_settings(given: dict[str, Any], config: Path | None, settings: list[str], llm: str | None,
                    api_base: str | None) -> SearchConfig:
    """The search's settings: a YAML file, then the options given, then `--set key=value` pairs, then the models."""
    if given["world"] is None or (given["task"] is None and not given.get("task_text")):
        raise LabError("lab reward needs WORLD and TASK, or WORLD and --task-text (or --resume RUN_DIR)",
                       hint="e.g. lab reward reacher reach --samples 4, or lab reward ant --task-text "
                            "'walk in a circle' --llm MODEL")
    values: dict[str, Any] = read_yaml_mapping(config) if config is not None else {}
    values.pop("llm", None)
    values.update({k: v for k, v in given.items() if v is not None})
    apply_settings(values, settings, example="train.n_envs=8")
    values["llm"] = llm_settings(llm, api_base, config_file=config).model_dump()
    return validated(SearchConfig, values, "search", hint="`lab reward --help` lists the options")


def task_label(settings: SearchConfig) -> str:
    """The run's name part for its task: the world's task family (checked here), or the words."""
    from lab.worlds import get_world  # start-up: loads MuJoCo

    return get_world(settings.world).task(settings.task).family.name if settings.task else settings.task_text


def checked_goal(settings: SearchConfig) -> Any:
    """For a task in words read without a model: read it now (refused before any run directory is made), and
    return the loaded embedder for the search to reuse."""
    if not settings.task_text or settings.task or settings.llm.model_for("reward_designer") != OFFLINE:
        return None
    from lab.worlds import get_world  # start-up: loads MuJoCo
    from lab.worlds.reading import read_goal  # start-up: loads MuJoCo

    embedder = SentenceEmbedder()
    read_goal(get_world(settings.world), settings.task_text, embedder)
    return embedder


class SearchWatcher:
    """Shows a search's records as they come: one line per event, a bar over the training jobs."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.jobs = bar.add_task("training jobs", total=0)

    def show(self, record: Record) -> None:
        say = self.bar.console.print
        if isinstance(record, TaskRead) and record.written:
            say("the task's success check and fitness, written by the model (task.py):")
            say(Syntax(record.source, "python"))
        elif isinstance(record, TaskRead):
            say(f"no model: the task text is read as the world's task {record.task} (similarity "
                f"{record.similarity or 0:.2f}); give --llm MODEL to have its success check written instead",
                highlight=False)
        elif isinstance(record, IterationStarted):
            self.bar.console.rule(f"iteration {record.iteration}  parents: {', '.join(record.parents) or 'none'}")
        elif isinstance(record, CandidateProposed):
            state = "[green]ok[/]" if record.valid else f"[red]rejected[/] after {len(record.errors)} tries"
            say(f"  {record.id}: {state}  {record.note}", highlight=False)
        elif isinstance(record, ProgramRejected):
            first = record.error.splitlines()[0] if record.error else ""
            say(f"  {record.id}: check failed ({first[:100]}), back to the designer", highlight=False)
        elif isinstance(record, KeptWithinNoise):
            say(f"  the short stage could not tell {', '.join(record.ids)} from its survivors (fitness intervals "
                f"overlap {record.cutoff:.4g}): they train on the full budget too", highlight=False)
        elif isinstance(record, JobsStarted):
            total = next(t.total for t in self.bar.tasks if t.id == self.jobs) or 0
            self.bar.update(self.jobs, total=total + len(record.jobs),
                            description=f"training {record.stage} ({record.steps:,} steps)")
        elif isinstance(record, CandidateTrained | BaselineTrained):
            self.bar.advance(self.jobs)
            name, stage = (record.id, record.stage) if isinstance(record, CandidateTrained) else (record.name,
                                                                                                  "baseline")
            if not record.result.ok:
                say(f"  {name} {stage}: [red]failed[/] {record.result.error.splitlines()[0][:120]}")
            else:
                flag = "  [yellow]reward hacking?[/]" if isinstance(record, CandidateTrained) and record.hacking else ""
                say(f"  {name} {stage}: fitness {record.result.evaluation.get('fitness_mean', float('nan')):.4g}{flag}")
        elif isinstance(record, IterationDone):
            say(f"  best so far: {record.best} ({record.best_score:.4g}); {record.seconds:.0f} s, LLM "
                f"${record.llm_cost_usd:.4f}" if record.best and record.best_score is not None
                else "  no candidate trained yet")


def print_result(result: SearchResult, run: Run) -> None:
    final = result.final_evaluation
    seeds = f" x {result.seeds} training seeds" if result.seeds > 1 else ""
    table = Table(title=f"held-out evaluation over {final.episodes // max(result.seeds, 1)} seeds{seeds}")
    for column in ("reward", "fitness mean", "95% interval", "fitness std", "success rate"):
        table.add_column(column, justify="right")

    def interval(name: str) -> str:
        bounds = result.fitness_intervals.get(name)
        return f"{bounds[0]:.4g} to {bounds[1]:.4g}" if bounds else ""

    table.add_row(f"best ({result.best})", f"{final.fitness_mean:.4g}", interval("best"), f"{final.fitness_std:.3g}",
                  f"{final.success_rate:.0%}")
    sampled = result.sampled_evaluation
    if sampled is not None:
        table.add_row("best, actions sampled", f"{sampled.fitness_mean:.4g}", interval("best (sampled)"),
                      f"{sampled.fitness_std:.3g}", f"{sampled.success_rate:.0%}")
    for name, evaluation in result.baselines.items():
        table.add_row(name, f"{evaluation.fitness_mean:.4g}", interval(name), f"{evaluation.fitness_std:.3g}",
                      f"{evaluation.success_rate:.0%}")
    console.print(table)
    score, bounds = result.human_normalized_score, result.human_normalized_interval
    console.print("human-normalized score (best - sparse) / |human - sparse|: "
                  + (f"{score:.3f}" + (f" (95% interval {bounds[0]:.3f} to {bounds[1]:.3f})" if bounds else "")
                     if score is not None else "none (see below)"))
    for line in result.verdict:
        console.print(f"  {line}")
    if result.verdict:
        console.print("  (intervals: bootstrap over " + (f"{result.seeds} training seeds and their held-out episodes)"
                                                         if result.seeds > 1
                                                         else "the held-out episodes of one training seed each)"))
    if result.correlation_with_human is not None:
        console.print(f"correlation of the best reward with the human reward: {result.correlation_with_human:.3f}")
    console.print(f"lineage of the best: {' <- '.join(result.lineage)}; best program: {run.file('best.py')}")
    for reason in result.hacking_reasons:
        console.print(f"[yellow]the best candidate looks like reward hacking: {reason}; check it[/]")
    if result.audit:
        console.rule("what this search changed")
        for line in result.audit:
            console.print(line, highlight=False)
