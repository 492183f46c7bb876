"""`lab rewards`: the promotion history of a task family's reward, and rolling a promotion back."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from lab.console import make_console

if TYPE_CHECKING:
    from lab.rewards.promotion import PromotionEntry

console = make_console()
rewards_app = typer.Typer(help="The reward library's promoted versions: their history, and rolling one back.")
WorldArgument = Annotated[str, typer.Argument(metavar="WORLD", help="A world, e.g. reacher.")]
TaskArgument = Annotated[str, typer.Argument(metavar="TASK", help="A task of the world, e.g. reach.")]


def family_of(world: str, task: str) -> str:
    """The task family whose rewards `task` (a task spec such as `reach` or `place(cube_red, zone_blue)`) uses."""
    from lab.worlds import get_world  # start-up: loads MuJoCo

    return get_world(world).task(task).family.name


@rewards_app.command("history")
def history_command(world: WorldArgument, task: TaskArgument) -> None:
    """Every promotion and rollback of the task family's reward, with the evidence each promotion stood on."""
    from lab.rewards.promotion import NONE_ACTIVE, reward_history  # start-up: loads MuJoCo

    family = family_of(world, task)
    entries = reward_history(world, family)
    if not entries:
        console.print(f"no reward of {world}/{family} was ever promoted; `lab reward {world} {shlex.quote(task)} "
                      "--promote` promotes a reward search's best program", markup=False)
        return
    active = entries[-1].active
    table = Table(title=f"{world}/{family}: promoted rewards (* active: "
                        f"{f'v{active}' if active != NONE_ACTIVE else 'none, the human reward'})")
    for column in ("version", "action", "time", "run", "compared against", "difference (95%)"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(*_row(entry, active))
    console.print(table)


@rewards_app.command("rollback")
def rollback_command(
    world: WorldArgument,
    task: TaskArgument,
    to: Annotated[int | None, typer.Option(
        "--to", help="The version to make active; 0 for none (the human reward). Default: the one before.")] = None,
) -> None:
    """Make an earlier promoted version active (recorded in the history; nothing is deleted)."""
    from lab.rewards.promotion import NONE_ACTIVE, active_promoted, rollback  # start-up: loads MuJoCo

    family = family_of(world, task)
    before = active_promoted(world, family)
    now = rollback(world, family, to=to)
    active = active_promoted(world, family)
    if now == NONE_ACTIVE or active is None:
        console.print(f"{world}/{family}: no promoted version is active; its human reward is the baseline again",
                      markup=False)
    else:
        console.print(f"{world}/{family}: v{now} is active ({active[1]})", markup=False)
    redo = before[0] if before else NONE_ACTIVE
    console.print(f"to redo: lab rewards rollback {world} {shlex.quote(task)} --to {redo}", markup=False)


def _row(entry: PromotionEntry, active: int) -> list[str]:
    """One history line as table cells; the entry that made the active version active carries a `*`."""
    evidence = entry.evidence
    is_promotion = entry.action == "promote"
    version = f"v{entry.version}" if entry.version else "none"
    action = "promote" if is_promotion else f"rollback -> {f'v{entry.active}' if entry.active else 'none'}"
    marked = is_promotion and entry.version == active
    return [version + (" *" if marked else ""), action, entry.time.replace("T", " "),
            str(evidence.get("run", "-")), str(evidence.get("compared_against", "-")),
            _interval(evidence.get("difference"))]


def _interval(value: Any) -> str:
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
        return f"[{value[0]:+.4g}, {value[1]:+.4g}]"
    return "-" if value is None else str(value)
