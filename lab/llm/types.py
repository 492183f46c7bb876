"""What goes to a model and what comes back, as plain data that can be cached, recorded and replayed."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from lab.errors import LabError

Message = dict[str, str]

SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "n", "seed", "stop", "response_format")
"""Parameters that change what a model answers: part of the cache key and of a recorded request."""

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.IGNORECASE)


@dataclass(frozen=True)
class Request:
    """One request to a model: its name, the messages and the sampling parameters."""

    model: str
    messages: tuple[tuple[str, str], ...]
    params: tuple[tuple[str, Any], ...] = ()
    role: str = "default"
    """Which part of the lab asks (curriculum, skill_writer, reward_designer, critic, summaries ...)."""

    @classmethod
    def make(cls, model: str, messages: list[Message], role: str = "default", **params: Any) -> Request:
        for message in messages:
            if set(message) - {"role", "content"} or not isinstance(message.get("content"), str):
                raise LabError(f"a message must be {{'role': ..., 'content': str}}, got {message!r}")
        kept = tuple(sorted((k, v) for k, v in params.items() if k in SAMPLING_KEYS and v is not None))
        return cls(model, tuple((m["role"], m["content"]) for m in messages), kept, role)

    def message_list(self) -> list[Message]:
        return [{"role": role, "content": content} for role, content in self.messages]

    def param_map(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def n(self) -> int:
        return int(self.param_map().get("n", 1))

    def key(self) -> str:
        """Identity of the request for the cache and for replay: model, messages and sampling parameters."""
        body = json.dumps({"model": self.model, "messages": self.messages, "params": self.params}, sort_keys=True,
                          default=str)
        return hashlib.sha256(body.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "role": self.role, "messages": self.message_list(), "params": self.param_map()}


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Reply:
    """A model's answer: one text per sample, with what it cost."""

    texts: list[str]
    model: str
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    """Dollars from litellm's cost map; None when the model is not in it."""
    seconds: float = 0.0
    cached: bool = False

    @property
    def text(self) -> str:
        return self.texts[0]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        usage = Usage(**data.get("usage", {}))
        return cls(texts=list(data["texts"]), model=str(data.get("model", "")), usage=usage,
                   cost_usd=data.get("cost_usd"), seconds=float(data.get("seconds", 0.0)),
                   cached=bool(data.get("cached", False)))


def secret_values() -> list[str]:
    """Values of environment variables that look like credentials (API keys, tokens), longest first."""
    values = [v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 8]
    return sorted(set(values), key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with any credential from the environment replaced, before it is written anywhere."""
    for value in secret_values():
        if value in text:
            text = text.replace(value, "[redacted]")
    return text
