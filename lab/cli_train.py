"""`lab train`, `lab eval` and `lab report`: train a policy on a reward program, re-evaluate it, and look at it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lab.cli_options import settings_options
from lab.console import make_console
from lab.errors import LabError
from lab.runs import CONFIG, Run
from lab.sandbox import check_program
from lab.settings import read_yaml_mapping, validated
from lab.training.config import TrainConfig

console = make_console()


def _set_path(values: dict[str, Any], dotted: str, raw: str) -> None:
    keys = dotted.split(".")
    target = values
    for key in keys[:-1]:
        target = target.setdefault(key, {})
        if not isinstance(target, dict):
            raise LabError(f"--set {dotted}: {key} is not a group of settings")
    try:
        target[keys[-1]] = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        problem = str(getattr(error, "problem", None) or "not valid YAML")
        raise LabError(f"--set {dotted}={raw}: the value is not valid YAML ({problem})",
                       hint="quote it, e.g. --set 'ppo.net_arch=[64, 64]'") from None


def apply_settings(values: dict[str, Any], settings: list[str], example: str) -> None:
    """Set `--set key.sub=value` pairs (values read as YAML) into `values`."""
    for setting in settings:
        if "=" not in setting:
            raise LabError(f"--set {setting!r} needs the form key=value", hint=f"e.g. --set {example}")
        key, raw = setting.split("=", 1)
        _set_path(values, key.strip(), raw.strip())


def build_config(overrides: dict[str, Any], config_file: Path | None, settings: list[str]) -> TrainConfig:
    """The training config from a YAML file, then the command line's options, then `--set key=value` pairs."""
    values: dict[str, Any] = read_yaml_mapping(config_file) if config_file is not None else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    apply_settings(values, settings, example="ppo.n_steps=64")
    return validated(TrainConfig, values, "training",
                     hint="`lab train --help` lists the options; --set takes the fields of TrainConfig")


def _summary_table(title: str, summary: dict[str, Any]) -> Table:
    table = Table(title=title)
    for key in summary:
        table.add_column(key.replace("_", " "), justify="right")
    table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in summary.values()))
    return table


def _check_before_a_run_exists(settings: Any) -> None:
    """The world, the task and the reward program's rules, checked before a run directory is made (its dry run,
    which needs a sandbox, comes with training)."""
    from lab.rewards.program import REWARD_RULES, resolve_reward  # start-up: loads MuJoCo
    from lab.rewards.task_program import make_task  # start-up: loads MuJoCo
    from lab.worlds import get_world  # start-up: loads MuJoCo

    world = get_world(settings.world)
    judged = make_task(world, settings.task, settings.task_program)
    try:
        check_program(resolve_reward(settings.reward, judged.task).source, REWARD_RULES)
    finally:
        judged.close()


