"""The LLM client's cost per call against raw `litellm.completion`, both on a local OpenAI-compatible server.

Also the latency of a cache hit. The server answers at once, so the figures are the client's own overhead.
Run: `python bench/bench_llm.py [--calls 200]` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BODY = json.dumps({"id": "b", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini",
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}).encode()


class Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)


def median_ms(call: Any, calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    from lab.llm import LLM, Ledger, LiteLLMBackend, ResponseCache
    from lab.llm.backends import import_litellm

    litellm = import_litellm()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    messages = [{"role": "user", "content": "hello"}]
    raw = median_ms(lambda: litellm.completion(model="openai/gpt-4o-mini", messages=messages, api_base=base,
                                               api_key="sk-bench", max_retries=0), args.calls)
    llm = LLM("openai/gpt-4o-mini", LiteLLMBackend(api_base=base, api_key="sk-bench"), ledger=Ledger())
    ours = median_ms(lambda: llm.complete(messages), args.calls)
    with tempfile.TemporaryDirectory() as folder:
        cached = LLM("openai/gpt-4o-mini", LiteLLMBackend(api_base=base, api_key="sk-bench"),
                     cache=ResponseCache(Path(folder) / "cache.sqlite"))
        cached.complete(messages)
        hit = median_ms(lambda: cached.complete(messages), args.calls)
    server.shutdown()
    print(f"local OpenAI-compatible server, {args.calls} calls each, median:")
    print(f"  raw litellm.completion              {raw:7.2f} ms per call")
    print(f"  lab LLM.complete (ledger, no cache) {ours:7.2f} ms per call  ratio {ours / raw:.2f}")
    print(f"  lab LLM.complete, cache hit         {hit:7.2f} ms per call")


if __name__ == "__main__":
    main()
