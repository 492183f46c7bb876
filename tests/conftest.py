"""Test-wide settings (offscreen rendering; none of the offline variables, which the lab sets itself), a local
OpenAI-compatible server on 127.0.0.1, scripted per test, so litellm's real client path is exercised, and the
`lab` command run as a user runs it (or killed with -9 midway)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
for _variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "LITELLM_LOCAL_MODEL_COST_MAP"):
    os.environ.pop(_variable, None)  # the lab stays offline by itself (lab/offline.py); the suite proves it
# pytest-xdist's workers are given COLUMNS=80, and the CLI's consoles (made when their module is imported) would fold
# their tables at 80 columns there; without it they print as to any pipe (lab/console.py), as a user's log gets.
os.environ.pop("COLUMNS", None)
# The red-team tests check that no entry appears in the home directory during an attack; with two workers, the other
# one's tools (Warp's and Matplotlib's caches, Ray's token) must not be what appears there on a fresh machine.
for _folder in (".cache", ".config", ".ray"):
    (Path.home() / _folder).mkdir(exist_ok=True)


@dataclass
class FakeModelServer:
    """Answers /v1/chat/completions. `script` holds behaviours for the next requests, in order:
    {"status": 429}, {"delay": 2.0}, {"body": "raw text"}, {"contents": ["...", ...]}; when it is empty,
    `answer(request, index)` writes each sample's text."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[Message] = field(default_factory=list)
    """Each request's headers; names are case-insensitive, as in HTTP (`headers[0]["authorization"]`)."""
    script: deque = field(default_factory=deque)
    answer: Callable[[dict[str, Any], int], str] = lambda request, index: f"sample {index}"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_behaviour(self) -> dict[str, Any]:
        with self.lock:
            return self.script.popleft() if self.script else {}


def _handler(server_state: FakeModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            request = json.loads(self.rfile.read(length) or b"{}")
            with server_state.lock:
                server_state.requests.append(request)
                server_state.headers.append(self.headers)
            behaviour = server_state.next_behaviour()
            if "delay" in behaviour:
                time.sleep(behaviour["delay"])
            status = behaviour.get("status", 200)
            if "body" in behaviour:
                body = behaviour["body"].encode()
            elif status != 200:
                body = json.dumps({"error": {"message": f"scripted {status}", "type": "scripted",
                                             "code": status}}).encode()
            else:
                n = int(request.get("n") or 1)
                contents = behaviour.get("contents") or [server_state.answer(request, i) for i in range(n)]
                body = json.dumps({
                    "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                    "model": request.get("model", "test"),
                    "choices": [{"index": i, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"} for i, text in enumerate(contents)],
                    "usage": {"prompt_tokens": 12, "completion_tokens": 7 * len(contents),
                              "total_tokens": 12 + 7 * len(contents)},
                }).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@pytest.fixture
def model_server() -> Iterator[FakeModelServer]:
    state = FakeModelServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def embedder() -> Any:
    """One real embedding model for the whole run (loading it costs seconds; encoding is cheap)."""
    from lab.skills import SentenceEmbedder

    model = SentenceEmbedder()
    model.encode(["warm up"])
    return model


def lab_command(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """`lab ARGS` in a process of its own, its output captured."""
    return subprocess.run([sys.executable, "-m", "lab.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=timeout)


@pytest.fixture
def lab() -> Callable[..., subprocess.CompletedProcess]:
    return lab_command


@pytest.fixture
def kill_9() -> Callable[..., None]:
    """Starts `lab ARGS` in its own process group and kills the group with SIGKILL as soon as the run's
    `events.jsonl` holds `count` events of kind `event` (the test fails if that takes over `timeout` s)."""

    def run(args: list[str], out: Path, event: str, count: int, timeout: float = 240) -> None:
        process = subprocess.Popen([sys.executable, "-m", "lab.cli", *args], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                events = out / "events.jsonl"
                if events.exists() and events.read_text().count(f'"event": "{event}"') >= count:
                    return
                time.sleep(0.05)
            pytest.fail(f"`lab {args[0]}` never logged {count} {event!r} event(s) in {timeout:.0f} s")
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    return run
