"""The simulation process for skill programs: it owns a world env, plays skills on seeded episodes, judges them,
and reports.

Started by `lab.skills.runtime.SkillRunner` and `ProgramPlayer`, beside a program process
(lab/sandbox/program_worker.py) where the skill code itself runs. The world and its env (and the renderer, when
frames are wanted) are set up first; then this process locks itself down exactly as the reward sandbox does
(memory limit, no file writes, no free file descriptors, empty environment, the kernel's filter). The skill's
robot calls arrive as requests from the program process and are answered with the robot's public methods only;
the task's success check and fitness run here, where the program cannot reach, on a simulation it can change only
through those methods. Policy skills (trusted numpy arrays) and task programs run here too.
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lab.policy import NumpyPolicy
from lab.sandbox.codec import decode, encode
from lab.sandbox.rules import SAFE_MODULES, printable
from lab.sandbox.worker import (
    address_space,
    compile_program,
    describe_exception,
    lock_down,
    open_channel,
    program_globals,
    read_frame,
    start_watching_parent,
    write_frame,
)
from lab.worlds.core import as_batch, read_state
from lab.worlds.registry import get_world
from lab.worlds.robot import ProgramOutcome, RobotError, play_program
from lab.worlds.written_tasks import TASK_PROGRAM_FILE, compiled_task


def robot_facade(robot: Any) -> types.SimpleNamespace:
    """Only the robot's public methods (its documented API), bound to it. The robot itself rides along under a
    private name, which skill programs cannot reach (the rules refuse `_` attributes) but policy skills use."""
    return types.SimpleNamespace(**{name: getattr(robot, name) for name in robot_methods(robot)}, _robot=robot)


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


def load_policies(skills: list[dict[str, Any]], world: Any) -> dict[str, Callable[..., Any]]:
    """Each policy skill (its policy already loaded) as a function of the robot; code skills run elsewhere."""
    return {s["name"]: policy_skill(world, s["name"], s["policy"], world.task(s["task"])) for s in skills
            if "policy" in s}


MAX_PROGRAM_FRAME = 16 * 2**20
"""The largest message read from the program process; a longer one counts as the program dying."""


class ProgramFailed(Exception):
    """The skill program raised, or its process died; the text is already worded for its writer."""


class ProgramProcess:
    """The episode worker's side of the program process (lab/sandbox/program_worker.py): it sends the skills to
    play and answers the program's robot requests with the real robot, trusting nothing the program sends."""

    def __init__(self, reader: int, writer: int, setup: dict[str, Any]) -> None:
        self.reader, self.writer = reader, writer
        self.dead = False
        self._send(encode({}, setup))
        self._outcome(None, {})

    def _receive(self) -> dict[str, Any]:
        body = read_frame(self.reader, MAX_PROGRAM_FRAME)
        try:
            if body is None:
                raise ValueError
            _, meta = decode(body)
        except Exception:  # a dead, silent or garbling program process: the episode's outcome, and no more episodes
            self.dead = True
            raise ProgramFailed("the skill's process died (stopped by the kernel for a forbidden system call, out "
                                "of memory, or it broke its channel)") from None
        return meta

    def load(self, skills: list[dict[str, Any]], policies: list[str]) -> None:
        """Compile the skills in the program process (raising ProgramFailed with what went wrong)."""
        self._send(encode({}, {"skills": skills, "policies": policies, "entry": None, "params": {}}))
        self._outcome(None, {})

    def program(self, skills: list[dict[str, Any]], entry: str,
                policies: dict[str, Callable[..., Any]]) -> Callable[..., None]:
        """`program(robot, **params)` for play_program: the skill runs in the program process, each of its robot
        calls answered here on `robot`."""

        def play(robot: Any, **params: Any) -> None:
            self._send(encode({}, {"skills": skills, "policies": sorted(policies), "entry": entry, "params": params}))
            self._outcome(robot_facade(robot), policies)

        return play

    def _outcome(self, facade: Any, policies: Mapping[str, Callable[..., Any]]) -> None:
        while True:
            message = self._receive()
            if message.get("done"):
                if message.get("error"):
                    raise ProgramFailed(printable(str(message["error"]))[:2000])
                return
            try:
                self._answer(facade, policies, message)
            except ProgramFailed:
                raise
            except Exception as error:  # an answer that could not be sent: the two sides would fall out of step
                self.dead = True
                raise ProgramFailed(f"the skill's robot call could not be answered ({type(error).__name__})") from None

    def _answer(self, facade: Any, policies: Mapping[str, Callable[..., Any]], message: dict[str, Any]) -> None:
        name, args, kwargs = message.get("call"), message.get("args", []), message.get("kwargs", {})
        arrays: dict[str, np.ndarray] = {}
        reply: dict[str, Any]
        try:
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise TypeError("a robot call's arguments must be a list and a mapping")
            if isinstance(name, str) and name in policies:
                value = policies[name](facade, *args, **kwargs)
            elif isinstance(name, str) and not name.startswith("_") and hasattr(facade, name):
                value = getattr(facade, name)(*args, **kwargs)
            else:
                raise UnknownRobotMethod(f"the robot has no method {str(name)[:80]!r}")
            if isinstance(value, np.ndarray):
                arrays, reply = {"value": value}, {}
            else:
                reply = {"value": value if value is None or isinstance(value, bool | int | float | str) else
                         np.asarray(value).tolist()}
        except Exception as error:  # the robot's errors go back to the program, which may catch them
            text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
            reply = {"raise": type(error).__name__, "message": text}
        self._send(encode(arrays, reply))

    def _send(self, message: bytes) -> None:
        """A message to the program process; its death is the episode's outcome, and the end of this worker."""
        try:
            write_frame(self.writer, message)
        except OSError:
            self.dead = True
            raise ProgramFailed("the skill's process died (stopped by the kernel for a forbidden system call, out "
                                "of memory, or it broke its channel)") from None


