"""The reward library's promoted versions: every promotion is a numbered version kept with its evidence, and can be
undone.

A task family's promoted programs live beside its baselines, in `rewards/WORLD/FAMILY/promoted/`: `vN.py` is
version N (a header saying where it came from, then the program) and `history.json` lists every promotion and
rollback in order, each with the version active after it. Nothing is ever deleted; a rollback only changes which
version is active, so it can itself be undone (`rollback(..., to=N)`). `--reward promoted` trains with the active
version; with none active (never promoted, or rolled back to 0) the human baseline is what a search compares with.

This module is also where the library is found on disk (`reward_library_roots`, `library_folder`), so that the
program loader (program.py) can resolve `promoted` through it without the two importing each other.
"""

from __future__ import annotations

import ast
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from lab.content import search_path
from lab.errors import LabError
from lab.runs import plain_json, write_atomic
from lab.worlds.mjcf import PREFIX as MJCF_PREFIX

PROMOTED = "promoted"
"""The folder of a task family's promoted versions, beside its baselines."""
HISTORY = "history.json"
NONE_ACTIVE = 0
"""The active version when no promoted version is active: the family's human baseline stands."""


class PromotionEntry(BaseModel):
    """One line of a family's promotion history: a promotion or a rollback, and what is active after it."""

    model_config = ConfigDict(frozen=True)

    version: int
    """A promotion: the version it wrote. A rollback: the version that was active before it (0: none)."""
    action: Literal["promote", "rollback"]
    """What happened."""
    time: str
    """When, ISO 8601 in UTC."""
    evidence: dict[str, Any] = Field(default_factory=dict)
    """A promotion's evidence as its caller gave it (see `record_promotion`); empty for a rollback."""
    active: int
    """The version active after this entry; 0 means none (the human baseline)."""


_ENTRIES = TypeAdapter(list[PromotionEntry])


def reward_library_roots() -> list[Path]:
    """Where baseline and promoted reward programs are found: `$LAB_REWARDS_PATH`, `./rewards`, the lab's own."""
    return search_path("rewards", "LAB_REWARDS_PATH")


def library_folder(world: str) -> str:
    """The library folder of `world`: its name, and for a world read from an MJCF file its template's, `mjcf`
    (shared by every such world)."""
    return "mjcf" if world.startswith(MJCF_PREFIX) else world


def promoted_folder(root: Path, world: str, family: str) -> Path:
    """`ROOT/WORLD/FAMILY/promoted`, the folder of a family's promoted versions under one library root."""
    return root / library_folder(world) / family / PROMOTED


def active_promoted(world: str, family: str) -> tuple[int, Path] | None:
    """The active promoted version of a task family and its file, found on the library's search path (first root
    holding a history wins); None when nothing was promoted or the family was rolled back to its human reward."""
    folder = _found_folder(world, family)
    if folder is None:
        return None
    entries = _read_history(folder)
    active = entries[-1].active if entries else NONE_ACTIVE
    if active == NONE_ACTIVE:
        return None
    path = folder / f"v{active}.py"
    if not path.is_file():
        raise LabError(f"{folder / HISTORY} makes v{active} active, but {path} is missing",
                       hint=f"restore the file, or `lab rewards rollback {world} TASK --to N` to another version")
    return active, path


def promotion_file(world: str, family: str, version: int) -> Path:
    """The file of a promoted version, found where the family's history is."""
    folder = _found_folder(world, family)
    path = folder / f"v{version}.py" if folder is not None else None
    if path is None or not path.is_file():
        raise LabError(f"{world}/{family} has no promoted version {version}",
                       hint=f"`lab rewards history {world} TASK` lists its versions")
    return path


def promotion_root(world: str, family: str) -> Path:
    """The library root a new promotion of this family goes to: the one already holding its history (so the new
    version is the one `--reward promoted` finds), else `./rewards`."""
    folder = _found_folder(world, family)
    return folder.parents[2] if folder is not None else Path("rewards")


def reward_history(world: str, family: str) -> list[PromotionEntry]:
    """Every promotion and rollback of a task family, oldest first (empty when it was never promoted)."""
    folder = _found_folder(world, family)
    return _read_history(folder) if folder is not None else []


