"""Where a request goes: a model through litellm, a recorded cassette, or files answered by a person or program."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from lab.errors import LabError
from lab.llm.types import Reply, Request, Usage, redact
from lab.offline import stay_offline


class LLMError(LabError):
    """A model call that failed for good (after retries), or a reply the lab cannot use."""


class RetryableError(LLMError):
    """A failure worth retrying: rate limits, server errors, timeouts, dropped connections."""


class Backend(Protocol):
    def complete(self, request: Request, timeout: float) -> Reply: ...

    def supports_n(self, model: str) -> bool: ...


def import_litellm() -> ModuleType:
    """litellm with its bundled cost map and without its console banners (the lab prints its own errors)."""
    stay_offline()
    import litellm

    litellm.suppress_debug_info = True
    return litellm


class LiteLLMBackend:
    """Any model litellm knows (OpenAI, Anthropic, Ollama, vLLM or any OpenAI-compatible server via api_base)."""

    def __init__(self, api_base: str | None = None, api_key: str | None = None) -> None:
        self.api_base = api_base
        self.api_key = api_key

    def check_model(self, model: str) -> None:
        """Raise an LLMError when litellm cannot tell which provider serves `model` (a name without a provider,
        such as "nonsense"), before anything is asked or written."""
        litellm = import_litellm()
        try:
            litellm.get_llm_provider(model, api_base=self.api_base)
        except Exception as error:  # litellm raises its own BadRequestError for a name it cannot place
            raise LLMError(f"litellm knows no provider for the model {model!r}",
                           hint="give a litellm model name with its provider, e.g. openai/gpt-4o, "
                                "anthropic/claude-sonnet-4-5, ollama/qwen2.5-coder; or offline, replay:FILE, "
                                "file:DIR") from error

    def supports_n(self, model: str) -> bool:
        litellm = import_litellm()
        try:
            _, provider, _, _ = litellm.get_llm_provider(model, api_base=self.api_base)
            return "n" in (litellm.get_supported_openai_params(model=model, custom_llm_provider=provider) or [])
        except Exception:  # an unknown provider: ask one sample at a time
            return False

    def complete(self, request: Request, timeout: float) -> Reply:
        litellm = import_litellm()
        extra: dict[str, Any] = {}
        if self.api_base:
            extra["api_base"] = self.api_base
        if self.api_key:
            extra["api_key"] = self.api_key
        start = time.perf_counter()
        try:
            response: Any = litellm.completion(model=request.model, messages=request.message_list(),
                                               timeout=timeout, num_retries=0, max_retries=0,
                                               **request.param_map(), **extra)
        except Exception as error:
            raise _classify(error) from None
        seconds = time.perf_counter() - start
        try:
            texts = [str(choice.message.content or "") for choice in response.choices]
            usage = Usage(int(response.usage.prompt_tokens or 0), int(response.usage.completion_tokens or 0))
        except (AttributeError, TypeError) as error:
            raise LLMError(f"{request.model} sent a reply without the usual fields ({error})") from None
        if not texts:
            raise LLMError(f"{request.model} sent a reply with no choices")
        try:
            cost: float | None = float(litellm.completion_cost(completion_response=response))
        except Exception:  # litellm raises for models missing from its cost map: the cost is unknown, not zero
            cost = None
        return Reply(texts=texts, model=request.model, usage=usage, cost_usd=cost, seconds=seconds)


def _classify(error: Exception) -> LLMError:
    """Turn a litellm exception into a retryable or a final error, with the provider's message (no credentials)."""
    litellm = import_litellm()
    status = getattr(error, "status_code", None)
    text = " ".join(redact(f"{type(error).__name__}: {error}").split())[:600]
    retryable = (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError, litellm.InternalServerError,
                 litellm.ServiceUnavailableError, litellm.BadGatewayError)
    missing_key = "Missing credentials" in str(error) or "api_key client option must be set" in str(error)
    if not missing_key and (isinstance(error, retryable) or (isinstance(status, int) and (status == 429 or
                                                                                         status >= 500))):
        return RetryableError(text)
    hint = None
    if isinstance(error, litellm.AuthenticationError) or missing_key:
        hint = "set the provider's key in its usual environment variable (e.g. OPENAI_API_KEY, ANTHROPIC_API_KEY)"
    elif isinstance(error, litellm.NotFoundError | litellm.BadRequestError):
        hint = "check the model name (litellm's form, e.g. openai/gpt-4o, ollama/qwen2.5-coder) and --api-base"
    return LLMError(text, hint=hint)