class UnknownRobotMethod(RobotError):
    """A program asked the robot for something that is not one of its public methods."""


def entry_of(policy: Callable[..., Any]) -> Callable[..., Any]:
    """A policy skill played as an episode's entry, given the robot's public methods only."""
    return lambda robot, **values: policy(robot_facade(robot), **values)


def robot_methods(robot: Any) -> list[str]:
    """The robot's public methods: its documented API, and all a program can ask for."""
    return [name for name in dir(type(robot)) if not name.startswith("_") and callable(getattr(type(robot), name))]


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
        start_watching_parent()
        if spec:
            task = compiled_task(spec, program_globals({}, SAFE_MODULES), compile_program, world.name)
        functions = load_policies(skills, world)
        code_skills = [{"name": s["name"], "source": s["source"]} for s in skills if "source" in s]
        program_process: ProgramProcess | None = None
        if "program_channel" in meta:
            reader, writer = (int(fd) for fd in meta["program_channel"])
            program_process = ProgramProcess(reader, writer, {
                "modules": meta.get("program_modules", sorted(SAFE_MODULES)), "memory_mb": memory_mb,
                "cpu_seconds": int(meta.get("cpu_seconds", 0)), "methods": robot_methods(world.robot(env)),
                "kernel_lockdown": bool(meta.get("kernel_lockdown", True)), "policies": sorted(functions)})
            if code_skills:
                program_process.load(code_skills, sorted(functions))
    except BaseException as error:  # a failing setup or program is reported, never raised
        write_frame(channel_out, encode({}, {"status": "error", "error": describe_exception(error, files)}))
        return
    write_frame(channel_out, encode({}, {"status": "ready"}))
    entry = functions.get(str(meta.get("entry")))
    if entry is not None and world.robot(env) is None:
        entry_policy = next(s["policy"] for s in skills if s["name"] == meta["entry"])
        entry = functools.partial(play_policy, world, task, env, entry_policy)
    elif entry is not None:
        entry = entry_of(entry)
    elif program_process is not None and meta.get("entry"):
        entry = program_process.program(code_skills, str(meta["entry"]), functions)
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
            sources = [{"name": s["name"], "source": s["source"]} for s in program["skills"] if "source" in s]
            run_params = dict(program["params"])
            if str(program["entry"]) in functions:
                run_entry = entry_of(functions[str(program["entry"])])
            elif program_process is not None:
                run_entry = program_process.program(sources, str(program["entry"]), functions)
            else:
                write_frame(channel_out, encode({}, {"status": "error", "error": "no program process"}))
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
        if program_process is not None and program_process.dead:
            result["restart"] = True  # the program process is gone: the parent starts both workers again
        write_frame(channel_out, encode({"frames": np.stack(frames)} if frames else {}, result))
        if result.get("restart"):
            return


def run_episode(world: Any, task: Any, env: Any, entry: Callable[..., Any], seed: int, *, params: dict[str, Any],
                max_steps: int, render: bool, every: int,
                files: tuple[str, ...]) -> tuple[dict[str, Any], list[np.ndarray]]:
    """One seeded episode of the skill, given only the robot's public methods; the frames when rendering."""
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
    outcome = play_program(world, task, env, entry, params, max_steps=max_steps, on_step=capture if render else None,
                           describe=lambda error: str(error) if isinstance(error, ProgramFailed) else
                           describe_exception(error, files))
    return {"status": "ok", **vars(outcome)}, frames


def play_policy(world: Any, task: Any, env: Any, policy: NumpyPolicy, *, max_steps: int, until_success: bool,
                on_step: Callable[[int], None] | None = None) -> ProgramOutcome:
    """A policy skill's episode in a world without a robot API (locomotion): act from each observation until the
    episode ends, the step budget runs out or (with `until_success`) the task's success check holds."""
    observation = world.observe(env)
    successes: list[np.ndarray] = []
    fitness: list[float] = []
    steps = 0
    while steps < max_steps:
        observation, _, terminated, truncated, _ = env.step(policy.act(observation))
        steps += 1
        state = as_batch(read_state(env))
        successes.append(task.step_success(state)[0])
        fitness.append(float(task.fitness(state)[0]))
        if on_step is not None:
            on_step(steps)
        if terminated or truncated or (until_success and bool(np.all(successes[-1]))):
            break
    return ProgramOutcome(bool(task.episode_success(np.array(successes))),
                          float(task.episode_fitness(np.array(fitness))), steps)


if __name__ == "__main__":
    main()
