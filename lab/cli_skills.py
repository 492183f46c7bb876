"""`lab skills`: list, search, show, remove, approve, pin, export, import and check the skills of a library."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
import yaml
from rich.syntax import Syntax
from rich.table import Table

from lab.console import make_console
from lab.content import packaged
from lab.errors import LabError
from lab.runs import CONFIG, Run
from lab.video import write_video

if TYPE_CHECKING:
    from lab.skills import SkillLibrary
    from lab.skills.model import Kind, Verification
    from lab.skills.runtime import EpisodeResult

console = make_console()
skills_app = typer.Typer(help="The skill library: verified skills, found by meaning, versioned.")
DEFAULT_LIBRARY = Path("skills")
LibraryOption = Annotated[Path, typer.Option("--library", help="Library folder (library.db + artefacts/).")]


def check_threshold(threshold: float) -> None:
    """A verification threshold a skill can honestly pass: a share of seeds above 0 (0 would call a skill that
    never succeeded verified) and at most 1."""
    if not 0 < threshold <= 1:
        raise LabError(f"--threshold {threshold:g} must be above 0 and at most 1",
                       hint="it is the share of seeded episodes that must succeed, e.g. 0.8")


def open_library(library: Path, create: bool = False, require_approval: bool | None = None) -> SkillLibrary:
    """The library at `library`; the default one is made on first use, with the verified seed skills."""
    from lab.skills import SkillLibrary  # start-up: loads MuJoCo
    from lab.skills.store import DATABASE  # start-up: loads MuJoCo

    if library == DEFAULT_LIBRARY and not (library / DATABASE).exists() and not create:
        console.print(f"first use of the default library {library}/: verifying the playground's seed skills")
        console.print(f"seed skills stored: {', '.join(add_seed_skills(library))}")
    return SkillLibrary(library, create=create, require_approval=require_approval)


def _kind(kind: str | None) -> Kind | None:
    if kind not in (None, "code", "policy"):
        raise LabError(f"--kind must be code or policy, not {kind!r}")
    return cast("Kind | None", kind)


@skills_app.command("init")
def init_command(
    library: LibraryOption = DEFAULT_LIBRARY,
    require_approval: Annotated[bool, typer.Option(help="Keep new skills pending until approved.")] = False,
    seed: Annotated[bool, typer.Option(help="Verify and add the playground's hand-written seed skills.")] = False,
) -> None:
    """Create a library (or change whether it requires approval), optionally with the seed skills."""
    if seed:
        console.print(f"seed skills stored: {', '.join(add_seed_skills(library))}")
    with open_library(library, create=True, require_approval=require_approval) as opened:
        console.print(f"library {library} ({len(opened)} skills; approval "
                      f"{'required' if opened.require_approval else 'not required'})")


@skills_app.command("list")
def list_command(
    library: LibraryOption = DEFAULT_LIBRARY,
    world: Annotated[str | None, typer.Option(help="Only skills of this world.")] = None,
    kind: Annotated[str | None, typer.Option(help="code or policy.")] = None,
    pending: Annotated[bool, typer.Option(help="Also show the versions that wait: pending approval, or kept as "
                                               "candidates (they verified worse than the active version).")] = False,
) -> None:
    """The active version of every skill, with its verification (and, with --pending, the versions that wait, and
    why)."""
    with open_library(library) as opened:
        every = opened.skills(world=world, kind=_kind(kind), include_pending=True)
    waiting = [skill for skill in every if skill.waiting]
    skills = every if pending else [skill for skill in every if not skill.waiting]
    table = Table(title=f"{library}: {len(skills)} skill(s)")
    for column in ("skill", "kind", "world", "task", "verified", "calls", "description"):
        table.add_column(column, overflow="fold")
    for skill in skills:
        check = skill.verification
        verified = f"{check.success_rate:.0%} of {len(check.seeds)}" if check else "-"
        table.add_row(skill.ref + ("" if skill.status == "approved" else f" ({skill.status})"), skill.kind,
                      skill.world, skill.task, verified, ", ".join(skill.calls) or "-", skill.description)
    console.print(table)
    if pending:
        for skill in waiting:
            console.print(f"waiting: {skill.ref} {skill.why_waiting()}; `lab skills approve {skill.ref}` makes it "
                          "active", highlight=False, markup=False)
    elif waiting:
        console.print(f"{len(waiting)} version(s) wait (pending approval, or kept as candidates): "
                      "`lab skills list --pending` shows them and why")


@skills_app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(metavar="QUERY", help="What the skill should do, in words.")],
    k: Annotated[int, typer.Option("-k", help="How many results.")] = 5,
    library: LibraryOption = DEFAULT_LIBRARY,
    world: Annotated[str | None, typer.Option(help="Only skills of this world.")] = None,
    kind: Annotated[str | None, typer.Option(help="code or policy.")] = None,
    verified: Annotated[bool, typer.Option(help="Only verified skills.")] = False,
) -> None:
    """Find skills by meaning (sentence embeddings), best first."""
    with open_library(library) as opened, console.status("searching"):
        hits = opened.search(query, k=k, world=world, kind=_kind(kind), verified_only=verified)
    table = Table(title=f"{query!r}")
    for column in ("score", "skill", "world", "description"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        table.add_row(f"{hit.score:.3f}", hit.skill.ref, hit.skill.world, hit.skill.description)
    console.print(table)


@skills_app.command("show")
def show_command(
    ref: Annotated[str, typer.Argument(metavar="NAME[@VERSION]")],
    library: LibraryOption = DEFAULT_LIBRARY,
) -> None:
    """A skill's description, parameters, calls, provenance, verification, versions and source."""
    from lab.skills import parse_ref  # start-up: loads MuJoCo

    name, version = parse_ref(ref)
    with open_library(library) as opened:
        skill = opened.get(name, version)
        versions = opened.versions(name)
        active = opened.active_version(name)
    console.rule(f"[bold]{skill.ref}[/] ({skill.kind}, {skill.status})")
    console.print(skill.description, markup=False)
    console.print(f"world: {skill.world}   task: {skill.task or '-'}   parameters: {skill.params or '-'}   "
                  f"calls: {', '.join(skill.calls) or '-'}", markup=False)
    console.print(f"provenance: {skill.provenance or '-'}", markup=False)
    if skill.verification:
        check = skill.verification
        console.print(f"verified on {check.world_version}, task {check.task}: {check.successes}/{len(check.seeds)} "
                      f"seeds (threshold {check.threshold:.0%}) -> {'passed' if check.passed else 'failed'}")
    for other in versions:
        if other.waiting:
            console.print(f"waiting: {other.ref} {other.why_waiting()}; `lab skills approve {other.ref}` makes it "
                          "active", highlight=False, markup=False)
    marks = {v.version: v.status for v in versions}
    console.print("versions: " + ", ".join(
        f"{v}{'*' if active and active[0] == v else ''}{' (' + s + ')' if s != 'approved' else ''}"
        for v, s in marks.items()) + ("  (* active" + (", pinned)" if active and active[1] else ")")))
    if skill.source:
        console.print(Syntax(skill.source, "python", line_numbers=True))
    if skill.artefact:
        console.print(f"policy: {library / skill.artefact}")


