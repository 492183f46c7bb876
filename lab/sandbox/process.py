"""Run an untrusted program in its own process, with limits on time per call and on memory.

The parent never trusts the child: replies are plain arrays in the codec's format (no pickle), a call that takes
too long kills the process, and a crash becomes a ProgramError the program's writer can read.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from lab.errors import ProgramError
from lab.sandbox.codec import ALLOWED_DTYPES, decode, encode
from lab.sandbox.lockdown import kernel_lockdown_wanted
from lab.sandbox.rules import ProgramRules, check_program, printable
from lab.sandbox.worker import FRAME_HEADER, read_exactly

Returns = Literal["array", "bool", "value_and_components"]
COMPONENT_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from {module} import main; main()"


@dataclass(frozen=True)
class SandboxLimits:
    """Limits on one sandboxed program."""

    call_seconds: float = 2.0
    """Wall time allowed for one call of the entry function (on a whole batch of envs)."""
    load_seconds: float = 20.0
    """Wall time allowed to start the process and run the program's top level."""
    memory_mb: int = 512
    """Memory the program may allocate beyond the interpreter and numpy."""
    cpu_seconds: int = 3600
    """CPU time the process may use in all (RLIMIT_CPU): a program that burns just under the per-call limit on
    every call is stopped at this total."""
    max_components: int = 32
    """Components a reward program may return (each is logged every step and plotted)."""
    shared_mb: int = 64
    """Shared memory that carries a call's arrays to the program (the batched state) instead of the pipe; its pages
    are used only as they are filled. A call whose arrays do not fit goes through the pipe. 0 turns it off."""


