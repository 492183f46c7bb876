"""The sandbox process: loads one program under limits and answers calls to its entry function.

Started by `lab.sandbox.process.Sandbox` as `python -I -m lab.sandbox.worker` with an empty environment (no API keys
to read). Before the program is loaded the process limits its own address space, forbids writing files, and
leaves itself no free file descriptors, so a program that got past the static rules still cannot open a file or a
socket. Requests and replies travel as length-prefixed frames on stdin and a private copy of stdout.
"""

from __future__ import annotations

import linecache
import mmap
import os
import resource
import select
import signal
import struct
import sys
import threading
import time
import traceback
from typing import Any

import numpy as np

from lab.sandbox.codec import decode, encode
from lab.sandbox.lockdown import KernelLockdown
from lab.sandbox.rules import SAFE_BUILTINS, SAFE_MODULES

FRAME_HEADER = struct.Struct("<Q")
"""Each frame on the channel: its length in bytes, then the codec's message."""
PROGRAM_FILE = "<program>"


def read_frame(fd: int, max_bytes: int | None = None) -> bytes | None:
    """One length-prefixed frame, or None when the other side has closed the channel or (with `max_bytes`)
    announced a longer frame than that, which is then not read."""
    head = read_exactly(fd, FRAME_HEADER.size)
    if head is None:
        return None
    (length,) = FRAME_HEADER.unpack(head)
    if max_bytes is not None and length > max_bytes:
        return None
    return read_exactly(fd, length)


def write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(FRAME_HEADER.pack(len(payload)) + payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, size: int, deadline: float | None = None) -> bytes | None:
    """`size` bytes from `fd`, or None at the end of the channel; with `deadline` (a perf_counter time), all of them
    before it or TimeoutError, so a writer that stops halfway cannot hang the reader."""
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


PRELOADED = ("numpy.fft", "numpy.ma", "numpy.polynomial")
"""numpy modules that numpy imports lazily (np.median needs numpy.ma, np.fft.fft numpy.fft): imported before the
worker is locked down, since a locked worker opens no file."""


def _importer(allowed: frozenset[str]) -> Any:
    """The program's `__import__`: the allowed modules, and numpy's own submodules already loaded.

    The program's import statements are checked statically; this also serves the imports numpy makes from C on the
    program's behalf (`ndarray.sum` imports `numpy._core._methods`, `str(array)` the array printer), which run
    with the program's builtins. Nothing is ever loaded from disk here: a module not loaded yet is refused."""

    def restricted_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                          level: int = 0) -> Any:
        loaded_numpy = name.startswith("numpy.") and name in sys.modules
        if level or not (name in allowed or loaded_numpy):
            raise ImportError(f"import of {name!r} is not allowed (allowed: {', '.join(sorted(allowed))})")
        return __import__(name, globals, locals, fromlist, level)

    return restricted_import


def program_globals(extra: dict[str, Any], modules: frozenset[str] = SAFE_MODULES) -> dict[str, Any]:
    """The globals a program runs in: the safe builtins, an import that admits only `modules`, and `extra`."""
    import builtins

    safe = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
    safe["__import__"] = _importer(modules)
    return {"__builtins__": safe, "__name__": "program", **extra}


