"""The sandbox process for skill programs: it owns a world env, runs a skill on seeded episodes, and reports.

Started by `lab.skills.runtime.SkillRunner`. The world and its env (and the renderer, when frames are wanted) are
set up first; then the process locks itself down exactly as the reward sandbox does (memory limit, no file writes,
no free file descriptors, empty environment) before any skill code is compiled or run. Skills see the robot only
through its public methods, so a skill cannot reach the simulator or lift its own step budget.
"""

from __future__ import annotations

import linecache
import os
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from lab.sandbox.codec import decode, encode
from lab.sandbox.rules import SAFE_MODULES
from lab.sandbox.worker import (
    address_space,
    describe_exception,
    lock_down,
    open_channel,
    program_globals,
    read_frame,
    write_frame,
)

SETTLE_STEPS = 10
"""Steps the world runs after a skill returns, so what it set down comes to rest before success is judged."""


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
        filename = f"<skill {name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = program_globals({}, SAFE_MODULES)
        exec(compile(source, filename, "exec"), namespace)
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
        from lab.worlds.core import read_state
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
        result, frames = run_episode(world, task, env, entry, int(ask["seed"]), read_state, params=params,
                                     max_steps=max_steps, render=render, every=every, files=files)
        write_frame(channel_out, encode({"frames": np.stack(frames)} if frames else {}, result))


def run_episode(world: Any, task: Any, env: Any, entry: Callable[..., Any], seed: int,
                read_state: Callable[[Any], dict[str, np.ndarray]], *, params: dict[str, Any], max_steps: int,
                render: bool, every: int, files: tuple[str, ...]) -> tuple[dict[str, Any], list[np.ndarray]]:
    """One seeded episode of the skill: the task's episode success and fitness, the steps used, the error."""
    env.reset(seed=seed)
    robot = world.robot(env)
    if robot is None:
        return {"status": "error", "error": f"world {world.name} has no robot API for code skills"}, []
    successes: list[bool] = []
    fitness: list[float] = []
    frames: list[np.ndarray] = []

    def record() -> None:
        state = {k: np.asarray(v)[None] for k, v in read_state(env).items()}
        successes.append(bool(task.success(state)[0]))
        fitness.append(float(task.fitness(state)[0]))
        if render and robot.steps % every == 0:
            frames.append(np.asarray(env.render(), dtype=np.uint8))

    robot.max_steps, robot.on_step = max_steps, record
    if render:
        frames.append(np.asarray(env.render(), dtype=np.uint8))
    error = ""
    try:
        entry(robot_facade(robot), **params)
    except BaseException as failure:  # a failing skill is an answer, not a crash
        error = describe_exception(failure, files)
    try:
        robot.max_steps = None
        robot.wait(SETTLE_STEPS)
    except Exception as failure:  # the world itself failing is reported the same way
        error = error or describe_exception(failure, files)
    if not successes:
        record()
    result = {"status": "ok", "success": bool(task.episode_success(np.array(successes))),
              "fitness": float(task.episode_fitness(np.array(fitness))), "steps": robot.steps, "error": error}
    return result, frames


if __name__ == "__main__":
    main()
