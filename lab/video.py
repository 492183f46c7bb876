"""Videos written from rendered frames (MUJOCO_GL=egl renders headless on CPU machines through Mesa)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lab.errors import LabError

VIDEO_FPS = 25


def write_video(frames: list[Any], path: Path, fps: int = VIDEO_FPS) -> None:
    """Write RGB frames to `path` (.mp4 or .gif), through a temporary file renamed into place."""
    import imageio.v2 as imageio

    if not frames:
        raise LabError(f"no frames to write to {path}")
    if path.suffix.lower() not in (".mp4", ".gif"):
        raise LabError(f"cannot write a video to {path}", hint="name the file .mp4 or .gif")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    if path.suffix.lower() == ".mp4":
        imageio.mimwrite(partial, frames, fps=fps, macro_block_size=8)
    else:
        imageio.mimwrite(partial, frames, duration=1.0 / fps)
    os.replace(partial, path)
