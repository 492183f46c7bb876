"""The sandbox process for skill programs: it owns a world env, runs a skill on seeded episodes, and reports.

Started by `lab.skills.runtime.SkillRunner`. The world and its env (and the renderer, when frames are wanted) are
set up first; then the process locks itself down exactly as the reward sandbox does (memory limit, no file writes,
no free file descriptors, empty environment) before any skill code is compiled or run. Skills see the robot only
through its public methods, so a skill cannot reach the simulator or lift its own step budget.
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable
from pathlib import Path
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
from lab.skills.policy import NumpyPolicy
from lab.worlds.core import as_batch, read_state
from lab.worlds.robot import CATCHABLE, ProgramOutcome, RobotError
from lab.worlds.written_tasks import TASK_PROGRAM_FILE, compiled_task


def robot_facade(robot: Any) -> types.SimpleNamespace:
    """Only the robot's public methods (its documented API), bound to it. The robot itself rides along under a
    private name, which skill programs cannot reach (the rules refuse `_` attributes) but policy skills use."""
    methods = {name: getattr(robot, name) for name in dir(type(robot))
               if not name.startswith("_") and callable(getattr(type(robot), name))}
    return types.SimpleNamespace(**methods, _robot=robot)


class PolicySkillFailed(RobotError):
    """A policy skill ran out of steps before its task's success check held."""


def policy_skill(world: Any, name: str, policy: NumpyPolicy, task: Any) -> Callable[..., bool]:
    """A policy skill as a function code skills call: `NAME(robot, max_steps=..., until_success=True) -> bool`.

    It acts from the world's observation through the robot (so steps count against the caller's budget) for
    `max_steps` steps, or until its own task's success check holds; it returns whether that check holds, and with
    `until_success` it raises when the check never held, saying so in words.
    """

    def run(robot: Any, max_steps: int = task.horizon, until_success: bool = True) -> bool:
        real = robot._robot

        def succeeded() -> bool:
            return bool(task.success(as_batch(read_state(real.env)))[0])

        for _ in range(max(0, int(max_steps))):
            if until_success and succeeded():
                return True
            real._act(policy.act(world.observe(real.env)))
        if until_success and not succeeded():
            raise PolicySkillFailed(f"policy skill {name} ran {int(max_steps)} steps and its task {task.id} did not "
                                    "succeed")
        return succeeded()

    return run