def record_promotion(world: str, family: str, source: str, evidence: dict[str, Any],
                     root: Path = Path("rewards")) -> int:
    """Write `source` as the family's next promoted version under `root`, record it with its `evidence` in the
    history and make it active; return its number.

    The evidence is kept as given (JSON; numpy values become numbers). `lab rewards history` shows these keys:
    `run` (the run directory), `compared_against` ("promoted vK" or "human") and `difference` (the [low, high]
    95% interval of the fitness difference the promotion was decided on); the search also records `candidate`,
    `active_before` (the version active before it, 0 for none), `held_out_seeds`, `training_seeds` and `fitness` (per
    policy, its mean and 95% interval).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise LabError(f"the program to promote is not valid Python (line {error.lineno}: {error.msg})",
                       hint="promote a program that passed its dry run") from None
    plain = json.loads(json.dumps(evidence, default=plain_json))
    folder = promoted_folder(root, world, family)
    with _locked(folder):
        entries = _read_history(folder)
        version = max((entry.version for entry in entries if entry.action == "promote"), default=0) + 1
        header = _header(world, family, version, plain, ast.get_docstring(tree))
        write_atomic(folder / f"v{version}.py", header + _without_docstring(source, tree))
        entries.append(PromotionEntry(version=version, action="promote", time=_now(), evidence=plain, active=version))
        _write_history(folder, entries)
    return version


def rollback(world: str, family: str, to: int | None = None, root: Path | None = None) -> int:
    """Make an earlier promoted version of the family active again, recorded as a rollback; return the version
    active now (0: none, the human baseline). `to=None` undoes the last change of the active version (v3 -> v2 ->
    v1 -> none, the way they became active); `to=N` makes version N active, `to=0` none. `root` is the library
    root holding the history; None means the one reading finds (the first root of the search path that has one).
    """
    folder = promoted_folder(root, world, family) if root is not None else _found_folder(world, family)
    if folder is None or not (folder / HISTORY).is_file():
        raise LabError(f"no reward of {world}/{family} was ever promoted, so there is nothing to roll back",
                       hint=f"`lab reward {world} TASK --promote` promotes a reward search's best program")
    with _locked(folder):
        entries = _read_history(folder)
        current = entries[-1].active if entries else NONE_ACTIVE
        versions = sorted({entry.version for entry in entries if entry.action == "promote"})
        if to is None:
            lineage = _lineage(entries)
            if not lineage:
                raise LabError(f"no promoted reward of {world}/{family} is active, so there is nothing to roll back",
                               hint=f"--to N makes version N active again (versions: {_listed(versions)})")
            to = lineage[-2] if len(lineage) > 1 else NONE_ACTIVE
        elif to != NONE_ACTIVE and to not in versions:
            raise LabError(f"there is no promoted v{to} of {world}/{family}; versions: {_listed(versions)}",
                           hint="--to N for one of them, or --to 0 for no promoted version (the human reward)")
        if to == current:
            raise LabError(f"{_named(to)} is already active for {world}/{family}",
                           hint=f"--to N for another version ({_listed(versions)}), or --to 0 for none")
        entries.append(PromotionEntry(version=current, action="rollback", time=_now(), active=to))
        _write_history(folder, entries)
    return to


def _found_folder(world: str, family: str) -> Path | None:
    for root in reward_library_roots():
        folder = promoted_folder(root, world, family)
        if (folder / HISTORY).is_file():
            return folder
    return None


def _read_history(folder: Path) -> list[PromotionEntry]:
    path = folder / HISTORY
    try:
        return _ENTRIES.validate_json(path.read_bytes())
    except FileNotFoundError:
        return []
    except ValidationError as error:
        raise LabError(f"{path} is not a promotion history ({error.error_count()} problem(s), first: "
                       f"{error.errors()[0]['msg']})",
                       hint="restore it from version control; the programs vN.py beside it are intact") from None


def _write_history(folder: Path, entries: list[PromotionEntry]) -> None:
    """Write the whole history to a temporary file and rename it into place: a killed write leaves the old one."""
    write_atomic(folder / HISTORY, _ENTRIES.dump_json(entries, indent=2).decode() + "\n")


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold the folder's lock, so that two searches promoting at once get two versions, not one overwritten."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as error:
        raise LabError(f"cannot write to {folder}: {error.strerror}",
                       hint="use a writable library root (./rewards, or a folder in $LAB_REWARDS_PATH)") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _lineage(entries: list[PromotionEntry]) -> list[int]:
    """The versions that became active one on top of another, oldest first, replayed from the history: a version
    made active again drops those above it, 0 drops all; the last is the active one."""
    lineage: list[int] = []
    for entry in entries:
        if entry.active == NONE_ACTIVE:
            lineage = []
        elif entry.active in lineage:
            lineage = lineage[: lineage.index(entry.active) + 1]
        else:
            lineage.append(entry.active)
    return lineage


def _header(world: str, family: str, version: int, evidence: dict[str, Any], docstring: str | None) -> str:
    """A docstring for vN.py: which version of what, where it came from, and the program's own docstring."""
    where = ", ".join(f"{label} {evidence[key]}" for key, label in
                      (("run", "from the run"), ("candidate", "candidate"), ("compared_against", "against"))
                      if key in evidence)
    text = f"Promoted reward v{version} of {world}/{family}" + (f": {where}." if where else ".")
    if docstring:
        text += f"\n\n{docstring}"
    return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '\n"""\n\n'


def _without_docstring(source: str, tree: ast.Module) -> str:
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return "".join(source.splitlines(keepends=True)[first.end_lineno or 0:]).lstrip("\n")
    return source


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _named(version: int) -> str:
    return f"v{version}" if version != NONE_ACTIVE else "no promoted version"


def _listed(versions: list[int]) -> str:
    return ", ".join(f"v{v}" for v in versions) or "none"