def compile_program(source: str, filename: str = PROGRAM_FILE) -> Any:
    """Compile untrusted source under `filename`, kept in linecache so errors can quote the program's line."""
    code = compile(source, filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return code


def describe_exception(error: BaseException, files: tuple[str, ...] = (PROGRAM_FILE,)) -> str:
    """The exception as the program's writer should see it: type, message, and the line of the program (one of
    `files`, the names its code was compiled under) where it happened."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename in files]
    origin = "" if files == (PROGRAM_FILE,) or not frames else f"{frames[-1].filename.strip('<>')}, "
    where = f" ({origin}line {frames[-1].lineno}: `{frames[-1].line}`)" if frames else ""
    if isinstance(error, MemoryError):
        return f"MemoryError: the program needed more memory than its limit{where}"
    text = str(error).strip()
    return f"{type(error).__name__}{': ' + text if text else ''}{where}"[:2000]


def lock_down(memory_bytes: int, channel_out: int, kernel: bool = True, cpu_seconds: int = 0) -> None:
    """Load what numpy loads lazily, then limit memory and CPU time, forbid file writes, leave no free file
    descriptors, and (with `kernel`) load the seccomp filter of lab/sandbox/lockdown.py."""
    for module in PRELOADED:
        __import__(module)
    kernel_lockdown = KernelLockdown() if kernel else None
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    used = {fd for fd in map(int, os.listdir("/proc/self/fd")) if _is_open(fd)}
    top = max(*used, channel_out)
    for fd in range(top):
        if fd not in used:
            filler = os.open(os.devnull, os.O_RDONLY)
            if filler != fd:
                os.close(filler)
    resource.setrlimit(resource.RLIMIT_NOFILE, (top + 1, top + 1))
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    if kernel_lockdown is not None:
        kernel_lockdown.apply()


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(3)


def open_channel() -> tuple[int, int]:
    """Take stdin and stdout as the private channel; send anything the program prints to /dev/null; forget the
    environment."""
    channel_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    os.environ.clear()
    return 0, channel_out


def start_watching_parent() -> None:
    """Exit when the parent goes. Started after the lockdown, so the worker is one thread while it locks itself
    down (the network namespace is the whole process's) and the thread is born under the filter."""
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()


def main() -> None:
    channel_in, channel_out = open_channel()

    setup = read_frame(channel_in)
    if setup is None:
        return
    _, meta = decode(setup)
    modules = frozenset(meta.get("modules", SAFE_MODULES))
    program_globals_ = program_globals({"params": dict(meta.get("params", {}))}, modules)
    for module in modules:
        __import__(module)
    entry_name = str(meta["entry"])
    memory_mb = int(meta.get("memory_mb", 0))
    shared = map_shared(meta.get("shared"))
    try:
        code = compile_program(str(meta["source"]))
        np.seterr(all="ignore")
        lock_down(address_space() + memory_mb * 2**20 if memory_mb else 0, channel_out,
                  kernel=bool(meta.get("kernel_lockdown", True)), cpu_seconds=int(meta.get("cpu_seconds", 0)))
        start_watching_parent()
        safe_builtins = program_globals_["__builtins__"]
        exec(code, program_globals_)
        if program_globals_.get("__builtins__") is not safe_builtins:
            raise NameError("the program replaced its builtins")
        entry = program_globals_.get(entry_name)
        if not callable(entry):
            raise NameError(f"the program does not define {entry_name}()")
    except BaseException as error:  # every failure of untrusted code is reported, none escapes
        write_frame(channel_out, encode({}, {"status": "error", "error": describe_exception(error)}))
        return
    write_frame(channel_out, encode({}, {"status": "ready"}))

    while True:
        request = read_frame(channel_in)
        if request is None:
            return
        arrays, meta = decode(request)
        if shared is not None and "shared" in meta:
            arrays.update(read_shared(shared, meta["shared"]))
        args = [_argument(arrays, name) for name in meta["args"]]
        try:
            result = entry(*args)
            reply = encode(*_result_arrays(result, meta.get("returns", "array")))
        except BaseException as error:  # every failure of untrusted code is reported, none escapes
            reply = encode({}, {"status": "error", "error": describe_exception(error)})
        write_frame(channel_out, reply)


def map_shared(spec: Any) -> mmap.mmap | None:
    """Map the parent's shared-memory region (`[fd, size]`) before any program code runs, and close the descriptor
    it came on (mmap keeps a duplicate; the region's size is sealed, so it cannot be truncated through it)."""
    if not spec:
        return None
    fd, size = int(spec[0]), int(spec[1])
    region = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    os.close(fd)
    return region


def read_shared(region: mmap.mmap, layout: list[Any]) -> dict[str, np.ndarray]:
    """Copies of the arrays the parent wrote into `region` (copies, so that a program keeping an array from one
    call sees it unchanged at the next, as with arrays that came through the pipe)."""
    arrays = {}
    for name, dtype, shape, offset in layout:
        count = int(np.prod(shape, dtype=np.int64))
        arrays[str(name)] = np.frombuffer(region, dtype=np.dtype(dtype), count=count, offset=int(offset)).reshape(
            [int(size) for size in shape]).copy()
    return arrays


def _argument(arrays: dict[str, np.ndarray], name: str) -> Any:
    """The argument `name`: one array, or the dict of arrays sent as `name/<key>`."""
    if name in arrays:
        return arrays[name]
    prefix = f"{name}/"
    return {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}


def _result_arrays(result: Any, returns: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Convert what the program returned into plain float arrays, or say what is wrong with it."""
    if returns == "value_and_components":
        if not isinstance(result, tuple) or len(result) != 2 or not isinstance(result[1], dict):
            shown = type(result).__name__ if not isinstance(result, tuple) else f"a tuple of {len(result)}"
            return {}, {"status": "error",
                        "error": f"the function must return (reward, components_dict), got {shown}"}
        arrays = {"value": np.asarray(result[0], dtype=np.float64)}
        for name, value in result[1].items():
            if not isinstance(name, str):
                return {}, {"status": "error", "error": f"component names must be strings, got {name!r}"}
            arrays[f"c/{name}"] = np.asarray(value, dtype=np.float64)
        return arrays, {"status": "ok"}
    return {"value": np.asarray(result, dtype=np.float64 if returns == "array" else bool)}, {"status": "ok"}


if __name__ == "__main__":
    try:
        main()
    except BaseException:  # the parent sees the closed channel and reports it
        sys.exit(1)