class SharedArrays:
    """A sealed shared-memory region (memfd) that the parent fills with a call's arrays for its worker to read.

    The region's size is sealed (F_SEAL_SHRINK, F_SEAL_GROW), so a worker cannot truncate it under the parent (a
    write past a truncated end would kill the parent with SIGBUS); the worker maps it before any program code runs
    (Python's mmap keeps a duplicate of the descriptor, which the seals make harmless). The parent only writes here
    and never reads back, so whatever a worker writes into the region changes nothing the parent relies on.
    """

    ALIGN = 64

    def __init__(self, size: int) -> None:
        self.size = size
        self.fd = os.memfd_create("lab-sandbox-arrays", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(self.fd, size)
        fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
        self._map = mmap.mmap(self.fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

    def write(self, arrays: Mapping[str, Any]) -> list[tuple[str, str, tuple[int, ...], int]] | None:
        """Copy `arrays` into the region; their layout (name, dtype, shape, offset), or None if they do not fit."""
        prepared = []
        offset = 0
        for name, value in arrays.items():
            array = value if isinstance(value, np.ndarray) else np.asarray(value)
            if array.dtype.str not in ALLOWED_DTYPES:
                array = array.astype(np.float64)
            prepared.append((name, array, offset))
            offset += -(-array.nbytes // self.ALIGN) * self.ALIGN
        if offset > self.size:
            return None
        layout = []
        for name, array, start in prepared:
            target = np.frombuffer(self._map, dtype=array.dtype, count=array.size, offset=start)
            target[...] = array.reshape(-1)
            layout.append((name, array.dtype.str, tuple(array.shape), start))
        return layout

    def close(self) -> None:
        if not self._map.closed:
            self._map.close()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


SPIN_SECONDS = 0.0005
"""How long a caller polls for a reply before sleeping on it: a reply usually comes within this, and waking a
sleeping process costs more than polling on the machines we measured (a VM's cross-core wake-ups)."""


def _wait_readable(fd: int, timeout: float) -> bool:
    spin_until = time.perf_counter() + min(SPIN_SECONDS, timeout)
    while True:
        if select.select([fd], [], [], 0)[0]:
            return True
        if time.perf_counter() >= spin_until:
            break
    return bool(select.select([fd], [], [], timeout)[0])


MAX_REPLY_BYTES = 64 * 2**20
"""The largest reply the parent reads from a worker; a longer frame kills the worker unread."""

STATUSES = frozenset({"ready", "ok", "error"})


SHAPE_HINT = ("return one value per env: the reward and every component of shape (n,); reduce an (n, k) array over "
              "its last axis (e.g. np.sum(x, axis=-1)) and build every term from the batched state")

class FrameTooLong(ValueError):
    """A frame whose announced length is over the parent's limit (it is not read)."""


SEND_SECONDS = 30.0
"""How long the parent waits for a worker to take a request off the pipe (it reads every request whole at once)."""


def _write_frame_before(fd: int, payload: bytes, deadline: float) -> None:
    """Write one frame, all of it before `deadline` (TimeoutError otherwise): a worker that stops reading cannot
    block the parent on a full pipe."""
    os.set_blocking(fd, False)
    view = memoryview(FRAME_HEADER.pack(len(payload)) + payload)
    while view:
        left = deadline - time.perf_counter()
        if left <= 0 or not select.select([], [fd], [], left)[1]:
            raise TimeoutError
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            continue


def _read_frame_before(fd: int, deadline: float, max_bytes: int) -> bytes | None:
    """One length-prefixed frame, all of it before `deadline` (TimeoutError otherwise: a worker that sends half a
    frame and stops cannot hang the parent); None when the worker closed the channel."""
    head = read_exactly(fd, FRAME_HEADER.size, deadline)
    if head is None:
        return None
    (length,) = FRAME_HEADER.unpack(head)
    if length > max_bytes:
        raise FrameTooLong(f"a reply of {length:,} bytes, over the limit of {max_bytes:,}")
    return read_exactly(fd, length, deadline)


def _spawn(module: str, stdin: int, stdout: int, passed: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    """A worker: isolated Python, an empty environment, `/` as its directory, a session of its own."""
    return subprocess.Popen(
        [sys.executable, "-I", "-c", _BOOT.format(module=module), _PACKAGE_ROOT],
        stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL, cwd="/", pass_fds=passed, start_new_session=True,
        env={"PATH": os.defpath, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill a worker with its whole session (anything it might have started goes too) and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


class WorkerProcess:
    """A locked-down worker process (`boot` names its module) talking length-prefixed codec messages.

    The worker runs in a session of its own and is killed with its whole process group. Nothing it sends is
    trusted: a reply that does not come within its time limit, is longer than `max_reply_bytes`, does not decode,
    or carries no known status kills the worker and becomes a ProgramError; so does a dead worker.
    """

    def __init__(self, kind: str, boot: str, setup: Mapping[str, Any], load_seconds: float, memory_mb: int,
                 cpu_seconds: int = 3600, max_reply_bytes: int = MAX_REPLY_BYTES,
                 program_process: bool = False, shared: SharedArrays | None = None) -> None:
        self.kind = kind
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.max_reply_bytes = max_reply_bytes
        self._companion: subprocess.Popen[bytes] | None = None
        setup = {**setup, "kernel_lockdown": kernel_lockdown_wanted(), "cpu_seconds": cpu_seconds}
        passed: tuple[int, ...] = ()
        if program_process:  # the skill's code runs apart from the simulation: two pipes join the two workers
            to_program, from_program = os.pipe(), os.pipe()
            self._companion = _spawn("lab.sandbox.program_worker", stdin=to_program[0], stdout=from_program[1])
            os.close(to_program[0])
            os.close(from_program[1])
            passed = (from_program[0], to_program[1])
            setup["program_channel"] = list(passed)
        if shared is not None:
            setup["shared"] = [shared.fd, shared.size]
        shared_fds = (shared.fd,) if shared is not None else ()
        self._process: subprocess.Popen[bytes] | None = _spawn(boot, subprocess.PIPE, subprocess.PIPE,
                                                                passed + shared_fds)
        for descriptor in passed:
            os.close(descriptor)
        _, meta = self.exchange(encode({}, setup), load_seconds, "loading")
        if meta.get("status") != "ready":
            self.close()
            raise ProgramError(f"the {kind} failed while loading: {meta.get('error')}")

    @property
    def alive(self) -> bool:
        processes = [self._process, self._companion] if self._companion is not None else [self._process]
        return all(process is not None and process.poll() is None for process in processes)

    def exchange(self, message: bytes, timeout: float, what: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        self.send(message, what)
        return self.receive(timeout, what)

    def send(self, message: bytes, what: str) -> None:
        process = self._process
        if process is None:
            raise ProgramError(f"the {self.kind}'s sandbox is not running (it was stopped earlier)")
        assert process.stdin is not None
        try:
            _write_frame_before(process.stdin.fileno(), message, time.perf_counter() + SEND_SECONDS)
        except (BrokenPipeError, ConnectionResetError):
            self._died(what)
        except TimeoutError:
            self.close()
            raise ProgramError(f"the {self.kind} was stopped: it stopped reading its requests ({what})") from None

    def receive(self, timeout: float, what: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        process = self._process
        if process is None:
            raise ProgramError(f"the {self.kind}'s sandbox is not running (it was stopped earlier)")
        assert process.stdout is not None
        channel = process.stdout.fileno()
        deadline = time.perf_counter() + timeout
        try:
            if not _wait_readable(channel, timeout):
                raise TimeoutError
            reply = _read_frame_before(channel, deadline, self.max_reply_bytes)
        except TimeoutError:
            self.close()
            raise ProgramError(
                f"the {self.kind} was stopped: {what} took longer than its limit of {timeout:g} s",
                hint="a loop that never ends, or far too much work per call",
            ) from None
        except ConnectionResetError:
            reply = None
        except FrameTooLong as error:
            self.close()
            raise ProgramError(f"the {self.kind} was stopped: during {what} it sent {error}") from None
        if reply is None:
            self._died(what)
        assert reply is not None
        try:
            arrays, meta = decode(reply)
        except Exception as error:  # any malformed reply, whatever part of the decoder it trips
            self.close()
            raise ProgramError(f"the {self.kind} was stopped: during {what} it sent a malformed reply "
                               f"({type(error).__name__})") from None
        status = meta.get("status")
        if status not in STATUSES or (status == "error" and not isinstance(meta.get("error"), str)):
            self.close()
            raise ProgramError(f"the {self.kind} was stopped: during {what} it sent a reply with no valid status")
        if status == "error":
            meta["error"] = printable(meta["error"])
        return arrays, meta

    def _died(self, what: str) -> None:
        process = self._process
        self.close()  # kill first (a worker that closed its channel may still be running), then read how it ended
        code = process.returncode if process is not None and process.returncode is not None else 0
        if code == -signal.SIGSYS:
            raise ProgramError(f"the {self.kind} was stopped by the kernel during {what}: it made a system call the "
                               "sandbox forbids (running commands, starting processes, sockets, ptrace, signals "
                               "to other processes)", hint="a program computes with numpy; it reaches nothing else")
        if code == -signal.SIGXCPU:
            raise ProgramError(f"the {self.kind} was stopped during {what}: it used up its CPU time of "
                               f"{self.cpu_seconds} s", hint="a program must do its work in far less time per call")
        cause = f"signal {-code}" if code < 0 else f"exit code {code}"
        raise ProgramError(f"the {self.kind}'s process died during {what} ({cause})",
                           hint=f"it may have exceeded its memory limit ({self.memory_mb} MiB) or tried "
                                "something the sandbox forbids")

    def close(self) -> None:
        companion, self._companion = self._companion, None
        if companion is not None:
            _kill(companion)
        process, self._process = self._process, None
        if process is None:
            return
        _kill(process)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def __del__(self) -> None:
        if hasattr(self, "_process"):
            self.close()


class Sandbox:
    """One program loaded in a locked-down process; call its entry function with arrays, get arrays back."""

    def __init__(self, source: str, rules: ProgramRules, *, returns: Returns = "array",
                 params: Mapping[str, Any] | None = None, limits: SandboxLimits | None = None) -> None:
        check_program(source, rules)
        self.rules = rules
        self.returns = returns
        self.limits = limits or SandboxLimits()
        self.calls = 0
        self._pending = False
        self._component_names: frozenset[str] | None = None
        setup = {"source": source, "entry": rules.entry, "memory_mb": self.limits.memory_mb,
                 "modules": sorted(rules.modules), "params": dict(params or {})}
        self._shared = SharedArrays(self.limits.shared_mb * 2**20) if self.limits.shared_mb > 0 else None
        try:
            self._worker = WorkerProcess(rules.kind, "lab.sandbox.worker", setup, self.limits.load_seconds,
                                         self.limits.memory_mb, self.limits.cpu_seconds, shared=self._shared)
        except BaseException:
            if self._shared is not None:
                self._shared.close()
            raise

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self._worker.alive

    def call(self, **args: np.ndarray | Mapping[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Call the entry function with `args` in the rules' order; returns its value and its components."""
        self.submit(**args)
        return self.collect()

    def submit(self, **args: np.ndarray | Mapping[str, np.ndarray]) -> None:
        """Send a call without waiting for it, so the caller can work while the program runs; then `collect()`."""
        if self._pending:
            raise RuntimeError("collect() the previous call before submitting another")
        arrays: dict[str, Any] = {}
        for name, value in args.items():
            if isinstance(value, Mapping):
                arrays.update({f"{name}/{key}": item for key, item in value.items()})
            else:
                arrays[name] = value
        self.calls += 1
        meta: dict[str, Any] = {"args": list(args), "returns": self.returns}
        layout = self._shared.write(arrays) if self._shared is not None else None
        if layout is not None:
            arrays, meta["shared"] = {}, layout
        self._worker.send(encode(arrays, meta), f"call {self.calls}")
        self._pending = True

    def collect(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The result of the submitted call (its value and components), or a ProgramError saying what went wrong."""
        if not self._pending:
            raise RuntimeError("nothing was submitted")
        self._pending = False
        values, meta = self._worker.receive(self.limits.call_seconds, f"call {self.calls}")
        if meta.get("status") != "ok":
            raise ProgramError(f"the {self.rules.kind} raised on call {self.calls}: {meta.get('error')}")
        components = {key[2:]: value for key, value in values.items() if key.startswith("c/")}
        problem = self._reply_problem(values, components)
        if problem:
            hint = (SHAPE_HINT if problem.startswith("components whose shape") else
                    f"return at most {self.limits.max_components} components, named with letters, digits and "
                    "_ . - (64 at most), the same names on every call, each an array with one value per env")
            raise ProgramError(f"the {self.rules.kind} returned {problem} on call {self.calls}", hint=hint)
        return values["value"], components

    def _reply_problem(self, values: dict[str, np.ndarray], components: dict[str, np.ndarray]) -> str | None:
        """What is wrong with a reply's arrays (checked here: the worker's own checks ran under the program)."""
        if "value" not in values or any(k != "value" and not k.startswith("c/") for k in values):
            return "a reply without its value"
        if len(components) > self.limits.max_components:
            return f"{len(components)} components, over the limit of {self.limits.max_components}"
        bad = [name for name in components if not COMPONENT_NAME.fullmatch(name)]
        if bad:
            return f"a component name that is not allowed: {printable(bad[0])[:80]!r}"
        if self._component_names is None:
            self._component_names = frozenset(components)
        elif frozenset(components) != self._component_names:
            return "other component names than on its first call"
        shape = values["value"].shape
        misfits = [f"{name!r} {value.shape}" + (" (one number for all envs)" if value.shape == () else "")
                   for name, value in components.items() if value.shape != shape]
        if misfits:
            return f"components whose shape is not the reward's {shape}: {', '.join(misfits)}"
        return None

    def close(self) -> None:
        self._worker.close()
        if self._shared is not None:
            self._shared.close()
