"""`lab skills`: list, search, show, remove, approve, pin, export and import the skills of a library."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from lab.errors import LabError

if TYPE_CHECKING:
    from lab.skills import SkillLibrary
    from lab.skills.model import Kind

console = Console()
skills_app = typer.Typer(help="The skill library: verified skills, found by meaning, versioned.")
DEFAULT_LIBRARY = Path("skills")
LibraryOption = Annotated[Path, typer.Option("--library", help="Library folder (library.db + artefacts/).")]


def _open(library: Path, create: bool = False, require_approval: bool | None = None) -> SkillLibrary:
    from lab.skills import SkillLibrary

    return SkillLibrary(library, create=create, require_approval=require_approval)


def _kind(kind: str | None) -> Kind | None:
    if kind not in (None, "code", "policy"):
        raise LabError(f"--kind must be code or policy, not {kind!r}")
    return cast("Kind | None", kind)


@skills_app.command("init")
def init_command(
    library: LibraryOption = DEFAULT_LIBRARY,
    require_approval: Annotated[bool, typer.Option(help="Keep new skills pending until approved.")] = False,
) -> None:
    """Create a library (or change whether it requires approval)."""
    with _open(library, create=True, require_approval=require_approval) as opened:
        console.print(f"library {library} ({len(opened)} skills; approval "
                      f"{'required' if opened.require_approval else 'not required'})")


@skills_app.command("list")
def list_command(
    library: LibraryOption = DEFAULT_LIBRARY,
    world: Annotated[str | None, typer.Option(help="Only skills of this world.")] = None,
    kind: Annotated[str | None, typer.Option(help="code or policy.")] = None,
    pending: Annotated[bool, typer.Option(help="Also show versions awaiting approval.")] = False,
) -> None:
    """The active version of every skill, with its verification."""
    with _open(library) as opened:
        skills = opened.skills(world=world, kind=_kind(kind), include_pending=pending)
    table = Table(title=f"{library}: {len(skills)} skill(s)")
    for column in ("skill", "kind", "world", "task", "verified", "calls", "description"):
        table.add_column(column, overflow="fold")
    for skill in skills:
        check = skill.verification
        verified = f"{check.success_rate:.0%} of {len(check.seeds)}" if check else "-"
        table.add_row(skill.ref + ("" if skill.status == "approved" else f" ({skill.status})"), skill.kind,
                      skill.world, skill.task, verified, ", ".join(skill.calls) or "-", skill.description)
    console.print(table)


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
    with _open(library) as opened, console.status("searching"):
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
    from lab.skills import parse_ref

    name, version = parse_ref(ref)
    with _open(library) as opened:
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
    from lab.skills import parse_ref

    name, version = parse_ref(ref)
    with _open(library) as opened:
        console.print(f"removed {', '.join(opened.remove(name, version))}")


@skills_app.command("approve")
def approve_command(ref: Annotated[str, typer.Argument(metavar="NAME@VERSION")],
                    library: LibraryOption = DEFAULT_LIBRARY) -> None:
    """Approve a pending version (libraries created with --require-approval)."""
    from lab.skills import parse_ref

    name, version = parse_ref(ref)
    if version is None:
        raise LabError("approve needs NAME@VERSION", hint="`lab skills list --pending` shows pending versions")
    with _open(library) as opened:
        console.print(f"approved {opened.approve(name, version).ref}")


@skills_app.command("pin")
def pin_command(ref: Annotated[str, typer.Argument(metavar="NAME@VERSION")],
                library: LibraryOption = DEFAULT_LIBRARY) -> None:
    """Make a version the active one and keep it there (roll back); pin the newest to follow it again."""
    from lab.skills import parse_ref

    name, version = parse_ref(ref)
    if version is None:
        raise LabError("pin needs NAME@VERSION", hint=f"`lab skills show {name}` lists its versions")
    with _open(library) as opened:
        console.print(f"pinned {opened.pin(name, version).ref}")


@skills_app.command("export")
def export_command(folder: Annotated[Path, typer.Argument(metavar="DIR")],
                   library: LibraryOption = DEFAULT_LIBRARY) -> None:
    """Write every skill version (JSON + artefacts) to DIR."""
    with _open(library) as opened:
        console.print(f"exported {opened.export(folder)} skill version(s) to {folder}")


@skills_app.command("import")
def import_command(folder: Annotated[Path, typer.Argument(metavar="DIR")],
                   library: LibraryOption = DEFAULT_LIBRARY) -> None:
    """Add every skill exported under DIR to the library (as new versions)."""
    with _open(library, create=True) as opened, console.status("importing"):
        added = opened.import_from(folder)
    console.print(f"imported {len(added)}: {', '.join(added)}")
