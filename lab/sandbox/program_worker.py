"""The process a skill program runs in, apart from the simulation that judges it.

Started by the parent beside the episode worker (`lab.skills.episode_worker`), with its stdin and stdout joined
to that worker by two pipes: it never talks to the parent. It locks itself down like every sandbox worker, then
plays what the episode worker sends: the skills' sources to compile and the entry to run with its parameters. The
program holds a stand-in robot whose public methods are requests to the episode worker, which owns the world, the
robot, the policy skills and the task's success check. So a program that got past every static rule still has no
simulation to write and no judge to replace: all it can do is ask the robot's public methods.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from lab import errors as robot_errors
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
    start_watching_parent,
    write_frame,
)

RAISABLE: dict[str, type[Exception]] = {
    **{error.__name__: error for error in (*robot_errors.CATCHABLE, robot_errors.StepBudgetExceeded)},
    **{error.__name__: error for error in (TypeError, ValueError, KeyError, IndexError, LookupError, OverflowError,
                                           ZeroDivisionError, ArithmeticError, FloatingPointError, AttributeError,
                                           NotImplementedError, RuntimeError)},
}
"""Errors of the robot's methods raised again in the program, by name; any other becomes a RobotError."""


class RobotChannelClosed(Exception):
    """The episode worker stopped answering (it ended the episode or died)."""


def plain(value: Any) -> Any:
    """An argument as JSON carries it: numbers, strings, lists; numpy arrays and scalars as lists and numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple | range):
        return [plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"a robot method takes numbers, strings and arrays, not {type(value).__name__}")


class RemoteRobot:
    """Stands in for the robot: each public method is a request to the episode worker, answered in order."""

    def __init__(self, channel_in: int, channel_out: int, methods: list[str]) -> None:
        for name in methods:
            setattr(self, name, self._method(name, channel_in, channel_out))

    @staticmethod
    def _method(name: str, channel_in: int, channel_out: int) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            request = encode({}, {"call": name, "args": plain(list(args)),
                                  "kwargs": {key: plain(value) for key, value in kwargs.items()}})
            try:
                write_frame(channel_out, request)
                reply = read_frame(channel_in)
                arrays, meta = decode(reply) if reply is not None else ({}, {"closed": True})
            except BaseException:  # a request without its reply (out of memory, recursion, ...): the two sides
                os._exit(3)  # would fall out of step, so this process ends and the episode worker says so
            if meta.get("closed"):
                raise RobotChannelClosed("the simulation stopped answering")
            if "raise" in meta:
                raise RAISABLE.get(str(meta["raise"]), robot_errors.RobotError)(str(meta.get("message", "")))
            return arrays["value"].copy() if "value" in arrays else meta.get("value")

        call.__name__ = name
        return call

    def __getattr__(self, name: str) -> Any:
        """Only for a name the robot does not have: say so, and list the methods it has."""
        methods = ", ".join(sorted(vars(self)))
        raise AttributeError(f"the robot has no method {name!r}; its methods are: {methods}")


def load_program(skills: list[dict[str, Any]], policies: list[str], robot: RemoteRobot,
                 modules: frozenset[str]) -> dict[str, Callable[..., Any]]:
    """Compile each code skill in its own namespace; every skill can call every other by name, and a policy skill
    is a request to the episode worker."""
    functions: dict[str, Callable[..., Any]] = {name: _policy_call(getattr(robot, name)) for name in policies}
    namespaces = []
    for skill in skills:
        name = skill["name"]
        namespace = program_globals({error.__name__: error for error in robot_errors.CATCHABLE}, modules)
        exec(compile_program(skill["source"], f"<skill {name}>"), namespace)
        if not callable(namespace.get(name)):
            raise NameError(f"skill {name} does not define {name}(robot, ...)")
        namespaces.append(namespace)
        functions[name] = namespace[name]
    for namespace in namespaces:
        for name, function in functions.items():
            namespace.setdefault(name, function)
    return functions


def _policy_call(request: Callable[..., Any]) -> Callable[..., Any]:
    """A policy skill as code skills call it, `NAME(robot, max_steps=..., until_success=True)`: the robot argument
    is the program's stand-in and stays here."""

    def call(robot: Any, *args: Any, **kwargs: Any) -> Any:
        return request(*args, **kwargs)

    return call


def main() -> None:
    channel_in, channel_out = open_channel()
    setup = read_frame(channel_in)
    if setup is None:
        return
    _, meta = decode(setup)
    modules = frozenset(meta.get("modules", SAFE_MODULES))
    for module in modules:
        __import__(module)
    memory_mb = int(meta.get("memory_mb", 0))
    try:
        lock_down(address_space() + memory_mb * 2**20 if memory_mb else 0, channel_out,
                  kernel=bool(meta.get("kernel_lockdown", True)), cpu_seconds=int(meta.get("cpu_seconds", 0)))
        start_watching_parent()
    except BaseException as error:  # a lockdown the kernel refuses is reported, and nothing runs
        write_frame(channel_out, encode({}, {"done": True, "error": describe_exception(error, ())}))
        return
    robot = RemoteRobot(channel_in, channel_out, [*meta["methods"], *meta.get("policies", [])])
    write_frame(channel_out, encode({}, {"done": True, "error": ""}))
    while True:
        request = read_frame(channel_in)
        if request is None:
            return
        files: tuple[str, ...] = ()
        try:
            _, ask = decode(request)
            files = tuple(f"<skill {s['name']}>" for s in ask["skills"])
            functions = load_program(ask["skills"], list(ask.get("policies", [])), robot, modules)
            if ask.get("entry") is not None:  # else the skills were only to be compiled (a check at setup)
                functions[str(ask["entry"])](robot, **dict(ask["params"]))
            outcome = {"done": True, "error": ""}
        except RobotChannelClosed:
            return
        except BaseException as error:  # every failure of untrusted code is the episode's outcome, none escapes
            outcome = {"done": True, "error": describe_exception(error, files)}
        write_frame(channel_out, encode({}, outcome))


if __name__ == "__main__":
    try:
        main()
    except BaseException:  # the episode worker sees the closed pipe and reports it
        raise SystemExit(1) from None
