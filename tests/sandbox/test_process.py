"""The sandbox process holds even when a program gets past the static rules: no files, no sockets, no secrets."""

import os
from pathlib import Path

import numpy as np
import pytest

from lab.sandbox import ProgramError, ProgramRules, Sandbox, SandboxLimits
from lab.sandbox.rules import SAFE_MODULES

LOOSE = ProgramRules("run", ("x",), kind="test program", modules=SAFE_MODULES | {"pathlib", "socket", "os"})
LIMITS = SandboxLimits(call_seconds=1.0, load_seconds=20.0, memory_mb=256)


def call(source: str) -> np.ndarray:
    with Sandbox(source, LOOSE, limits=LIMITS) as sandbox:
        return sandbox.call(x=np.zeros(3))[0]


def test_a_program_cannot_write_a_file_even_with_pathlib(tmp_path: Path) -> None:
    target = tmp_path / "written.txt"
    with pytest.raises(ProgramError, match=r"PermissionError: \[Errno 1\] Operation not permitted"):
        call(f"import pathlib\ndef run(x):\n    pathlib.Path({str(target)!r}).write_text('x')\n    return x\n")
    assert not target.exists()


def test_a_program_cannot_open_a_socket() -> None:
    with pytest.raises(ProgramError, match="stopped by the kernel during call 1: it made a system call"):
        call("import socket\ndef run(x):\n    socket.socket()\n    return x\n")


def test_a_program_sees_no_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    assert call("import os\ndef run(x):\n    return x + len(os.environ)\n").tolist() == [0.0, 0.0, 0.0]


def test_a_call_over_its_time_limit_kills_the_process() -> None:
    sandbox = Sandbox("def run(x):\n    while True:\n        pass\n", LOOSE, limits=LIMITS)
    with pytest.raises(ProgramError, match="longer than its limit of 1 s"):
        sandbox.call(x=np.zeros(3))
    assert not sandbox.alive
    with pytest.raises(ProgramError, match="not running"):
        sandbox.call(x=np.zeros(3))


def test_an_allocation_over_the_memory_limit_is_a_clear_error() -> None:
    with pytest.raises(ProgramError, match=r"MemoryError.*line 3"):
        call("import numpy as np\ndef run(x):\n    big = np.ones((20000, 20000))\n    return x\n")


def test_arrays_round_trip_with_their_dtypes() -> None:
    with Sandbox("def run(x):\n    return x['a'] * 2 + x['flag']\n", LOOSE, limits=LIMITS) as sandbox:
        value, _ = sandbox.call(x={"a": np.arange(3.0), "flag": np.array([True, False, True])})
    assert value.tolist() == [1.0, 2.0, 5.0]


def test_a_program_that_burns_cpu_call_after_call_is_stopped_at_its_total() -> None:
    burn = "def run(x):\n    total = 0\n    for i in range(3 * 10**6):\n        total += i\n    return x\n"
    limits = SandboxLimits(call_seconds=5.0, load_seconds=20.0, memory_mb=256, cpu_seconds=1)
    with Sandbox(burn, LOOSE, limits=limits) as sandbox, \
            pytest.raises(ProgramError, match="used up its CPU time of 1 s"):
        for _ in range(20):
            sandbox.call(x=np.zeros(3))


def test_without_seccomp_generated_code_is_refused_unless_the_user_says_unsafe(monkeypatch) -> None:
    from lab.errors import LabError
    from lab.sandbox import lockdown

    monkeypatch.setattr(lockdown, "lockdown_problem", lambda: "the kernel was built without seccomp")
    monkeypatch.delenv(lockdown.UNSAFE_VARIABLE, raising=False)
    lockdown.kernel_lockdown_wanted.cache_clear()
    try:
        with pytest.raises(LabError, match="cannot lock generated programs down: the kernel was built without"):
            lockdown.kernel_lockdown_wanted()
        lockdown.kernel_lockdown_wanted.cache_clear()
        monkeypatch.setenv(lockdown.UNSAFE_VARIABLE, "1")
        with pytest.warns(UserWarning, match="WITHOUT the kernel's lockdown"):
            assert lockdown.kernel_lockdown_wanted() is False
    finally:
        lockdown.kernel_lockdown_wanted.cache_clear()


def test_the_unsafe_flag_of_the_command_line_is_what_the_sandbox_reads(monkeypatch) -> None:
    from typer.testing import CliRunner

    from lab.cli import app
    from lab.sandbox import lockdown

    monkeypatch.delenv(lockdown.UNSAFE_VARIABLE, raising=False)
    assert CliRunner().invoke(app, ["worlds", "list"]).exit_code == 0
    assert lockdown.UNSAFE_VARIABLE not in os.environ
    monkeypatch.setenv(lockdown.UNSAFE_VARIABLE, "0")
    assert CliRunner().invoke(app, ["--unsafe-no-seccomp", "worlds", "list"]).exit_code == 0
    assert os.environ[lockdown.UNSAFE_VARIABLE] == "1"


def test_the_batch_travels_in_shared_memory_that_a_program_can_change_but_not_resize() -> None:
    """The arrays of a call go through a sealed memfd: the program gets copies (changing them in place changes
    nothing the caller or the next call sees), and a program that finds the region's descriptor (an attacker who
    got past the rules would look for it: truncating the region would kill the parent with SIGBUS at its next
    write) cannot truncate it: its size is sealed, against the parent itself too."""
    hostile = ("import os\nimport numpy as np\nkept = []\n"
               "def run(x):\n"
               "    kept.append(x['a'])\n"
               "    if len(kept) == 1:\n"
               "        x['a'][:] = -1.0\n"
               "    truncated = 0\n"
               "    for fd in range(256):\n"
               "        try:\n"
               "            if os.fstat(fd).st_size == 64 * 2**20:\n"
               "                os.ftruncate(fd, 0)\n"
               "                truncated += 1\n"
               "        except Exception:\n"
               "            pass\n"
               "    return np.full(3, float(truncated)) + kept[0] + 10 * len(kept)\n")
    state = {"a": np.arange(3.0)}
    with Sandbox(hostile, LOOSE, limits=LIMITS) as sandbox:
        first, _ = sandbox.call(x=state)
        second, _ = sandbox.call(x={"a": np.arange(3.0) + 100})
        shared = sandbox._shared
        assert shared is not None
        with pytest.raises(PermissionError):
            os.ftruncate(shared.fd, 0)
    assert state["a"].tolist() == [0.0, 1.0, 2.0], "the caller's arrays are untouched"
    assert first.tolist() == [9.0, 9.0, 9.0], "the region could not be truncated; the program got a copy"
    assert second.tolist() == [19.0, 19.0, 19.0], "the array kept from call 1 is still what the program made of it"


def test_a_batch_too_large_for_the_shared_region_goes_through_the_pipe() -> None:
    source = "def run(x):\n    return x['a'].sum(axis=1)\n"
    big = {"a": np.random.default_rng(0).normal(size=(512, 512))}
    small_region = SandboxLimits(call_seconds=5.0, load_seconds=20.0, memory_mb=256, shared_mb=1)
    with Sandbox(source, LOOSE, limits=small_region) as sandbox:
        through_pipe, _ = sandbox.call(x=big)
        through_memory, _ = sandbox.call(x={"a": big["a"][:8]})
    np.testing.assert_allclose(through_pipe, big["a"].sum(axis=1))
    np.testing.assert_allclose(through_memory, big["a"][:8].sum(axis=1))
