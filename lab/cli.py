"""The `lab` command. Every subcommand has --help; a user mistake is one line plus a hint, and exit code 2."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lab.cli_prompts import prompts_app
from lab.console import make_console
from lab.errors import LabError
from lab.offline import stay_offline
from lab.sandbox.lockdown import UNSAFE_VARIABLE
from lab.video import write_video

console = make_console()
errors = make_console(stderr=True, soft_wrap=True)  # an error is one line, however narrow the terminal

app = typer.Typer(
    name="lab",
    help="The embodied learning lab: worlds, reward search, skills and curricula on MuJoCo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
worlds_app = typer.Typer(help="List, inspect, check and demo the simulated worlds.", invoke_without_command=True)


@app.callback()
def lab_main(
    unsafe_no_seccomp: bool = typer.Option(
        False, "--unsafe-no-seccomp",
        help="Run generated programs even where the kernel cannot lock them down (no seccomp): UNSAFE, a program "
             "that gets past the checker is then not stopped."),
) -> None:
    """The embodied learning lab: worlds, reward search, skills and curricula on MuJoCo."""
    if unsafe_no_seccomp:
        os.environ[UNSAFE_VARIABLE] = "1"  # this process and the workers it asks for; never persisted
app.add_typer(worlds_app, name="worlds")


@worlds_app.callback()
def worlds_main(ctx: typer.Context) -> None:
    """List, inspect, check and demo the simulated worlds (no subcommand: list them)."""
    if ctx.invoked_subcommand is None:
        list_worlds()


@worlds_app.command("list")
def list_worlds() -> None:
    """List every world with its tasks."""
    from lab.worlds import get_world, world_names  # start-up: loads MuJoCo

    table = Table(title="Worlds", show_lines=False)
    table.add_column("world", style="bold cyan")
    table.add_column("kind")
    table.add_column("tasks")
    table.add_column("summary", overflow="fold")
    for name in world_names():
        world = get_world(name)
        tasks = ", ".join(
            f"{f.name}*" if f.builtin_reward else f.name for f in world.task_families.values()
        )
        table.add_row(name, world.kind, tasks, world.summary)
    console.print(table)
    console.print("* the env's own reward is the human baseline for this task. "
                  "`lab worlds show WORLD` for state fields and task parameters.")


@worlds_app.command("show")
def show_world(
    world_name: Annotated[str, typer.Argument(metavar="WORLD", help="World name (see `lab worlds`).")],
    task: Annotated[str | None, typer.Option(help="Task to describe, e.g. 'place(cube_red, zone_blue)'.")] = None,
    role: Annotated[str, typer.Option(help="Whose prompt text to print: reward or skill.")] = "",
) -> None:
    """Print a world's state fields, its task families with parameters, and the text a writer is given."""
    from lab.worlds import get_world  # start-up: loads MuJoCo
    from lab.worlds.description import Role, describe  # start-up: loads MuJoCo

    world = get_world(world_name)
    if role not in ("", "reward", "skill"):
        raise LabError(f"unknown role {role!r}", hint="use --role reward or --role skill")
    chosen_role: Role = "skill" if role == "skill" or (not role and world.robot_api_doc()) else "reward"
    bound = world.task(task) if task else None
    console.rule(f"[bold]{world.name}[/] {world.version}")
    console.print(world.summary)
    fields = Table(title="State fields (batched: leading axis n = number of envs)")
    for column in ("name", "shape", "unit", "meaning"):
        fields.add_column(column, overflow="fold")
    for field in world.state_fields:
        fields.add_row(field.name, str(field.shape), field.unit, field.meaning)
    console.print(fields)
    families = Table(title="Task families")
    for column in ("task", "goal", "parameters", "horizon", "success / fitness", "builds on"):
        families.add_column(column, overflow="fold")
    for family in world.task_families.values():
        params = "\n".join(p.describe() for p in family.params) or "-"
        scoring = f"success at {family.success_when} step; fitness {family.fitness_over}: {family.fitness_meaning}"
        families.add_row(family.name + ("*" if family.builtin_reward else ""), family.description, params,
                         str(family.horizon), scoring, ", ".join(family.prerequisites) or "-")
    console.print(families)
    console.rule(f"Text given to a {chosen_role} writer" + (f" for {bound.id}" if bound else ""))
    console.print(describe(world, bound, role=chosen_role), markup=False, highlight=False)


@worlds_app.command("add")
def add_world_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Name of the new world (lower_snake_case).")],
    mjcf: Annotated[Path, typer.Option("--mjcf", help="The robot's MJCF file.")],
    forward_axis: Annotated[str, typer.Option(help="The root body's axis that points forward: x, -x, y or -y.")] = "x",
    root: Annotated[str | None, typer.Option(help="The root body (default: the first with a free joint).")] = None,
    envs: Annotated[Path, typer.Option(help="Where world folders live (found from ./envs or $LAB_ENVS_PATH).")] = (
        Path("envs")
    ),
) -> None:
    """Make a world from a robot's MJCF file: ENVS/NAME holds the model and a world.py, and works at once."""
    from lab.worlds import get_world, world_dirs, world_names  # start-up: loads MuJoCo
    from lab.worlds.mjcf import add_world  # start-up: loads MuJoCo

    if name in world_names():
        raise LabError(f"there is already a world called {name!r}", hint="choose another name")
    folder = add_world(name, mjcf, envs, forward_axis, root)
    found = envs.resolve() in [d.resolve() for d in world_dirs()]
    world = get_world(name) if found else None
    console.print(f"wrote {folder}: the robot in {folder / 'model'} and world.py")
    if world is not None:
        console.print(f"world {name}: {len(world.state_fields)} state fields; tasks "
                      f"{', '.join(world.task_families)}; `lab worlds show {name}`, `lab worlds check {name}`")
    else:
        console.print(f"add {envs} to LAB_ENVS_PATH (or run from the folder that holds it) to use world {name}")


