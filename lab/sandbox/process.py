"""Run an untrusted program in its own process, with limits on time per call and on memory.

The parent never trusts the child: replies are plain arrays in the codec's format (no pickle), a call that takes
too long kills the process, and a crash becomes a ProgramError the program's writer can read.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from lab.sandbox.codec import decode, encode
from lab.sandbox.rules import ProgramError, ProgramRules, check_program
from lab.sandbox.worker import read_frame, write_frame

Returns = Literal["array", "bool", "value_and_components"]
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from lab.sandbox.worker import main; main()"


@dataclass(frozen=True)
class SandboxLimits:
    """Limits on one sandboxed program."""

    call_seconds: float = 2.0
    """Wall time allowed for one call of the entry function (on a whole batch of envs)."""
    load_seconds: float = 20.0
    """Wall time allowed to start the process and run the program's top level."""
    memory_mb: int = 512
    """Memory the program may allocate beyond the interpreter and numpy."""


class Sandbox:
    """One program loaded in a locked-down process; call its entry function with arrays, get arrays back."""

    def __init__(self, source: str, rules: ProgramRules, *, returns: Returns = "array",
                 params: Mapping[str, Any] | None = None, limits: SandboxLimits | None = None) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        check_program(source, rules)
        self.rules = rules
        self.returns = returns
        self.limits = limits or SandboxLimits()
        self.calls = 0
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, _PACKAGE_ROOT],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd="/",
            env={"PATH": os.defpath, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        )
        setup = {"source": source, "entry": rules.entry, "memory_mb": self.limits.memory_mb,
                 "modules": sorted(rules.modules),
                 "params": {k: v for k, v in (params or {}).items()}}
        reply = self._exchange(encode({}, setup), self.limits.load_seconds, "loading")
        if reply[1].get("status") != "ready":
            self.close()
            raise ProgramError(f"the {rules.kind} failed while loading: {reply[1].get('error')}")

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def call(self, **args: np.ndarray | Mapping[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Call the entry function with `args` in the rules' order; returns its value and its components."""
        arrays: dict[str, Any] = {}
        for name, value in args.items():
            if isinstance(value, Mapping):
                arrays.update({f"{name}/{key}": item for key, item in value.items()})
            else:
                arrays[name] = value
        message = encode(arrays, {"args": list(args), "returns": self.returns})
        self.calls += 1
        values, meta = self._exchange(message, self.limits.call_seconds, f"call {self.calls}")
        if meta.get("status") != "ok":
            raise ProgramError(f"the {self.rules.kind} raised on call {self.calls}: {meta.get('error')}")
        components = {key[2:]: value for key, value in values.items() if key.startswith("c/")}
        return values["value"], components

    def _exchange(self, message: bytes, timeout: float, what: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        process = self._process
        if process is None or process.poll() is not None:
            raise ProgramError(f"the {self.rules.kind}'s sandbox is not running (it was stopped earlier)")
        assert process.stdin is not None and process.stdout is not None
        try:
            write_frame(process.stdin.fileno(), message)
            ready, _, _ = select.select([process.stdout], [], [], timeout)
            if not ready:
                self.close()
                raise ProgramError(
                    f"the {self.rules.kind} was stopped: {what} took longer than its limit of {timeout:g} s",
                    hint="a loop that never ends, or far too much work per call: keep the program vectorised "
                         "over the batch",
                )
            reply = read_frame(process.stdout.fileno())
        except (BrokenPipeError, ConnectionResetError):
            reply = None
        if reply is None:
            code = process.wait(timeout=5)
            self.close()
            cause = f"signal {-code}" if code < 0 else f"exit code {code}"
            raise ProgramError(f"the {self.rules.kind}'s process died during {what} ({cause})",
                               hint="it may have exceeded its memory limit "
                                    f"({self.limits.memory_mb} MiB) or tried something the sandbox forbids")
        return decode(reply)

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def __del__(self) -> None:
        self.close()