@skills_app.command("rm")
def remove_command(ref: Annotated[str, typer.Argument(metavar="NAME[@VERSION]")],
                   library: LibraryOption = DEFAULT_LIBRARY) -> None:
    """Remove one version, or every version, of a skill (kept as history, no longer found or run)."""
    from lab.skills import parse_ref  # start-up: loads MuJoCo

    name, version = parse_ref(ref)
    with open_library(library) as opened:
        console.print(f"removed {', '.join(opened.remove(name, version))}")


def _exact_ref(ref: str, command: str, hint: str) -> tuple[str, int]:
    """NAME@VERSION for commands that act on one version."""
    from lab.skills import parse_ref  # start-up: loads MuJoCo

    name, version = parse_ref(ref)
    if version is None:
        raise LabError(f"{command} needs NAME@VERSION", hint=hint)
    return name, version


@skills_app.command("approve")
def approve_command(ref: Annotated[str, typer.Argument(metavar="NAME@VERSION")],
                    library: LibraryOption = DEFAULT_LIBRARY) -> None:
    """Approve a waiting version: a pending one (libraries created with --require-approval), or a candidate (it
    verified worse than the active version), which becomes active anyway."""
    name, version = _exact_ref(ref, "approve", "`lab skills list --pending` shows the versions that wait")
    with open_library(library) as opened:
        approved = opened.approve(name, version)
        active = opened.active_version(name)
    console.print(f"approved {approved.ref}" + ("" if active is None or active[0] != version else " (active)"))
    if active is not None and active[0] != version:
        why = f"it is pinned; `lab skills pin {approved.ref}` makes this one active" if active[1] else "it is newer"
        console.print(f"{name}@{active[0]} stays active: {why}")


