"""Where worlds come from: the Gymnasium adapters, the DeepMind Control suite (lab/worlds/dmc.py) and every
folder under `envs/` that holds a `world.py`.

A folder world's `world.py` defines `make_world() -> World`. Folders are searched in every directory named by the
`LAB_ENVS_PATH` variable (os.pathsep separated), in `./envs` of the working directory, then in the lab's own
`envs/`; the first folder of a name wins. Worlds load on first use and are cached; every world is also a Gymnasium
id `lab/NAME-v1`, registered when Gymnasium is imported (see lab/gymnasium_hook.py).
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import gymnasium as gym

from lab.content import search_path
from lab.errors import LabError, UnknownNameError
from lab.worlds.core import World
from lab.worlds.dmc import dmc_worlds
from lab.worlds.gym_adapters import gym_worlds, route_mujoco_warnings
from lab.worlds.mjcf import PREFIX as MJCF_PREFIX
from lab.worlds.mjcf import mjcf_world


def world_dirs() -> list[Path]:
    """Directories searched for folder worlds, first match wins."""
    return search_path("envs", "LAB_ENVS_PATH")


def _folder_worlds() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for directory in world_dirs():
        for child in sorted(directory.iterdir()):
            if (child / "world.py").is_file() and child.name not in found:
                found[child.name] = child / "world.py"
    return found


def _loaders() -> dict[str, Callable[[], World]]:
    loaders: dict[str, Callable[[], World]] = {**gym_worlds(), **dmc_worlds()}
    for name, path in _folder_worlds().items():
        if name in loaders:
            raise LabError(f"the world folder {path.parent} has the name of a built-in world {name!r}",
                           hint="rename the folder")
        loaders[name] = functools.partial(_load_folder_world, path)
    return loaders


def world_names() -> list[str]:
    """Every world that can be loaded, adapters first."""
    return list(_loaders())


@cache
def get_world(name: str) -> World:
    """The world called `name`, loaded once per process; `mjcf:PATH` is the world of the MJCF file at PATH (see
    lab/worlds/mjcf.py). MuJoCo's warnings go to Python's warnings module from here on, in every process that makes
    a world (sandbox workers too), not to MUJOCO_LOG.TXT in its directory."""
    route_mujoco_warnings()
    if name.startswith(MJCF_PREFIX):
        return mjcf_world(Path(name[len(MJCF_PREFIX):]).expanduser(), name=name)
    loaders = _loaders()
    if name not in loaders:
        raise UnknownNameError("world", name, loaders, hint="`lab worlds` lists them")
    return loaders[name]()


def _load_folder_world(path: Path) -> World:
    """Import `envs/NAME/world.py` as `lab_envs.NAME.world`, so the folder's modules can import each other."""
    folder = path.parent
    package_name = f"lab_envs.{folder.name}"
    if "lab_envs" not in sys.modules:
        namespace = types.ModuleType("lab_envs")
        namespace.__path__ = []
        sys.modules["lab_envs"] = namespace
    if package_name not in sys.modules:
        package = types.ModuleType(package_name)
        package.__path__ = [str(folder)]
        sys.modules[package_name] = package
    try:
        module = importlib.import_module(f"{package_name}.world")
    except LabError:
        raise
    except Exception as error:
        raise LabError(f"the world module {path} failed to import: {type(error).__name__}: {error}",
                       hint="fix the module; envs/README.md says what it must define") from error
    make_world = getattr(module, "make_world", None)
    if not callable(make_world):
        raise LabError(f"{path} defines no make_world()", hint="see envs/README.md")
    world = make_world()
    if not isinstance(world, World):
        raise LabError(f"make_world() in {path} returned {type(world).__name__}, not a lab World")
    if world.name != path.parent.name:
        raise LabError(f"the world in folder {path.parent.name!r} calls itself {world.name!r}",
                       hint="a world's name must be its folder's name")
    return world


def _make_registered(world: str, task: str | None = None, seed: int | None = None,
                     render_mode: str | None = None, **_: Any) -> gym.Env:
    return get_world(world).make_env(task, seed=seed, render_mode=render_mode)


def register_gymnasium_ids() -> None:
    """Make every world reachable as `gym.make("lab/NAME-v1", task="...", seed=0)`."""
    for name in world_names():
        env_id = f"lab/{name}-v1"
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=_make_registered,  # type: ignore[arg-type]
                         kwargs={"world": name}, disable_env_checker=True, order_enforce=False)
