"""Build steps pyproject.toml cannot declare: the lab's content and its Gymnasium hook go into the wheel.

- The folders `envs/`, `rewards/`, `skills/seed/` and `curricula/` of the checkout are copied into the package as
  `lab/_content/...` (lab/content.py finds them there once installed), so a wheel carries its worlds, baseline
  rewards, seed skills and curricula.
- `embodied_lab_gymnasium.pth` goes to the root of site-packages, so `gym.make("lab/NAME-v1")` works with nothing
  imported first (lab/gymnasium_hook.py says how). An editable install gets the same file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

ROOT = Path(__file__).resolve().parent
CONTENT = ("envs", "rewards", "skills/seed", "curricula")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "MUJOCO_LOG.TXT")
HOOK_FILE = "embodied_lab_gymnasium.pth"
HOOK_LINE = "import lab.gymnasium_hook; lab.gymnasium_hook.install()\n"


class BuildWithContent(build_py):
    """build_py, plus the content folders under lab/_content and the Gymnasium hook at the wheel's root."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for kind in CONTENT:
            target = Path(self.build_lib) / "lab" / "_content" / kind
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / kind, target, ignore=SKIPPED)
        (Path(self.build_lib) / HOOK_FILE).write_text(HOOK_LINE)


class EditableWithHook(editable_wheel):
    """An editable install finds the content in the checkout (lab/content.py); it gets the Gymnasium hook too.

    The hook is written beside the editable wheel's own files; its name sorts after setuptools'
    `__editable__.*.pth`, so `lab` is importable by the time it runs.
    """

    def _run_build_commands(self, dist_name, unpacked_wheel, build_lib, tmp_dir):  # type: ignore[no-untyped-def]
        built = super()._run_build_commands(dist_name, unpacked_wheel, build_lib, tmp_dir)
        Path(unpacked_wheel, HOOK_FILE).write_text(HOOK_LINE)
        return built


setup(cmdclass={"build_py": BuildWithContent, "editable_wheel": EditableWithHook})