def load_skills(skills: list[dict[str, Any]], world: Any) -> dict[str, Callable[..., Any]]:
    """Compile each code skill in its own namespace and wrap each policy skill (its policy already loaded);
    every skill can call every other by name."""
    namespaces: dict[str, dict[str, Any]] = {}
    functions: dict[str, Callable[..., Any]] = {}
    for skill in skills:
        name = skill["name"]
        if "policy" in skill:
            functions[name] = policy_skill(world, name, skill["policy"], world.task(skill["task"]))
            continue
        source = skill["source"]
        namespace = program_globals({error.__name__: error for error in CATCHABLE}, SAFE_MODULES)
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
    task_files = (TASK_PROGRAM_FILE,) if meta.get("task_program") else ()
    files = (*(f"<skill {s['name']}>" for s in meta["skills"]), *task_files)
    try:
        os.environ["LAB_ENVS_PATH"] = os.pathsep.join(meta.get("envs_path", []))
        if meta.get("mujoco_gl"):
            os.environ["MUJOCO_GL"] = str(meta["mujoco_gl"])
        from lab.worlds.registry import get_world

        world = get_world(str(meta["world"]))
        spec = meta.get("task_program")
        task = None if spec else world.task(str(meta["task"]))
        render = bool(meta.get("render"))
        env = world.make_env(task, seed=0, render_mode="rgb_array" if render else None)
        env.reset()
        if render:
            env.render()
        skills = [{**s, "policy": NumpyPolicy.load(Path(s["policy"]))} if s.get("kind") == "policy" else s
                  for s in meta["skills"]]
        memory_mb = int(meta.get("memory_mb", 0))
        lock_down(address_space() + memory_mb * 2**20 if memory_mb else 0, channel_out,
                  kernel=bool(meta.get("kernel_lockdown", True)), cpu_seconds=int(meta.get("cpu_seconds", 0)))
        if spec:
            task = compiled_task(spec, program_globals({}, SAFE_MODULES), compile_program, world.name)
        functions = load_skills(skills, world)
    except BaseException as error:  # a failing setup or program is reported, never raised
        write_frame(channel_out, encode({}, {"status": "error", "error": describe_exception(error, files)}))
        return
    write_frame(channel_out, encode({}, {"status": "ready"}))
    entry = functions.get(str(meta.get("entry")))
    if entry is not None and world.robot(env) is None:
        entry_policy = next(s["policy"] for s in skills if s["name"] == meta["entry"])
        entry = functools.partial(play_policy, world, task, env, entry_policy)
    params, max_steps, every = dict(meta.get("params", {})), int(meta.get("max_steps", 3000)), int(
        meta.get("frame_every", 2))
    while True:
        request = read_frame(channel_in)
        if request is None:
            return
        _, ask = decode(request)
        run_entry, run_params, run_files = entry, params, files
        if "program" in ask:
            program = ask["program"]
            run_files = (*(f"<skill {s['name']}>" for s in program["skills"]), *task_files)
            try:
                loaded = load_skills([s for s in program["skills"] if "source" in s], world)
                loaded.update({n: f for n, f in functions.items() if n not in loaded})
                run_entry, run_params = loaded[str(program["entry"])], dict(program["params"])
            except BaseException as error:  # a program that fails to load is this episode's outcome
                write_frame(channel_out, encode({}, {"status": "error",
                                                     "error": describe_exception(error, run_files)}))
                continue
        assert run_entry is not None
        judge = task
        if "task" in ask:  # judged by another binding of the world's tasks (a skill verified across parameters)
            try:
                judge = world.task(str(ask["task"]))
            except Exception as error:  # a wrong task is this episode's outcome
                write_frame(channel_out, encode({}, {"status": "error", "error": describe_exception(error, ())}))
                continue
        try:
            result, frames = run_episode(world, judge, env, run_entry, int(ask["seed"]), params=run_params,
                                         max_steps=max_steps, render=render, every=every, files=run_files)
        except Exception as error:  # the task's own program failing to judge is this episode's outcome too
            result, frames = {"status": "error", "error": describe_exception(error, run_files)}, []
        if ask.get("state") and result["status"] == "ok":
            result["state"] = {k: np.round(np.asarray(v, dtype=float), 3).tolist() for k, v in read_state(env).items()}
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
    if isinstance(entry, functools.partial) and entry.func is play_policy:
        outcome = entry(max_steps=int(params.get("max_steps", max_steps)),
                        until_success=bool(params.get("until_success", True)),
                        on_step=capture if render else None)
        return {"status": "ok", **vars(outcome)}, frames
    outcome = play_program(world, task, env, lambda robot, **values: entry(robot_facade(robot), **values), params,
                           max_steps=max_steps, on_step=capture if render else None,
                           describe=lambda error: describe_exception(error, files))
    return {"status": "ok", **vars(outcome)}, frames


def play_policy(world: Any, task: Any, env: Any, policy: NumpyPolicy, *, max_steps: int, until_success: bool,
                on_step: Callable[[int], None] | None = None) -> ProgramOutcome:
    """A policy skill's episode in a world without a robot API (locomotion): act from each observation until the
    episode ends, the step budget runs out or (with `until_success`) the task's success check holds."""
    observation = world.observe(env)
    successes: list[bool] = []
    fitness: list[float] = []
    steps = 0
    while steps < max_steps:
        observation, _, terminated, truncated, _ = env.step(policy.act(observation))
        steps += 1
        state = as_batch(read_state(env))
        successes.append(bool(task.success(state)[0]))
        fitness.append(float(task.fitness(state)[0]))
        if on_step is not None:
            on_step(steps)
        if terminated or truncated or (until_success and successes[-1]):
            break
    return ProgramOutcome(bool(task.episode_success(np.array(successes))),
                          float(task.episode_fitness(np.array(fitness))), steps)


if __name__ == "__main__":
    main()