@settings_options(TrainConfig, leave_out=("world", "task"))
def train_command(
    world: Annotated[str, typer.Argument(metavar="WORLD", help="World name (see `lab worlds`).")],
    task: Annotated[str, typer.Argument(metavar="TASK", help="Task spec, e.g. forward or 'reach(cube_red)'.")],
    out: Annotated[Path | None, typer.Option(help="Run directory (default: a new one under runs/).")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML file of training settings.")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Any setting, e.g. ppo.n_steps=64.")] = None,
    video: Annotated[bool, typer.Option(help="Render the first evaluation episode to video.mp4.")] = False,
    report: Annotated[bool, typer.Option(help="Write report.html into the run directory at the end.")] = False,
    given: dict[str, Any] | None = None,
) -> None:
    """Train a policy on a reward program and write a run directory (curves, policy, TensorBoard, evaluation)."""
    settings = build_config({**(given or {}), "world": world, "task": task}, config, set_ or [])
    _check_before_a_run_exists(settings)  # before torch is loaded: a mistake is told in a second, not four
    from lab.training import train  # start-up: loads torch and stable-baselines3
    from lab.training.evaluation import render_policy  # start-up: loads torch
    from lab.training.trainer import load_policy, run_task  # start-up: loads torch

    run = Run.create("train", f"{settings.world}-{task}-{Path(settings.reward).stem}", out=out)
    console.print(f"run directory: [bold]{run.path}[/]")
    if settings.algo == "ppo":
        ppo = settings.ppo
        console.print(f"PPO preset {settings.preset}: {settings.envs} copies x {ppo.n_steps} steps, minibatches of "
                      f"{ppo.batch_size}, {ppo.n_epochs} epochs (`--set preset=plain` for the defaults)")
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[fitness]}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task(f"{settings.algo} {settings.world}/{task}", total=settings.steps, rate="",
                                fitness="")
        started = time.perf_counter()

        def on_progress(step: int, point: dict[str, Any] | None) -> None:
            rate = step / max(time.perf_counter() - started, 1e-9)
            fitness = f"fitness {point['fitness']:.3g}  success {point['success_rate']:.0%}" if (
                point and "fitness" in point) else ""
            progress.update(bar, completed=min(step, settings.steps), rate=f"{rate:,.0f} steps/s", fitness=fitness)

        result = train(settings, run, progress=on_progress)
    if result.stopped_early:
        console.print(f"stopped early at step {result.steps:,}: target fitness {settings.target_fitness} reached")
    console.print(f"trained {result.steps:,} steps in {result.seconds:.1f} s ({result.steps_per_second:,.0f} steps/s, "
                  f"{result.device})")
    console.print(_summary_table(f"evaluation over {settings.eval_episodes} seeds", result.evaluation.summary()))
    if video:
        world_, task_, _ = run_task(run)
        frames = render_policy(load_policy(run), world_, task_, settings.eval_seed, run.file("video.mp4"))
        console.print(f"wrote {run.file('video.mp4')} ({frames} frames)")
    if report:
        from lab.report.html import write_report  # start-up: loads matplotlib

        console.print(f"wrote {write_report(run.path)}")
    else:
        console.print(f"next: `lab report {run.path}` or `lab eval {run.path} --video rollout.mp4`")


def eval_command(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A directory written by `lab train`.")],
    episodes: Annotated[int, typer.Option(help="Episodes, one per seed, from the run's eval seed.")] = 10,
    seeds: Annotated[str | None, typer.Option(help="Comma-separated seeds (instead of --episodes).")] = None,
    video: Annotated[Path | None, typer.Option(help="Render the first seed's episode to this .mp4/.gif.")] = None,
    stochastic: Annotated[bool, typer.Option(help="Sample actions instead of taking the mean.")] = False,
) -> None:
    """Re-evaluate a trained policy over seeds (fitness, success, reward components); optionally render a video."""
    run = Run.open(run_dir, made_by="train")
    from lab.training.evaluation import render_policy  # start-up: loads torch
    from lab.training.trainer import evaluate_run, load_policy, run_task  # start-up: loads torch

    config = run.read_json(CONFIG)
    if seeds:
        try:
            chosen = [int(s) for s in seeds.split(",") if s.strip()]
        except ValueError:
            raise LabError(f"--seeds {seeds!r} must be comma-separated integers, e.g. 1,2,3") from None
    else:
        chosen = [int(config.get("eval_seed", 10_000)) + i for i in range(episodes)]
    if not chosen:
        raise LabError("no seeds to evaluate")
    world, task, program = run_task(run)
    policy = load_policy(run)
    record = f"eval-{time.strftime('%Y%m%d-%H%M%S')}.json"
    with console.status(f"evaluating {len(chosen)} episode(s)"):
        evaluation = evaluate_run(run, policy, world, task, program, chosen, record=record,
                                  deterministic=not stochastic)
    console.print(_summary_table(f"{run.path.name}: {task.id}", evaluation.summary()))
    per_episode = Table(title="episodes")
    for column in ("seed", "fitness", "success", "length", "reward"):
        per_episode.add_column(column, justify="right")
    for episode in evaluation.episodes:
        per_episode.add_row(str(episode["seed"]), f"{episode['fitness']:.4g}", "yes" if episode["success"] else "no",
                            str(episode["length"]), f"{episode['reward']:.4g}")
    console.print(per_episode)
    console.print(f"wrote {run.file(record)}")
    if video is not None:
        with console.status("rendering"):
            frames = render_policy(policy, world, task, chosen[0], video, deterministic=not stochastic)
        console.print(f"wrote {video} ({frames} frames, seed {chosen[0]})")


def report_command(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run directory.")],
) -> None:
    """Write report.html into a run directory: learning curves, reward components, program, evaluation."""
    from lab.report.html import write_report  # start-up: loads matplotlib

    with console.status("writing the report"):
        path = write_report(run_dir)
    console.print(f"wrote {path}")
