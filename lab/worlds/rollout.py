"""A skill program's seeded episode, rendered offscreen for a video."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lab.video import VIDEO_FPS
from lab.worlds.core import Task, World
from lab.worlds.robot import ProgramOutcome, play_program


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
