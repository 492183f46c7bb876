"""Rollout videos, rendered offscreen (MUJOCO_GL=egl works headless on CPU machines through Mesa)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lab.errors import LabError
from lab.worlds.core import Task, World
from lab.worlds.robot import ProgramOutcome, play_program

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


def render_program(world: World, task: Task, seed: int, program: Callable[..., Any],
                   max_steps: int = 3000) -> tuple[list[Any], ProgramOutcome]:
    """Run a skill program on a seeded episode and render it; returns the frames and how the episode ended."""
    env = world.make_env(task, seed=seed, render_mode="rgb_array")
    frames: list[Any] = []
    try:
        env.reset()
        every = max(1, round(1.0 / (VIDEO_FPS * env.unwrapped.dt)))  # type: ignore[attr-defined]

        def capture(steps: int) -> None:
            if steps % every == 0:
                frames.append(np.asarray(env.render()))

        frames.append(np.asarray(env.render()))
        outcome = play_program(world, task, env, program, task.param_map, max_steps=max_steps, settle=15,
                               on_step=capture)
        if outcome.error:
            frames.append(np.asarray(env.render()))
    finally:
        env.close()
    return frames, outcome
