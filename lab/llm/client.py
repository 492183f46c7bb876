"""The one LLM object every role uses: sampling, retries with backoff, a concurrency limit, cache, ledger, record."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lab.console import make_console
from lab.llm.backends import Backend, Cassette, FileBackend, LiteLLMBackend, LLMError, ReplayBackend, RetryableError
from lab.llm.cache import ResponseCache
from lab.llm.ledger import Ledger
from lab.llm.types import Message, Reply, Request, Usage


class LLM:
    """A model behind one interface: `complete(messages, n=...)` returns a Reply with one text per sample.

    `n` samples use the provider's `n` where it has one, otherwise concurrent single calls (at most
    `max_concurrency` in flight). Rate limits, server errors and timeouts are retried `retries` times with
    exponential backoff. Every successful reply goes to the cache (and is served from it next time), to the ledger
    (calls, tokens, dollars, seconds per role; the budget is checked before each call) and, when recording, to the
    cassette.
    """

    def __init__(self, model: str, backend: Backend, *, role: str = "default", temperature: float | None = 0.7,
                 max_tokens: int | None = None, timeout: float = 120.0, retries: int = 4, backoff: float = 1.0,
                 max_concurrency: int = 4, cache: ResponseCache | None = None, ledger: Ledger | None = None,
                 recorder: Cassette | None = None) -> None:
        self.model = model
        self.backend = backend
        self.role = role
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_concurrency = max_concurrency
        self.cache = cache
        self.ledger = ledger or Ledger()
        self.recorder = recorder
        self._slots = threading.Semaphore(max_concurrency)

    def complete(self, messages: list[Message], *, n: int = 1, role: str | None = None,
                 temperature: float | None = None, max_tokens: int | None = None, seed: int | None = None) -> Reply:
        """Ask the model; returns `n` samples. Raises LLMError (after retries) or BudgetExceeded."""
        if n < 1:
            raise LLMError(f"n must be at least 1, got {n}")
        request = Request.make(
            self.model, messages, role=role or self.role, n=n if n > 1 else None,
            temperature=self.temperature if temperature is None else temperature,
            max_tokens=max_tokens or self.max_tokens, seed=seed,
        )
        if self.cache is not None:
            cached = self.cache.get(request)
            if cached is not None:
                self._account(request, cached)
                return cached
        self.ledger.check_budget()
        if n == 1 or self.backend.supports_n(self.model):
            reply = self._call(request)
        else:
            reply = self._call_each(request, n)
        if len(reply.texts) != n:
            raise LLMError(f"{self.model} returned {len(reply.texts)} samples where {n} were asked")
        if self.cache is not None:
            self.cache.put(request, reply)
        self._account(request, reply)
        return reply

    def _account(self, request: Request, reply: Reply) -> None:
        self.ledger.record(request, reply)
        if self.recorder is not None:
            self.recorder.record(request, reply)

    def _call_each(self, request: Request, n: int) -> Reply:
        single = Request(request.model, request.messages,
                         tuple((k, v) for k, v in request.params if k != "n"), request.role)
        with ThreadPoolExecutor(max_workers=min(n, self.max_concurrency)) as pool:
            replies = list(pool.map(lambda _: self._call(single), range(n)))
        usage = Usage(sum(r.usage.prompt_tokens for r in replies), sum(r.usage.completion_tokens for r in replies))
        costs = [r.cost_usd for r in replies]
        return Reply(texts=[r.text for r in replies], model=request.model, usage=usage,
                     cost_usd=None if any(c is None for c in costs) else sum(c for c in costs if c is not None),
                     seconds=max(r.seconds for r in replies))

    def _call(self, request: Request) -> Reply:
        last: RetryableError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))
            with self._slots:
                try:
                    return self.backend.complete(request, self.timeout)
                except RetryableError as error:
                    last = error
        assert last is not None
        raise LLMError(f"{self.model} failed {self.retries + 1} times; last error: {last.message}",
                       hint="the provider may be down or rate-limiting: retry later, or lower the concurrency")


def _waiting_line(limit: float, every: float = 10.0) -> Callable[[Path, float], None]:
    """A progress line on stderr while the file backend waits: when it starts waiting, then every `every` s."""
    console = make_console(stderr=True)
    shown: dict[Path, float] = {}

    def show(path: Path, waited: float) -> None:
        if path not in shown or waited - shown[path] >= every:
            shown[path] = waited
            console.print(f"waiting for an answer to {path} ({waited:.0f} s of {limit:.0f} s): write "
                          f"{path.name.replace('request', 'response')} or .txt beside it", highlight=False)

    return show


def make_backend(model: str, api_base: str | None = None, file_wait_seconds: float = 3600.0) -> Backend:
    """The backend a model spec names: `replay:FILE`, `file:DIR`, or any litellm model."""
    if model.startswith("replay:"):
        return ReplayBackend(Path(model.removeprefix("replay:")))
    if model.startswith("file:"):
        return FileBackend(Path(model.removeprefix("file:")), wait_seconds=file_wait_seconds,
                           on_wait=_waiting_line(file_wait_seconds))
    return LiteLLMBackend(api_base=api_base)
