"""Run directories: `runs/<time>-<command>-<slug>/` with the resolved config, an append-only event log, artefacts.

Every file but the event log is written to a temporary name and renamed into place, so a killed process leaves
either the old file or the new one, never half of one. The event log is appended one flushed JSON line at a time.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from lab.errors import LabError
from lab.settings import validated

CONFIG = "config.json"
EVENTS = "events.jsonl"
SUMMARY = "summary.json"
"""An optimizer's typed result, written when it finishes."""


class Record(BaseModel):
    """A typed line of a run's journal: `event` names its kind on disk, the fields are the line's other keys.

    Each optimizer defines its records once and writes and reads them through these types (`Run.write`,
    `Run.records`); the journal stays JSON lines, so a killed run resumes from it and old journals still read.
    """

    model_config = ConfigDict(extra="ignore")
    event: ClassVar[str]


ProgressFn = Callable[[Record], None]
"""Who watches an optimizer run: it gets every record as it is made (journaled ones and progress-only ones)."""

Kind = TypeVar("Kind", bound=Record)
Settings = TypeVar("Settings", bound=BaseModel)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, then rename it into place. A symbolic
    link planted at either name is replaced, never written through."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def slugify(text: str, limit: int = 48) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug[:limit].rstrip("-") or "run"


class Run:
    """One run's directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, command: str, slug: str, out: Path | None = None, root: Path = Path("runs")) -> Run:
        """A new run directory: `out` if given (it must be empty or absent), else a fresh one under `root`."""
        if out is None:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            out = root / f"{stamp}-{command}-{slugify(slug)}"
            suffix = 1
            while out.exists():
                suffix += 1
                out = root / f"{stamp}-{command}-{slugify(slug)}-{suffix}"
        elif out.exists() and not out.is_dir():
            raise LabError(f"{out} is a file, not a directory", hint="pass a new --out directory")
        elif out.exists() and any(out.iterdir()):
            raise LabError(f"{out} already exists and is not empty",
                           hint="pass a new --out directory, or leave --out out to get a fresh one under runs/")
        out.mkdir(parents=True, exist_ok=True)
        return cls(out)

    @classmethod
    def open(cls, path: Path, made_by: str | None = None) -> Run:
        """An existing run directory (it must hold a config); with `made_by`, one that command made."""
        wanted = f"`lab {made_by}`" if made_by else "`lab train`, `lab reward` or `lab curriculum`"
        if not (path / CONFIG).is_file():
            raise LabError(f"{path} is not a run directory (it has no {CONFIG})",
                           hint=f"give a directory made by {wanted} (runs/<time>-<command>-...)")
        run = cls(path)
        if made_by is not None:
            config = run.read_json(CONFIG)
            if not isinstance(config, dict):
                raise LabError(f"{path / CONFIG} is not a run's config (not a JSON object)")
            command = config.get("command")  # runs from before the field existed pass
            if command is not None and command != made_by:
                raise LabError(f"{path} is a run of `lab {command}`, not of {wanted}",
                               hint=f"give a directory made by {wanted}")
        return run

    @classmethod
    def at(cls, where: Run | Path | str, command: str) -> Run:
        """The run at `where`, for an optimizer given a Run or a path from Python: a run `command` made there (to
        go on with), else a new run directory there."""
        if isinstance(where, Run):
            return where
        where = Path(where)
        if (where / CONFIG).is_file():
            return cls.open(where, made_by=command)
        return cls.create(command, where.name, out=where)

    def check_config(self, command: str, settings: BaseModel, section: str,
                     may_differ: frozenset[str] = frozenset()) -> None:
        """Write `settings` as the run's config when it has none; else refuse settings that differ from the ones
        the run was made with (but for `may_differ`, e.g. a session's budget), so a run goes on as it began."""
        if not self.file(CONFIG).is_file():
            self.write_config(command, settings, section)
            return
        stored = self.read_config(type(settings), section).model_dump(mode="json")
        given = settings.model_dump(mode="json")
        differing = sorted(k for k in given if given[k] != stored.get(k) and k not in may_differ)
        if differing:
            raise LabError(f"{self.path} was made with other {section} settings ({', '.join(differing)} differ)",
                           hint="give the settings it was made with (Run.read_config reads them), or another "
                                "directory")

    def file(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, data: Any) -> None:
        write_atomic(self.path / name, json.dumps(data, indent=2, default=plain_json) + "\n")

    def read_json(self, name: str) -> Any:
        path = self.path / name
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            raise LabError(f"{path} is missing", hint="the run may not have finished") from None
        except json.JSONDecodeError as error:
            raise LabError(f"{path} is not valid JSON ({error})") from None

    def write_text(self, name: str, text: str) -> None:
        write_atomic(self.path / name, text)

    def event(self, kind: str, **fields: Any) -> None:
        """Append one event to the run's log."""
        line = json.dumps({"time": round(time.time(), 3), "event": kind, **fields}, default=plain_json)
        try:
            descriptor = os.open(self.path / EVENTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as error:
            raise LabError(f"cannot append to {self.path / EVENTS}: {error.strerror}",
                           hint="the event log must be a plain file of the run directory (not a link)") from None
        with os.fdopen(descriptor, "a") as handle:  # a link planted as the log is refused, not followed
            handle.write(line + "\n")
            handle.flush()

    def write(self, record: Record) -> None:
        """Append a typed record to the run's journal."""
        self.event(record.event, **record.model_dump(mode="json", fallback=plain_json))

    def records(self, kind: type[Kind]) -> Iterator[Kind]:
        """The journal's records of one kind, decoded into their type."""
        for number, line in enumerate(self.events(), start=1):
            if line.get("event") == kind.event:
                yield validated(kind, line, f"{kind.event} record (line {number} of {self.path / EVENTS})")

    def write_config(self, command: str, settings: BaseModel, section: str) -> None:
        """The run's resolved settings, written by the optimizer that runs (`lab report` and `--resume` read them
        back with `read_config`, whether the run came from the command line or from Python)."""
        self.write_json(CONFIG, {"command": command, section: settings.model_dump(mode="json")})

    def read_config(self, model: type[Settings], section: str) -> Settings:
        """The settings a run was made with, validated into their model."""
        config = self.read_json(CONFIG)
        if not isinstance(config, dict) or not isinstance(config.get(section), dict):
            raise LabError(f"{self.path / CONFIG} has no {section} settings",
                           hint="give a run directory made by the command that takes it")
        return validated(model, config[section], f"{section} (in {self.path / CONFIG})")

    def events(self) -> Iterator[dict[str, Any]]:
        """The events logged so far; a line cut short by a kill is skipped."""
        path = self.path / EVENTS
        if not path.exists():
            return
        with open(path) as handle:
            for line in handle:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue


def plain_json(value: Any) -> Any:
    """JSON for numpy scalars and arrays, paths and dataclass-like objects."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "model_dump"):
        return value.model_dump()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
