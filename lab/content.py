"""Where the lab's own content lies: its worlds, baseline rewards, seed skills and curricula.

In a checkout they are the folders `envs/`, `rewards/`, `skills/seed/` and `curricula/` beside `lab/`; an installed
wheel carries the same folders inside the package, under `lab/_content/` (the build copies them there, see
setup.py). Everything here is standard library only: the Gymnasium hook reads it while Python starts.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
CONTENT_KINDS = ("envs", "rewards", "skills/seed", "curricula")
"""The content folders, as named in a checkout (and under `lab/_content/` in a wheel)."""


def packaged(kind: str) -> Path:
    """The lab's own folder of `kind` (one of CONTENT_KINDS): inside the installed package, else the checkout's."""
    if kind not in CONTENT_KINDS:
        raise ValueError(f"unknown content kind {kind!r}; one of {', '.join(CONTENT_KINDS)}")
    installed = _PACKAGE / "_content" / kind
    return installed if installed.is_dir() else _PACKAGE.parent / kind


def search_path(kind: str, variable: str) -> list[Path]:
    """Folders searched for `kind`, first match wins: the folders named by the environment variable `variable`
    (os.pathsep separated), `./<kind>` of the working directory, then the lab's own. Missing folders are left
    out, and each folder appears once."""
    candidates = [Path(p) for p in os.environ.get(variable, "").split(os.pathsep) if p]
    candidates += [Path.cwd() / kind, packaged(kind)]
    found: list[Path] = []
    for directory in candidates:
        resolved = directory.resolve()
        if resolved.is_dir() and resolved not in found:
            found.append(resolved)
    return found


def folder_world_names() -> list[str]:
    """Names of the folder worlds (a folder holding `world.py`) on the worlds' search path, first match wins."""
    names: list[str] = []
    for directory in search_path("envs", "LAB_ENVS_PATH"):
        for child in sorted(directory.iterdir()):
            if (child / "world.py").is_file() and child.name not in names:
                names.append(child.name)
    return names


def shipped_curricula() -> list[str]:
    """Names of the curricula on the search path (`NAME.yaml` files), for `lab curriculum NAME`."""
    names: list[str] = []
    for directory in search_path("curricula", "LAB_CURRICULA_PATH"):
        names += [path.stem for path in sorted(directory.glob("*.yaml")) if path.stem not in names]
    return names


def curriculum_file(spec: str | Path) -> Path | None:
    """The curriculum file `spec` names: a path to a file, else `NAME` (or `NAME.yaml`) on the curricula's search
    path (`$LAB_CURRICULA_PATH`, `./curricula`, the lab's own). None when there is no such file."""
    path = Path(spec)
    if path.is_file():
        return path
    if path.parent != Path("."):
        return None
    for directory in search_path("curricula", "LAB_CURRICULA_PATH"):
        candidate = directory / f"{path.stem}.yaml"
        if path.suffix in ("", ".yaml") and candidate.is_file():
            return candidate
    return None
