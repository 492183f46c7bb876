"""`lab reward`: Eureka reward search for a task, with the offline designer by default or any model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.syntax import Syntax
from rich.table import Table

from lab.console import make_console
from lab.errors import LabError

console = make_console()


def _feedback(value: str | None) -> str:
    """--feedback is text, or a file holding it."""
    if value and Path(value).is_file():
        return Path(value).read_text()
    return value or ""


def reward_command(
    world: Annotated[str | None, typer.Argument(help="World name (not needed with --resume).")] = None,
    task: Annotated[str | None, typer.Argument(help="Task spec, e.g. reach or forward.")] = None,
    llm: Annotated[str | None, typer.Option(help="offline (default) or a model, e.g. openai/gpt-4o")] = None,
    api_base: Annotated[str | None, typer.Option(help="Base URL of the model's server.")] = None,
    samples: Annotated[int | None, typer.Option("--samples", "-k", help="Programs per iteration (K).")] = None,
    iterations: Annotated[int | None, typer.Option(help="Iterations (I).")] = None,
    steps: Annotated[int | None, typer.Option(help="Training steps of a full run.")] = None,
    executor: Annotated[str | None, typer.Option(help="local or ray.")] = None,
    max_parallel: Annotated[int | None, typer.Option(help="Training jobs at once (default: the cores).")] = None,
    ray_address: Annotated[str | None, typer.Option(help="A Ray cluster (default: a local Ray).")] = None,
    eval_seeds: Annotated[int | None, typer.Option(help="Held-out seeds of the final evaluation (E).")] = None,
    init: Annotated[str | None, typer.Option(help="`human`: start from the task's human reward.")] = None,
    feedback: Annotated[str | None, typer.Option(help="A person's feedback (text or a file), used instead of "
                                                      "the reflection.")] = None,
    task_text: Annotated[str | None, typer.Option(help="The task in your words, for the designer.")] = None,
    target_fitness: Annotated[float | None, typer.Option(help="Stop once a candidate reaches this fitness.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seeds the designer and every training run.")] = None,
    config: Annotated[Path | None, typer.Option(help="A YAML file of search settings (llm: section too).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Any setting, e.g. train.ppo.n_steps=64.")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default: runs/<time>-reward-...).")] = None,
    resume: Annotated[Path | None, typer.Option(help="Go on with a stopped search in this run directory.")] = None,
    promote: Annotated[bool, typer.Option(help="Copy the best program into rewards/WORLD/TASK/.")] = False,
    report: Annotated[bool, typer.Option(help="Write report.html at the end.")] = False,
) -> None:
    """Search for a reward program: propose, check and repair, train, reflect, evolve; compare with baselines."""
    from lab.llm.config import OFFLINE
    from lab.runs import Run
    from lab.search.loop import RewardSearch, SearchConfig
    from lab.search.loop import promote as promote_best
    from lab.settings import read_yaml_mapping, validated

    embedder = None
    if resume is not None:
        run = Run.open(resume, made_by="reward")
        settings = validated(SearchConfig, run.read_json("config.json")["search"], "search")
        console.print(f"resuming {run.path} (its own settings; finished candidates are not trained again)")
    else:
        if world is None or (task is None and not task_text):
            raise LabError("lab reward needs WORLD and TASK, or WORLD and --task-text (or --resume RUN_DIR)",
                           hint="e.g. lab reward reacher reach --samples 4, or lab reward ant --task-text "
                                "'walk in a circle' --llm MODEL")
        from lab.cli_llm import llm_settings
        from lab.cli_train import apply_settings

        values: dict[str, Any] = read_yaml_mapping(config) if config is not None else {}
        values.pop("llm", None)
        given = {"world": world, "task": task, "samples": samples, "iterations": iterations, "steps": steps,
                 "executor": executor, "max_parallel": max_parallel, "ray_address": ray_address,
                 "eval_seeds": eval_seeds, "init": init, "feedback": _feedback(feedback) or None,
                 "task_text": task_text, "target_fitness": target_fitness, "seed": seed}
        values.update({k: v for k, v in given.items() if v is not None})
        apply_settings(values, set_ or [], example="train.n_envs=8")
        values["llm"] = llm_settings(llm, api_base, config_file=config).model_dump()
        settings = validated(SearchConfig, values, "search", hint="`lab reward --help` lists the options")
        from lab.worlds import get_world

        label = get_world(settings.world).task(settings.task).family.name if settings.task else settings.task_text
        if settings.task_text and not settings.task and settings.llm.model_for("reward_designer") == OFFLINE:
            from lab.embedding import SentenceEmbedder
            from lab.worlds.reading import read_goal

            embedder = SentenceEmbedder()
            read_goal(get_world(settings.world), settings.task_text, embedder)
        run = Run.create("reward", f"{settings.world}-{label}", out=out)
        run.write_json("config.json", {"command": "reward", "search": settings.model_dump(mode="json")})
    console.print(f"run directory: {run.path}")

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        jobs = bar.add_task("training jobs", total=0)

        def show(kind: str, info: dict[str, Any]) -> None:
            if kind == "task" and info["written"]:
                bar.console.print("the task's success check and fitness, written by the model (task.py):")
                bar.console.print(Syntax(info["source"], "python"))
            elif kind == "task":
                bar.console.print(f"no model: the task text is read as the world's task {info['task']} "
                                  f"(similarity {info['similarity']:.2f}); give --llm MODEL to have its success "
                                  "check written instead", highlight=False)
            elif kind == "iteration":
                bar.console.rule(f"iteration {info['iteration']}  parents: {', '.join(info['parents']) or 'none'}")
            elif kind == "candidate":
                state = "[green]ok[/]" if info["valid"] else f"[red]rejected[/] after {len(info['errors'])} tries"
                bar.console.print(f"  {info['id']}: {state}  {info['note']}", highlight=False)
            elif kind == "rejected":
                first = info["error"].splitlines()[0] if info["error"] else ""
                bar.console.print(f"  {info['id']}: check failed ({first[:100]}), back to the designer",
                                  highlight=False)
            elif kind == "training":
                total = bar.tasks[0].total or 0
                bar.update(jobs, total=total + len(info["jobs"]),
                           description=f"training {info['stage']} ({info['steps']:,} steps)")
            elif kind in ("trained", "baseline"):
                bar.advance(jobs)
                name = info.get("id", info.get("name"))
                stage = info.get("stage", "baseline")
                if not info["ok"]:
                    bar.console.print(f"  {name} {stage}: [red]failed[/] {info['error'].splitlines()[0][:120]}")
                else:
                    score = info.get("score", info.get("fitness"))
                    flag = "  [yellow]reward hacking?[/]" if info.get("hacking") else ""
                    bar.console.print(f"  {name} {stage}: fitness {score:.4g}{flag}")
            elif kind == "iteration_done":
                bar.console.print(f"  best so far: {info['best']} ({info['best_score']:.4g}); "
                                  f"{info['seconds']:.0f} s, LLM ${info['llm_cost_usd']:.4f}"
                                  if info["best"] else "  no candidate trained yet")

        summary = RewardSearch(settings, run, progress=show, embedder=embedder).run()

    final = summary["final_evaluation"]
    table = Table(title=f"held-out evaluation over {final['episodes']} seeds")
    for column in ("reward", "fitness mean", "fitness std", "success rate"):
        table.add_column(column, justify="right")
    table.add_row(f"best ({summary['best']})", f"{final['fitness_mean']:.4g}", f"{final['fitness_std']:.3g}",
                  f"{final['success_rate']:.0%}")
    for name, evaluation in summary["baselines"].items():
        table.add_row(name, f"{evaluation['fitness_mean']:.4g}", f"{evaluation['fitness_std']:.3g}",
                      f"{evaluation['success_rate']:.0%}")
    console.print(table)
    score = summary["human_normalized_score"]
    console.print("human-normalized score (best - sparse) / |human - sparse|: "
                  + (f"{score:.3f}" if score is not None else "n/a (needs both baselines)"))
    if summary["correlation_with_human"] is not None:
        console.print(f"correlation of the best reward with the human reward: {summary['correlation_with_human']:.3f}")
    console.print(f"lineage of the best: {' <- '.join(summary['lineage'])}; best program: {run.file('best.py')}")
    if summary["reward_hacking"]:
        console.print("[yellow]the best candidate's reward climbed while its task fitness did not: check it[/]")
    if promote:
        from lab.worlds import get_world

        family = get_world(settings.world).task(settings.task).family.name if settings.task else "custom"
        console.print(f"promoted to {promote_best(run, summary, settings.world, family)}")
    if report:
        from lab.report.html import write_report

        console.print(f"wrote {write_report(run.path)}")
