"""The sandbox process for skill programs: it owns a world env, runs a skill on seeded episodes, and reports.

Started by `lab.skills.runtime.SkillRunner`. The world and its env (and the renderer, when frames are wanted) are
set up first; then the process locks itself down exactly as the reward sandbox does (memory limit, no file writes,
no free file descriptors, empty environment) before any skill code is compiled or run. Skills see the robot only
through its public methods, so a skill cannot reach the simulator or lift its own step budget.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from lab.sandbox.codec import decode, encode
from lab.sandbox.rules import SAFE_MODULES
from lab.sandbox.worker import (
    address_space,
    compile_program,
    describe_exception,
    lock_down,
    open_channel,
    program_globals,
    read_frame,
    write_frame,
)


def robot_facade(robot: Any) -> types.SimpleNamespace:
    """Only the robot's public methods (its documented API), bound to it."""
    methods = {name: getattr(robot, name) for name in dir(type(robot))
               if not name.startswith("_") and callable(getattr(type(robot), name))}
    return types.SimpleNamespace(**methods)


def load_skills(skills: list[dict[str, str]]) -> dict[str, Callable[..., Any]]:
    """Compile each skill in its own namespace; every skill can call every other by name."""
    namespaces: dict[str, dict[str, Any]] = {}
    functions: dict[str, Callable[..., Any]] = {}
    for skill in skills:
        name, source = skill["name"], skill["source"]
        namespace = program_globals({}, SAFE_MODULES)
        exec(compile_program(source, f"<skill {name}>"), namespace)
        if not callable(namespace.get(name)):
            raise NameError(f"skill {name} does not define {name}(robot, ...)")
        namespaces[name], functions[name] = namespace, namespace[name]
    for namespace in namespaces.values():
        for name, function in functions.items():
            namespace.setdefault(name, function)
    return functions


def main() -> None:
    channel_in, channel_out = open_channel()
    setup = read_frame(channel_in)
    if setup is None:
        return
    _, meta = decode(setup)
    files = tuple(f"<skill {s['name']}>" for s in meta["skills"])
    try:
        os.environ["LAB_ENVS_PATH"] = os.pathsep.join(meta.get("envs_path", []))
        if meta.get("mujoco_gl"):
            os.environ["MUJOCO_GL"] = str(meta["mujoco_gl"])
        from lab.worlds.registry import get_world

        world = get_world(str(meta["world"]))
        task = world.task(str(meta["task"]))
        render = bool(meta.get("render"))
        env = world.make_env(task, seed=0, render_mode="rgb_array" if render else None)
        env.reset()
        if render:
            env.render()
        memory_mb = int(meta.get("memory_mb", 0))
        lock_down(address_space() + memory_mb * 2**20 if memory_mb else 0, channel_out)
        functions = load_skills(list(meta["skills"]))
    except BaseException as error:  # a failing setup or program is reported, never raised
        write_frame(channel_out, encode({}, {"status": "error", "error": describe_exception(error, files)}))
        return
    write_frame(channel_out, encode({}, {"status": "ready"}))
    entry = functions[str(meta["entry"])]
    params, max_steps, every = dict(meta.get("params", {})), int(meta.get("max_steps", 3000)), int(
        meta.get("frame_every", 2))
    while True:
        request = read_frame(channel_in)
        if request is None:
            return
        _, ask = decode(request)
        result, frames = run_episode(world, task, env, entry, int(ask["seed"]), params=params,
                                     max_steps=max_steps, render=render, every=every, files=files)
        write_frame(channel_out, encode({"frames": np.stack(frames)} if frames else {}, result))


def run_episode(world: Any, task: Any, env: Any, entry: Callable[..., Any], seed: int, *, params: dict[str, Any],
                max_steps: int, render: bool, every: int,
                files: tuple[str, ...]) -> tuple[dict[str, Any], list[np.ndarray]]:
    """One seeded episode of the skill, given only the robot's public methods; the frames when rendering."""
    from lab.worlds.robot import play_program

    env.reset(seed=seed)
    frames: list[np.ndarray] = []

    def capture(steps: int) -> None:
        if steps % every == 0:
            frames.append(np.asarray(env.render(), dtype=np.uint8))

    if render:
        frames.append(np.asarray(env.render(), dtype=np.uint8))
    outcome = play_program(world, task, env, lambda robot, **values: entry(robot_facade(robot), **values), params,
                           max_steps=max_steps, on_step=capture if render else None,
                           describe=lambda error: describe_exception(error, files))
    return {"status": "ok", **vars(outcome)}, frames


if __name__ == "__main__":
    main()