@worlds_app.command("check")
def check_worlds(
    world_name: Annotated[str | None, typer.Argument(metavar="[WORLD]", help="World to check.")] = None,
    all_worlds: Annotated[bool, typer.Option("--all", help="Check every world.")] = False,
    task: Annotated[str | None, typer.Option(help="Check only this task of WORLD.")] = None,
) -> None:
    """Run Gymnasium's check_env, same-seed-same-rollout, the state and task functions, and reference solutions.

    Exits 1 when any check fails.
    """
    from lab.worlds import get_world, world_names  # start-up: loads MuJoCo
    from lab.worlds.checks import CheckResult, check_world  # start-up: loads MuJoCo

    if all_worlds == (world_name is not None):
        raise LabError("name one world or pass --all", hint="e.g. `lab worlds check playground`")
    if task and all_worlds:
        raise LabError("--task goes with one WORLD, not with --all")
    names = world_names() if all_worlds else [str(world_name)]
    worlds = [get_world(name) for name in names]
    jobs = sum(len(w.task_families) if not task else 1 for w in worlds) * 4
    failed = 0
    table = Table(title="World checks")
    for column in ("world", "task", "check", "result", "detail"):
        table.add_column(column, overflow="fold")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        bar = progress.add_task("checking", total=jobs)
        for world in worlds:
            tasks = [world.task(task)] if task else None

            def on_result(result: CheckResult, world_name: str = world.name) -> None:
                nonlocal failed
                failed += not result.passed
                mark = "[green]pass[/]" if result.passed else "[red]FAIL[/]"
                table.add_row(world_name, result.task, result.check, mark, result.detail)
                progress.update(bar, advance=1, description=f"{world_name}: {result.task}")

            check_world(world, tasks, on_result=on_result)
    console.print(table)
    if failed:
        errors.print(f"[red]{failed} check(s) failed[/]")
        raise typer.Exit(1)
    console.print(f"[green]all {table.row_count} checks passed[/]")


@worlds_app.command("demo")
def demo_world(
    world_name: Annotated[str, typer.Argument(metavar="[WORLD]", help="World with reference solutions.")] = (
        "playground"
    ),
    task: Annotated[list[str] | None, typer.Option(help="Task(s) to run; default: every family.")] = None,
    seed: Annotated[int, typer.Option(help="Layout seed.")] = 0,
    video: Annotated[Path | None, typer.Option(help="Write a rollout video here (.mp4).")] = None,
) -> None:
    """Run the world's scripted reference solutions through its robot API and report success."""
    from lab.worlds import get_world  # start-up: loads MuJoCo
    from lab.worlds.checks import run_program  # start-up: loads MuJoCo
    from lab.worlds.rollout import render_program  # start-up: loads MuJoCo

    world = get_world(world_name)
    solutions = world.reference_solutions()
    if not solutions:
        raise LabError(f"world {world.name!r} ships no reference solutions", hint="try `lab worlds demo playground`")
    tasks = [world.task(t) for t in task] if task else [world.task(n) for n in world.task_families if n in solutions]
    table = Table(title=f"{world.name}: reference solutions, seed {seed}")
    for column in ("task", "success", "note"):
        table.add_column(column, overflow="fold")
    frames: list = []
    for bound in tasks:
        if bound.family.name not in solutions:
            raise LabError(f"no reference solution for {bound.name!r}", hint=f"known: {', '.join(solutions)}")
        solution = solutions[bound.family.name]
        with console.status(f"running {bound.id}"):
            if video is None:
                succeeded, note = run_program(world, bound, seed, solution)
            else:
                shown, outcome = render_program(world, bound, seed, solution)
                frames += shown
                succeeded, note = outcome.success, outcome.error
        table.add_row(bound.id, "[green]yes[/]" if succeeded else "[red]no[/]", note)
    console.print(table)
    if video is not None:
        write_video(frames, video)
        console.print(f"wrote {video} ({len(frames)} frames, {len(tasks)} task(s))")


from lab.cli_bench import bench_app  # noqa: E402 - after the app it extends
from lab.cli_curriculum import curriculum_command, solve_command  # noqa: E402 - after the app it extends
from lab.cli_llm import llm_app  # noqa: E402 - after the app it extends
from lab.cli_reward import reward_command  # noqa: E402 - after the app it extends
from lab.cli_rewards import rewards_app  # noqa: E402 - after the app it extends
from lab.cli_skills import skills_app  # noqa: E402 - after the app it extends
from lab.cli_train import eval_command, report_command, train_command  # noqa: E402 - after the app it extends

app.command("train")(train_command)
app.command("eval")(eval_command)
app.command("report")(report_command)
app.command("reward")(reward_command)
app.command("curriculum")(curriculum_command)
app.command("solve")(solve_command)
app.add_typer(llm_app, name="llm")
app.add_typer(skills_app, name="skills")
app.add_typer(rewards_app, name="rewards")
app.add_typer(bench_app, name="bench")
app.add_typer(prompts_app, name="prompts")


def main() -> None:
    """Entry point: run the app, turning LabErrors into one clear line and exit code 2."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    stay_offline()
    try:
        app()
    except LabError as error:
        errors.print(f"[red]error:[/] {error.message}", highlight=False)
        for violation in getattr(error, "violations", ()):
            errors.print(f"  {violation}", highlight=False, markup=False)
        if error.hint:
            errors.print(f"[yellow]hint:[/] {error.hint}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