@skills_app.command("pin")
def pin_command(ref: Annotated[str, typer.Argument(metavar="NAME@VERSION")],
                library: LibraryOption = DEFAULT_LIBRARY) -> None:
    """Make a version (approved, or a candidate) the active one and keep it there, whatever is added later, until
    another is pinned."""
    name, version = _exact_ref(ref, "pin", "`lab skills show NAME` lists its versions")
    with open_library(library) as opened:
        console.print(f"pinned {opened.pin(name, version).ref}")


@skills_app.command("export")
def export_command(folder: Annotated[Path, typer.Argument(metavar="DIR")],
                   library: LibraryOption = DEFAULT_LIBRARY) -> None:
    """Write every skill version (JSON + artefacts) to DIR."""
    with open_library(library) as opened:
        console.print(f"exported {opened.export(folder)} skill version(s) to {folder}")


@skills_app.command("import")
def import_command(folder: Annotated[Path, typer.Argument(metavar="DIR")],
                   library: LibraryOption = DEFAULT_LIBRARY) -> None:
    """Add every skill exported under DIR to the library (as new versions)."""
    with open_library(library, create=True) as opened, console.status("importing"):
        added = opened.import_from(folder)
    console.print(f"imported {len(added)}: {', '.join(added)}")


@skills_app.command("check")
def check_command(
    library: LibraryOption = DEFAULT_LIBRARY,
    repair: Annotated[bool, typer.Option(help="Embed the skill versions that have no embedding.")] = True,
) -> None:
    """Check the library: SQLite's integrity check, skill versions without an embedding (search and retrieval never
    find them; embedded again unless --no-repair), missing artefacts. Exits 1 when anything is left wrong."""
    with open_library(library, create=False) as opened, console.status("checking"):
        found = opened.check(repair=repair)
        count = len(opened)
    for line in found.damage:
        console.print(f"[red]damage[/]: {line}", highlight=False)
    if found.repaired:
        console.print(f"embedded again: {', '.join(found.repaired)}", highlight=False)
    if found.unembedded:
        console.print(f"[red]without an embedding[/] (run without --no-repair): {', '.join(found.unembedded)}",
                      highlight=False)
    for line in found.missing_artefacts:
        console.print(f"[red]missing artefact[/]: {line}", highlight=False)
    if not found.ok:
        raise typer.Exit(1)
    console.print(f"library {library}: ok ({count} skills)")


SEEDS = packaged("skills/seed")


def _print_outcome(results: list[EpisodeResult], verification: Verification) -> None:
    table = Table(title=f"verification on {verification.task}: {verification.successes}/{len(verification.seeds)} "
                        f"(threshold {verification.threshold:.0%})")
    for column in ("seed", "success", "steps", "what happened"):
        table.add_column(column, overflow="fold")
    for result in results:
        table.add_row(str(result.seed), "[green]yes[/]" if result.success else "[red]no[/]", str(result.steps),
                      result.error or "-")
    console.print(table)