class Cassette:
    """Requests and replies recorded in order, one JSON line each (credentials redacted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, request: Request, reply: Reply) -> None:
        line = redact(json.dumps({"request": request.to_dict(), "reply": reply.to_dict() | {"cached": False}}))
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a") as handle:
                handle.write(line + "\n")

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            raise LabError(f"no cassette at {self.path}", hint="record one with --record FILE")
        entries = []
        for number, line in enumerate(self.path.read_text().splitlines(), 1):
            if line.strip():
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    raise LabError(f"{self.path} line {number} is not valid JSON") from None
        return entries


class ReplayBackend:
    """Plays a cassette back in order; fails clearly when it runs out or a request differs from the recorded one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries = Cassette(path).entries()
        self._next = 0
        self._lock = threading.Lock()

    def supports_n(self, model: str) -> bool:
        return True

    def complete(self, request: Request, timeout: float) -> Reply:
        with self._lock:
            index = self._next
            if index >= len(self._entries):
                raise LLMError(f"the cassette {self.path} ran out: it holds {len(self._entries)} replies and "
                               f"request {index + 1} has none",
                               hint="record again with --record, or run the same steps that were recorded")
            entry = self._entries[index]
            recorded = entry["request"]
            difference = _difference(recorded, request)
            if difference:
                raise LLMError(f"request {index + 1} differs from the one recorded in {self.path}: {difference}",
                               hint="a replay must ask exactly what was recorded, in the same order")
            self._next += 1
        reply = Reply.from_dict(entry["reply"])
        reply.cost_usd, reply.seconds = 0.0, 0.0
        return reply


def _difference(recorded: dict[str, Any], request: Request) -> str:
    messages = request.message_list()
    if recorded.get("params", {}) != json.loads(json.dumps(request.param_map())):
        return f"sampling parameters {request.param_map()} instead of {recorded.get('params')}"
    if len(recorded["messages"]) != len(messages):
        return f"{len(messages)} messages instead of {len(recorded['messages'])}"
    for number, (old, new) in enumerate(zip(recorded["messages"], messages, strict=True), 1):
        if old != new:
            old_text, new_text = str(old.get("content", "")), new["content"]
            at = next((i for i, (a, b) in enumerate(zip(old_text, new_text, strict=False)) if a != b),
                      min(len(old_text), len(new_text)))
            return (f"message {number} ({new['role']}) differs at character {at}: recorded "
                    f"{old_text[at:at + 60]!r}, asked {new_text[at:at + 60]!r}")
    return ""


class FileBackend:
    """Each request is written to DIR as `request-NNNN.json`; the lab waits for `response-NNNN.json` or `.txt`.

    A response file holds `{"text": "..."}`, `{"texts": ["...", ...]}` (one per sample) or, as `.txt`, the text of
    a single sample. A person, a notebook or another program can act as the model this way.
    """

    def __init__(self, folder: Path, wait_seconds: float = 3600.0, poll_seconds: float = 0.1,
                 on_wait: Callable[[Path, float], None] | None = None) -> None:
        self.folder = folder
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.on_wait = on_wait
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LLMError(f"cannot make the folder {folder} for file: model requests: {error.strerror}",
                           hint="give file:DIR with a folder you can write") from None
        self._lock = threading.Lock()
        numbers = [int(m.group(1)) for p in folder.glob("request-*.json")
                   if (m := re.fullmatch(r"request-(\d+)\.json", p.name))]
        self._next = max(numbers, default=0) + 1

    def supports_n(self, model: str) -> bool:
        return True

    def complete(self, request: Request, timeout: float) -> Reply:
        with self._lock:
            number = self._next
            self._next += 1
        stem = f"{number:04d}"
        request_path = self.folder / f"request-{stem}.json"
        body = {"id": number, "role": request.role, "model": request.model, "n": request.n,
                "messages": request.message_list(), "params": request.param_map(),
                "answer_in": [f"response-{stem}.json", f"response-{stem}.txt"],
                "answer_format": '{"text": "..."} or {"texts": ["...", ...]} (one per sample), or a .txt file'}
        partial = request_path.with_name(f".{request_path.name}.partial")
        partial.write_text(redact(json.dumps(body, indent=2)))
        os.replace(partial, request_path)
        start = time.perf_counter()
        while True:
            for path in (self.folder / f"response-{stem}.json", self.folder / f"response-{stem}.txt"):
                if path.is_file():
                    texts = _read_response(path, request.n)
                    return Reply(texts=texts, model=request.model, cost_usd=0.0,
                                 seconds=time.perf_counter() - start)
            waited = time.perf_counter() - start
            if waited >= self.wait_seconds:
                raise LLMError(f"no answer to {request_path} after {self.wait_seconds:g} s",
                               hint=f"write response-{stem}.json or response-{stem}.txt next to it")
            if self.on_wait is not None:
                self.on_wait(request_path, waited)
            time.sleep(self.poll_seconds)


def _read_response(path: Path, n: int) -> list[str]:
    time.sleep(0.05)  # a writer that does not rename into place gets a moment to finish
    raw = path.read_text()
    if path.suffix == ".txt":
        return [raw]
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise LLMError(f"{path} is not valid JSON ({error})",
                       hint='write {"text": "..."} or {"texts": [...]}, or a .txt file') from None
    texts = data.get("texts") if isinstance(data, dict) else None
    if texts is None and isinstance(data, dict) and isinstance(data.get("text"), str):
        texts = [data["text"]]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise LLMError(f"{path} must hold {{\"text\": \"...\"}} or {{\"texts\": [\"...\", ...]}}")
    return texts
