"""A red-team corpus, written as an attacker would: every hostile reward, skill and task program is refused or
stopped with a one-line reason, and afterwards no file appeared under a watched directory or the home directory, no
connection reached a socket listening on 127.0.0.1, the canary secret in the parent's environment appears in no
error, no process was left behind, and the next honest program runs.

Then each layer alone: with the checker switched off (and os, socket, subprocess, ctypes importable) the kernel's
filter still stops exec, processes, sockets, file writes, secrets and signals; and a worker that talks garbage on
the channel is stopped by the parent with a ProgramError, never a traceback or a hang.
"""

from __future__ import annotations

import os
import socket
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from lab.errors import LabError
from lab.rewards import RewardProgram, dry_run
from lab.rewards.task_program import dry_run_task
from lab.sandbox import ProgramError, SandboxLimits
from lab.sandbox.codec import encode
from lab.sandbox.process import WorkerProcess
from lab.skills.runtime import SkillRunner
from lab.worlds import get_world

CANARY_SECRET = "sk-canary-7f3a9c1e5b"
LIMITS = SandboxLimits(call_seconds=1.0, load_seconds=20.0, memory_mb=256)


@dataclass
class Listener:
    """A TCP socket on 127.0.0.1 that counts the connections it accepts."""

    port: int = 0
    accepted: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    found = Listener(port=server.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, address = server.accept()
            except OSError:
                continue
            found.accepted.append(str(address))
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield found
    stop.set()
    thread.join()
    server.close()


def _children() -> set[int]:
    """Processes whose parent is this test process."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def _marked_processes(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _listing(folder: Path) -> set[str]:
    return {str(p) for p in folder.rglob("*")} if folder.is_dir() else set()


@dataclass
class Fortress:
    """What an attack may not change, taken before it and compared after."""

    watched: Path
    listener: Listener
    home: Path = field(default_factory=Path.home)
    before: tuple = ()

    def arm(self) -> None:
        self.before = (_listing(self.watched), {p.name for p in self.home.iterdir()}, _children(),
                       len(self.listener.accepted))

    def assert_held(self, error: BaseException | None) -> None:
        files, home, children, accepted = self.before
        assert _listing(self.watched) == files, "a file appeared under the watched directory"
        assert {p.name for p in self.home.iterdir()} == home, "a file appeared in the home directory"
        assert len(self.listener.accepted) == accepted, "a connection reached the listening socket"
        assert not (_children() - children), "a process was left behind"
        assert not _marked_processes(CANARY_SECRET[:10] + "-proc"), "a process outlived the run"
        if error is not None:
            text = str(error)
            assert CANARY_SECRET not in text, "the secret came back in the error"
            assert "Traceback" not in text
            assert text.splitlines()[0].strip(), "no one-line reason"


@pytest.fixture
def fortress(tmp_path: Path, listener: Listener, monkeypatch) -> Fortress:
    monkeypatch.setenv("LAB_CANARY_SECRET", CANARY_SECRET)
    watched = tmp_path / "watched"
    watched.mkdir()
    return Fortress(watched, listener)


# The attacks. `{w}` is the watched directory, `{port}` the listening socket, `{marker}` names a process that must
# not outlive the run. Each is (top-level code, the entry function's body, what the refusal or stop says).
ESCAPE_BY_MATCH = """\
match ():
    case tuple(__class__=tuple_type):
        pass
match tuple_type:
    case type(__base__=base):
        pass
for cls in base.__subclasses__():
    match cls:
        case type(__init__=init):
            match init:
                case object(__globals__=found):
                    if "os" in found:
                        found["os"].system("touch {w}/pwned")
"""
ESCAPE_BY_TRACEBACK = """\
try:
    1 / 0
except ZeroDivisionError as error:
    match error:
        case ZeroDivisionError(__traceback__=tb):
            frames = tb.tb_frame.f_back.f_globals
            frames["os"].system("touch {w}/pwned")
"""
ATTACKS: dict[str, tuple[str, str, str]] = {
    "match class pattern to os.system": ("", ESCAPE_BY_MATCH, "`match` statements are not allowed"),
    "match on an exception's traceback": ("", ESCAPE_BY_TRACEBACK, "`match` statements are not allowed"),
    "dunder import": ("", "__import__('os').system('touch {w}/pwned')", "dunder"),
    "import os, system()": ("import os", "os.system('touch {w}/pwned')", "`import os` is not allowed"),
    "subprocess": ("import subprocess", "subprocess.Popen(['sleep', '60', '{marker}'])", "`import subprocess`"),
    "socket to the listener": ("import socket",
                               "socket.create_connection(('127.0.0.1', {port})).sendall(b'hi')",
                               "`import socket` is not allowed"),
    "ctypes libc": ("import ctypes", "ctypes.CDLL(None).system(b'touch {w}/pwned')", "`import ctypes`"),
    "importlib": ("import importlib", "importlib.import_module('os').system('touch {w}/pwned')", "`import importlib`"),
    "builtins module": ("import builtins", "builtins.open('{w}/pwned', 'w')", "`import builtins`"),
    "from os import": ("from os import system", "system('touch {w}/pwned')", "is not allowed"),
    "open for writing": ("", "open('{w}/pwned', 'w').write('x')", "`open` is not allowed"),
    "read the parent's secrets": ("", "secret = open('/proc/1/environ').read()", "`open` is not allowed"),
    "eval": ("", "eval(\"__import__('os').system('touch {w}/pwned')\")", "`eval` is not allowed"),
    "exec": ("", "exec('import os')", "`exec` is not allowed"),
    "getattr on numpy": ("import numpy as np", "getattr(np, 'sa' + 've')('{w}/pwned', np.zeros(3))",
                         "`getattr` is not allowed"),
    "numpy save": ("import numpy as np", "np.save('{w}/pwned', np.zeros(3))", "`.save` is not allowed"),
    "numpy memmap": ("import numpy as np", "np.memmap('{w}/pwned', mode='w+', shape=(3,))",
                     "`.memmap` is not allowed"),
    "array tofile": ("import numpy as np", "np.zeros(3).tofile('{w}/pwned')", "`.tofile` is not allowed"),
    "array ctypes pointer": ("import numpy as np", "np.zeros(3).ctypes.data_as(None)", "`.ctypes` is not allowed"),
    "format string attributes": ("", "'{{0.__class__.__base__}}'.format(1)", "`.format` is not allowed"),
    "f-string dunder": ("", "leak = f'{{(1).__class__}}'", "private attribute"),
    "mro walk": ("", "subclasses = ().__class__.__mro__[1].__subclasses__()", "private attribute"),
    "generator frame walk": ("", "frame = (x for x in ()).gi_frame.f_back.f_globals", "`.gi_frame` is not allowed"),
    "function globals": ("", "found = len.__self__", "private attribute"),
    "type() three-argument": ("", "evil = type('Evil', (), {{}})", "`type` is not allowed"),
    "class definition": ("class Evil:\n    pass", "pass", "classes are not allowed"),
    "private keyword": ("import numpy as np", "np.zeros(3, _x=1)", "private keyword"),
    "numpy as the builtins": ("import numpy as __builtins__", "exec('import os')", "the name `__builtins__`"),
    "an exception bound as the builtins": ("", "try:\n    1 / 0\nexcept ZeroDivisionError as __builtins__:\n    pass",
                                            "the name `__builtins__`"),
    "global state": ("CALLS = [0]\nlast = 0", "global last\nlast = 1", "`global`/`nonlocal` are not allowed"),
}
STOPPED_WHILE_RUNNING: dict[str, tuple[str, str, str]] = {
    "endless loop": ("", "while True:\n    pass", "longer than its limit"),
    "memory bomb": ("", "hoard = [0] * 10**10", "MemoryError"),
    "recursion bomb": ("def again(x):\n    return again(x)", "again(0)", "RecursionError"),
}


def _entry(kind: str, body: str) -> str:
    inner = textwrap.indent(body, "    ")
    if kind == "reward":
        return f"def compute_reward(state, action):\n{inner}\n    return action[:, 0] * 0.0, {{}}\n"
    if kind == "skill":
        return f"def skill(robot):\n{inner}\n    robot.wait(1)\n"
    return (f"def compute_success(state):\n{inner}\n    return state['gripper_pos'][:, 0] > 9.0\n\n\n"
            "def compute_fitness(state):\n    return state['gripper_pos'][:, 0] * 0.0\n")


def _program(kind: str, preamble: str, body: str, fortress: Fortress, port: int) -> str:
    values = {"w": fortress.watched, "port": port, "marker": CANARY_SECRET[:10] + "-proc"}
    return (preamble.format(**values) + "\n\n" if preamble else "") + _entry(kind, body.format(**values))


REWARD_WORLD, SKILL_WORLD = "reacher", "playground"


def _run(kind: str, source: str) -> None:
    if kind == "reward":
        world = get_world(REWARD_WORLD)
        dry_run(RewardProgram(source, name="attack"), world, world.task("reach"), limits=LIMITS)
    elif kind == "skill":
        world = get_world(SKILL_WORLD)
        with SkillRunner(world, world.task("reach(cube_red)"), "skill", source, episode_seconds=3.0,
                         memory_mb=256) as runner:
            result = runner.run(0)
        if result.error:  # type: ignore[attr-defined]
            raise ProgramError(result.error)  # type: ignore[attr-defined]
    else:
        dry_run_task(get_world(SKILL_WORLD), "an attack dressed as a task", source)


HONEST = {
    "reward": ("import numpy as np", "distance = np.linalg.norm(action, axis=1)"),
    "skill": ("", "robot.move_by(0.01, 0.0, 0.0)"),
    "task": ("import numpy as np", "height = np.median(state['gripper_pos'][:, 2])"),
}
KINDS = ("reward", "skill", "task")
CORPUS = [(kind, name) for kind in KINDS for name in (*ATTACKS, *STOPPED_WHILE_RUNNING)]


def test_the_corpus_covers_every_kind_with_at_least_60_programs() -> None:
    assert len(CORPUS) >= 60
    assert {kind for kind, _ in CORPUS} == set(KINDS)


@pytest.mark.parametrize(("kind", "name"), CORPUS, ids=[f"{k}: {n}" for k, n in CORPUS])
def test_an_attack_is_refused_or_stopped_and_the_run_goes_on(kind: str, name: str, fortress: Fortress,
                                                             listener: Listener) -> None:
    preamble, body, expected = {**ATTACKS, **STOPPED_WHILE_RUNNING}[name]
    if kind == "skill" and name == "memory bomb":
        expected = "MemoryError|died"
    fortress.arm()
    with pytest.raises((ProgramError, LabError), match=expected) as caught:
        _run(kind, _program(kind, preamble, body, fortress, listener.port))
    fortress.assert_held(caught.value)
    honest_preamble, honest_body = HONEST[kind]
    _run(kind, _program(kind, honest_preamble, honest_body, fortress, listener.port))
    fortress.assert_held(None)


# Each layer alone: the checker switched off, everything importable; the kernel's filter must hold by itself.
UNCHECKED_MODULES = ["numpy", "math", "os", "socket", "subprocess", "ctypes", "builtins", "struct", "time", "stat"]
KERNEL_ALONE: dict[str, tuple[str, str]] = {
    "os.system": ("import os\ndef f(x):\n    os.system('touch {w}/pwned')\n    return x\n", "stopped by the kernel"),
    "subprocess that would outlive the run": (
        "import os\ndef f(x):\n    os.posix_spawn('/bin/sleep', ['sleep', '60', '{marker}'], {{}})\n    return x\n",
        "stopped by the kernel"),
    "fork": ("import os\ndef f(x):\n    os.fork()\n    return x\n", "stopped by the kernel"),
    "exec in place": ("import os\ndef f(x):\n    os.execv('/bin/sh', ['sh', '-c', 'touch {w}/pwned'])\n"
                      "    return x\n", "stopped by the kernel"),
    "libc system through ctypes": ("import ctypes\ndef f(x):\n    ctypes.CDLL(None).system(b'touch {w}/pwned')\n"
                                   "    return x\n", "stopped by the kernel"),
    "connect to the listener": ("import socket\ndef f(x):\n    socket.socket().connect(('127.0.0.1', {port}))\n"
                                "    return x\n", "stopped by the kernel"),
    "write a file": ("import builtins\ndef f(x):\n    builtins.open('{w}/pwned', 'w').write('x')\n    return x\n",
                     "PermissionError"),
    "create an empty file with os.open": ("import os\ndef f(x):\n    os.open('{w}/pwned', os.O_CREAT | os.O_WRONLY)\n"
                                          "    return x\n", "PermissionError"),
    "make a directory": ("import os\ndef f(x):\n    os.mkdir('{w}/pwned')\n    return x\n", "PermissionError"),
    "plant a symlink": ("import os\ndef f(x):\n    os.symlink('/etc/passwd', '{w}/pwned')\n    return x\n",
                        "PermissionError"),
    "read the parent's environment": (
        "import builtins, os\ndef f(x):\n    builtins.open('/proc/%d/environ' % os.getppid(), 'rb').read()\n"
        "    return x\n", "PermissionError"),
    "kill the parent": ("import os\ndef f(x):\n    os.kill(os.getppid(), 9)\n    return x\n",
                        "stopped by the kernel"),
    "signal to init": ("import os\ndef f(x):\n    os.kill(1, 0)\n    return x\n", "stopped by the kernel"),
}


def _unchecked_worker(source: str) -> WorkerProcess:
    setup = {"source": source, "entry": "f", "memory_mb": 256, "modules": UNCHECKED_MODULES, "params": {}}
    return WorkerProcess("unchecked program", "lab.sandbox.worker", setup, 20.0, 256)


def _call(worker: WorkerProcess) -> dict:
    _, meta = worker.exchange(encode({"x": np.zeros(3)}, {"args": ["x"], "returns": "array"}), 2.0, "call 1")
    if meta["status"] != "ok":
        raise ProgramError(meta["error"])
    return meta


@pytest.mark.parametrize("name", sorted(KERNEL_ALONE))
def test_the_kernel_alone_stops_what_the_checker_would_refuse(name: str, fortress: Fortress,
                                                              listener: Listener) -> None:
    template, expected = KERNEL_ALONE[name]
    source = template.format(w=fortress.watched, port=listener.port, marker=CANARY_SECRET[:10] + "-proc")
    fortress.arm()
    worker = _unchecked_worker(source)
    try:
        with pytest.raises(ProgramError, match=expected) as caught:
            _call(worker)
    finally:
        worker.close()
    fortress.assert_held(caught.value)


CHANNEL_ABUSE: dict[str, tuple[str, str]] = {
    "a frame announcing 2**60 bytes": ("os.write(CHANNEL, struct.pack('<Q', 2**60))", "over the limit"),
    "a frame that is not the codec's": ("os.write(CHANNEL, struct.pack('<Q', 5) + b'junk!')", "malformed reply"),
    "a header that is not JSON": ("body = struct.pack('<I', 4) + b'{{{{'\n"
                                  "    os.write(CHANNEL, struct.pack('<Q', len(body)) + body)", "malformed reply"),
    "a reply without a status": ("head = b'{\"arrays\": [], \"meta\": {}}'\n"
                                 "    body = struct.pack('<I', len(head)) + head\n"
                                 "    os.write(CHANNEL, struct.pack('<Q', len(body)) + body)", "no valid status"),
    "half a frame, then silence": ("os.write(CHANNEL, struct.pack('<Q', 100) + b'x')\n    import time\n"
                                   "    time.sleep(30)", "longer than its limit"),
}
CHANNEL_PROGRAM = """\
import os, stat, struct


def pipe(fd):
    try:
        return stat.S_ISFIFO(os.fstat(fd).st_mode)
    except Exception:
        return False


CHANNEL = [fd for fd in range(3, 64) if pipe(fd)][0]


def f(x):
    {attack}
    return x
"""


@pytest.mark.parametrize("name", sorted(CHANNEL_ABUSE))
def test_the_parent_alone_survives_a_worker_that_talks_garbage(name: str, fortress: Fortress) -> None:
    attack, expected = CHANNEL_ABUSE[name]
    source = CHANNEL_PROGRAM.format(attack=attack)
    fortress.arm()
    worker = _unchecked_worker(source)
    try:
        with pytest.raises(ProgramError, match=expected) as caught:
            _call(worker)
        assert not worker.alive
    finally:
        worker.close()
    fortress.assert_held(caught.value)


COMPONENT_ABUSE = {
    "ten thousand components": ("{{f'c{{i}}': action[:, 0] for i in range(10000)}}", "over the limit of 32"),
    "a huge component name": ("{{'x' * 100000: action[:, 0]}}", "not allowed"),
    "a lone surrogate in a name": ("{{'\\ud800': action[:, 0]}}", "not allowed"),
    "a newline in a name": ("{{'a\\nb': action[:, 0]}}", "not allowed"),
    "fresh names on every call": ("{{'n' + str(len(action)): action[:, 0]}}", "other component names"),
}


@pytest.mark.parametrize("name", sorted(COMPONENT_ABUSE))
def test_a_reward_cannot_flood_the_parent_with_components(name: str, fortress: Fortress) -> None:
    components, expected = COMPONENT_ABUSE[name]
    source = f"def compute_reward(state, action):\n    return action[:, 0] * 0.0, {components.format()}\n"
    world = get_world(REWARD_WORLD)
    fortress.arm()
    with pytest.raises(ProgramError, match=expected) as caught:
        dry_run(RewardProgram(source, name="flood"), world, world.task("reach"), limits=LIMITS)
    fortress.assert_held(caught.value)
    caught.value.feedback().encode("utf-8")  # printable: no lone surrogate reaches a log or the console


# The judge alone: a skill program past every static rule, with gc importable, looks for the simulation
# and the task's success check in its own process, where the old design kept them. There is nothing to find.
HUNT_THE_JUDGE = """\
import gc
def skill(robot):
    found = [o.__class__.__name__ for o in gc.get_objects()
             if o.__class__.__name__ in ('MjData', 'MjModel', 'PlaygroundEnv', 'PlaygroundRobot', 'Task')]
    raise RuntimeError('found ' + (','.join(sorted(set(found))) or 'nothing'))
"""
REACH_PAST_THE_FACADE = "def skill(robot):\n    robot._robot.env.unwrapped.data.qpos[:] = 0\n"


@pytest.mark.parametrize(("source", "expected"), [(HUNT_THE_JUDGE, "RuntimeError: found nothing"),
                                                  (REACH_PAST_THE_FACADE, "the robot has no method '_robot'")])
def test_the_judge_and_the_simulation_are_out_of_the_programs_reach(source: str, expected: str,
                                                                    fortress: Fortress) -> None:
    world = get_world(SKILL_WORLD)
    setup = {"world": world.name, "task": "reach(cube_red)", "task_program": None, "entry": "skill", "params": {},
             "max_steps": 200, "render": False, "memory_mb": 512, "skills": [{"name": "skill", "source": source}],
             "envs_path": [], "mujoco_gl": "", "program_modules": ["numpy", "math", "gc"]}
    fortress.arm()
    worker = WorkerProcess("unchecked skill", "lab.skills.episode_worker", setup, 60.0, 512, program_process=True)
    try:
        _, meta = worker.exchange(encode({}, {"seed": 0}), 30.0, "episode 0")
    finally:
        worker.close()
    assert meta["status"] == "ok" and not meta["success"]
    assert expected in meta["error"], meta["error"]
    fortress.assert_held(None)


@pytest.mark.parametrize("command", ["train", "skills add"])
def test_through_the_command_line_an_escape_is_one_clear_error(command: str, fortress: Fortress, lab) -> None:
    """As the issue's red team ran it: the program a model might write, handed to the real CLI."""
    kind = "reward" if command == "train" else "skill"
    program = fortress.watched.parent / "escape.py"
    program.write_text(_program(kind, "", ESCAPE_BY_MATCH, fortress, 0))
    fortress.arm()
    if command == "train":
        done = lab("train", "reacher", "reach", "--reward", str(program), "--steps", "1000",
                   "--out", str(fortress.watched.parent / "run"))
    else:
        done = lab("skills", "add", str(program), "--world", "playground", "--task", "reach(cube_red)",
                   "--library", str(fortress.watched.parent / "library"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: ") and "`match` statements are not allowed" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout and CANARY_SECRET not in done.stderr + done.stdout
    assert not (fortress.watched.parent / "run").exists(), "a run directory was left behind"
    fortress.assert_held(None)


def test_every_thread_of_a_worker_is_under_the_filter() -> None:
    """The filter is synchronised to all threads (a thread started before it would otherwise run unfiltered)."""
    from lab.sandbox import Sandbox
    from lab.sandbox.rules import ProgramRules

    rules = ProgramRules("f", ("x",), kind="probe")
    with Sandbox("def f(x):\n    return x\n", rules) as sandbox:
        sandbox.call(x=np.zeros(1))
        pid = sandbox._worker._process.pid  # type: ignore[union-attr]
        statuses = [(task / "status").read_text() for task in Path(f"/proc/{pid}/task").iterdir()]
    assert len(statuses) >= 2, "the worker runs its parent watcher in a thread"
    for status in statuses:
        assert "Seccomp:\t2" in status and "NoNewPrivs:\t1" in status


def test_a_program_cannot_replace_its_builtins_even_past_the_checker() -> None:
    """`import numpy as __builtins__` is refused by the checker; fed straight to a worker, it is refused there."""
    source = "import numpy as __builtins__\ndef f(x):\n    return x\n"
    with pytest.raises(ProgramError, match="replaced its builtins"):
        _unchecked_worker(source)