@skills_app.command("add")
def add_command(
    file: Annotated[Path, typer.Argument(metavar="FILE|RUN_DIR",
                                         help="A .py file defining def NAME(robot, ...), or a training run "
                                              "directory whose policy becomes a policy skill.")],
    world: Annotated[str | None, typer.Option(help="World the code skill runs in (a run knows its own).")] = None,
    task: Annotated[str | None, typer.Option(help="Task whose success check verifies a code skill, e.g. "
                                                  "'lift(cube_red)' (a run knows its own).")] = None,
    name: Annotated[str | None, typer.Option(help="The skill's name (default: the file's name, or the run's "
                                                  "task as a name).")] = None,
    description: Annotated[str | None, typer.Option(help="What it does (default: its docstring).")] = None,
    seeds: Annotated[int, typer.Option(help="Seeded episodes to verify on.")] = 10,
    threshold: Annotated[float, typer.Option(help="Success rate needed to store it (above 0, at most 1).")] = 0.8,
    library: LibraryOption = DEFAULT_LIBRARY,
) -> None:
    """Verify a skill (a code file, or a trained policy) on its task over seeded episodes, and store it only if it
    passes."""
    from lab.skills.runtime import AddOutcome, add_code_skill, add_policy_skill  # start-up: loads MuJoCo
    from lab.worlds import get_world  # start-up: loads MuJoCo

    check_threshold(threshold)
    outcome: AddOutcome
    if file.is_dir():
        if world or task:
            raise LabError("a policy skill is verified on the world and task it was trained for",
                           hint="leave out --world and --task when adding a run directory")
        skill_name = name or _policy_name(file)
        with open_library(library, create=True) as opened, console.status(f"verifying the policy on {seeds} seeds"):
            outcome = add_policy_skill(opened, file, skill_name, description=description or "",
                                       seeds=list(range(seeds)), threshold=threshold)
    elif file.is_file():
        if not world or not task:
            raise LabError("a code skill needs --world and --task (the task whose success check verifies it)",
                           hint="e.g. lab skills add lift.py --world playground --task 'lift(cube_red)'")
        skill_name = name or file.stem
        world_ = get_world(world)
        with open_library(library, create=True) as opened, console.status(f"verifying on {seeds} seeds"):
            outcome = add_code_skill(opened, world_, world_.task(task), skill_name, file.read_text(),
                                     description=description or "", seeds=list(range(seeds)), threshold=threshold,
                                     provenance={"writer": "human", "file": str(file)})
    else:
        raise LabError(f"no skill program or run directory at {file}")
    _print_outcome(outcome.results, outcome.verification)
    if outcome.skill is None:
        raise LabError(f"not stored: {skill_name} succeeded on {outcome.verification.successes} of "
                       f"{len(outcome.verification.seeds)} seeds, below {threshold:.0%}",
                       hint="the table above says what happened on each seed")
    console.print(f"stored {outcome.skill.ref}" + {"pending": " (pending approval)",
                                                   "candidate": " (a candidate)"}.get(outcome.skill.status, ""))
    if outcome.reason:
        console.print(outcome.reason, highlight=False, markup=False)


def _policy_name(run_dir: Path) -> str:
    """A skill name from a run's task: `reach(cube_red)` -> `reach_cube_red_policy`."""


    task = str(Run.open(run_dir, made_by="train").read_json(CONFIG)["task"])
    return re.sub(r"[^a-z0-9]+", "_", task.lower()).strip("_")[:57] + "_policy"


