"""`gym.make("lab/playground-v1")` with nothing imported first.

Gymnasium 1.x dropped its plugin entry points, so a package's ids exist only once the package is imported. An
installed lab therefore carries a one-line `.pth` file (site-packages runs it at interpreter start) that calls
`install()`. It adds a finder to `sys.meta_path` that does nothing until `gymnasium` itself is imported; right after
Gymnasium has loaded, it imports `lab.worlds`, which registers `lab/NAME-v1` for every world. A process that never
imports Gymnasium pays one string comparison per import; nothing here may raise into the importing program.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

_TRIGGER = "gymnasium"


def register_lab_worlds() -> None:
    """Import `lab.worlds` (which registers every world's Gymnasium id); warn instead of failing the import."""
    if "lab.worlds" in sys.modules:  # being imported (it imported Gymnasium) or done: it registers itself
        return
    try:
        importlib.import_module("lab.worlds")
    except Exception as error:  # a broken world must not break `import gymnasium` for the user's own code
        warnings.warn(f"the lab's Gymnasium ids are not registered: {type(error).__name__}: {error}",
                      stacklevel=2)


class _LoaderThenRegister(importlib.abc.Loader):
    """Gymnasium's own loader, then the lab's registration."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> object:  # get_resource_reader, is_package, ...: the real loader's
        return getattr(self.loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        register_lab_worlds()


class _GymnasiumFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of `gymnasium` once, then leaves sys.meta_path."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TRIGGER:
            return None
        uninstall()
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _LoaderThenRegister(spec.loader)
        return spec


def install() -> None:
    """Register the lab's worlds when Gymnasium is imported (at once if it already is)."""
    if _TRIGGER in sys.modules:
        register_lab_worlds()
    elif not any(isinstance(finder, _GymnasiumFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _GymnasiumFinder())


def uninstall() -> None:
    """Take the finder off sys.meta_path."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _GymnasiumFinder)]