@skills_app.command("run")
def run_command(
    ref: Annotated[str, typer.Argument(metavar="NAME[@VERSION]")],
    world: Annotated[str | None, typer.Option(help="World (default: the skill's).")] = None,
    seed: Annotated[int, typer.Option(help="Layout seed.")] = 0,
    params: Annotated[str | None, typer.Option(help='Parameters as JSON, e.g. \'{"obj": "ball"}\'.')] = None,
    video: Annotated[Path | None, typer.Option(help="Render the episode to this .mp4/.gif.")] = None,
    library: LibraryOption = DEFAULT_LIBRARY,
) -> None:
    """Run a stored skill on one seeded episode and say what happened."""
    from lab.skills import parse_ref  # start-up: loads MuJoCo
    from lab.skills.runtime import SkillRunner, skill_task  # start-up: loads MuJoCo
    from lab.worlds import get_world  # start-up: loads MuJoCo

    name, version = parse_ref(ref)
    try:
        values = json.loads(params) if params else {}
    except json.JSONDecodeError as error:
        raise LabError(f"--params is not valid JSON: {error}", hint='e.g. --params \'{"obj": "ball"}\'') from None
    if not isinstance(values, dict):
        raise LabError("--params must be a JSON object of parameter values")
    with open_library(library) as opened:
        skill = opened.get(name, version)
        world_ = get_world(world or skill.world)
        task = skill_task(world_, skill)
        task_values = {k: v for k, v in values.items() if k in task.param_map}
        if task_values:
            task = task.family.bind(world_.name, {**task.param_map, **task_values})
        with console.status(f"running {skill.ref}"), SkillRunner.for_skill(world_, task, skill, opened, values,
                                                                           render=video is not None) as runner:
            result = runner.run(seed)
    console.print(f"{skill.ref} on {task.id}, seed {seed}: "
                  + ("[green]success[/]" if result.success else "[red]no success[/]")
                  + f" in {result.steps} steps, fitness {result.fitness:.4g}")
    if result.error:
        console.print(f"stopped by: {result.error}", markup=False)
    if video is not None:
        write_video(result.frames, video)
        console.print(f"wrote {video} ({len(result.frames)} frames)")


@skills_app.command("verify")
def verify_command(
    ref: Annotated[str, typer.Argument(metavar="NAME[@VERSION]")],
    seeds: Annotated[int, typer.Option(help="Seeded episodes.")] = 10,
    threshold: Annotated[float, typer.Option(help="Success rate that counts as verified (0 to 1, above 0).")] = 0.8,
    library: LibraryOption = DEFAULT_LIBRARY,
) -> None:
    """Verify a stored skill again on its task (e.g. after the world changed); exits 1 when it fails."""
    from lab.skills import parse_ref  # start-up: loads MuJoCo
    from lab.skills.runtime import skill_task, verify_skill  # start-up: loads MuJoCo
    from lab.worlds import get_world  # start-up: loads MuJoCo

    check_threshold(threshold)
    name, version = parse_ref(ref)
    with open_library(library) as opened:
        skill = opened.get(name, version)
        world_ = get_world(skill.world)
        with console.status(f"verifying {skill.ref} on {seeds} seeds"):
            verification, results = verify_skill(world_, skill_task(world_, skill), skill, opened,
                                                 list(range(seeds)), threshold)
    _print_outcome(results, verification)
    if skill.verification and skill.verification.world_version != verification.world_version:
        console.print(f"the world changed since it was stored ({skill.verification.world_version} -> "
                      f"{verification.world_version})")
    if not verification.passed:
        raise typer.Exit(1)


def add_seed_skills(library_path: Path, seeds: int = 10) -> list[str]:
    """Verify and store the playground's hand-written seed skills (skills/seed/), in dependency order."""
    from lab.skills.runtime import add_code_skill  # start-up: loads MuJoCo
    from lab.worlds import get_world  # start-up: loads MuJoCo

    world = get_world("playground")
    entries = yaml.safe_load((SEEDS / "seeds.yaml").read_text())
    stored = []
    with open_library(library_path, create=True) as opened:
        for entry in entries:
            path = SEEDS / entry["file"]
            with console.status(f"verifying seed skill {path.stem}"):
                outcome = add_code_skill(opened, world, world.task(entry["task"]), path.stem, path.read_text(),
                                         seeds=list(range(seeds)), provenance={"writer": "human", "seed": True})
            if outcome.skill is None:
                _print_outcome(outcome.results, outcome.verification)
                raise LabError(f"seed skill {path.stem} failed its verification")
            stored.append(outcome.skill.ref)
    return stored
