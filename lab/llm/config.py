"""LLM settings: one model for every role or a model per role, written resolved into each run (never a key)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from lab.errors import LabError
from lab.llm.backends import Cassette, LiteLLMBackend
from lab.llm.cache import ResponseCache
from lab.llm.client import LLM, make_backend
from lab.llm.ledger import Ledger

ROLES = ("curriculum", "skill_writer", "reward_designer", "critic", "summaries")
OFFLINE = "offline"


def default_cache_path() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return root / "embodied-lab" / "llm-cache.sqlite"


class LLMSettings(BaseModel):
    """Which model plays each role, and how it is called."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(OFFLINE, description="offline (no model), replay:FILE, file:DIR, or a litellm model name "
                                            "such as openai/gpt-4o, anthropic/claude-sonnet-4-5, ollama/qwen2.5-coder")
    roles: dict[str, str] = Field(default_factory=dict,
                                  description=f"a model per role, overriding `model`; roles: {', '.join(ROLES)}")
    api_base: str | None = Field(None, description="base URL of the provider or of a local server (vLLM, Ollama)")
    temperature: float = Field(0.7, ge=0, le=2, description="sampling temperature")
    max_tokens: int | None = Field(None, ge=1, description="cap on the tokens of each reply")
    timeout_s: float = Field(120.0, gt=0, description="seconds one call may take before it is retried")
    retries: int = Field(4, ge=0, le=20, description="retries on rate limits, server errors and timeouts")
    backoff_s: float = Field(1.0, ge=0, description="first retry's wait; doubles each retry (capped at 30 s)")
    max_concurrency: int = Field(4, ge=1, le=256, description="calls in flight at once")
    cache: bool = Field(True, description="serve repeated requests from the on-disk cache")
    cache_path: Path | None = Field(None, description="the cache's SQLite file (default ~/.cache/embodied-lab/)")
    record: Path | None = Field(None, description="write every request and reply to this cassette (JSONL)")
    budget_usd: float | None = Field(None, gt=0, description="stop the run cleanly once this many dollars are spent")
    file_wait_s: float = Field(3600.0, gt=0, description="how long the file backend waits for each answer")

    def model_for(self, role: str) -> str:
        if role not in ROLES and role != "default":
            raise LabError(f"unknown LLM role {role!r}", hint=f"roles: {', '.join(ROLES)}")
        return self.roles.get(role, self.model)

    def check_roles(self) -> None:
        unknown = sorted(set(self.roles) - set(ROLES))
        if unknown:
            raise LabError(f"unknown LLM role(s) in the config: {', '.join(unknown)}",
                           hint=f"roles: {', '.join(ROLES)}")


def check_models(settings: LLMSettings) -> None:
    """Raise a LabError for a model no role could call (an unknown provider, a cassette that is not there, a
    file: folder that cannot be made), so a command refuses it before it makes a run directory."""
    settings.check_roles()
    for model in sorted({settings.model_for(role) for role in ROLES} - {OFFLINE}):
        backend = make_backend(model, settings.api_base, settings.file_wait_s)
        if isinstance(backend, LiteLLMBackend):
            backend.check_model(model)


def build_llms(settings: LLMSettings, run_dir: Path | None = None) -> dict[str, LLM | None]:
    """One LLM per role (None where the role is offline), sharing the cache, the ledger and the recorder."""
    settings.check_roles()
    ledger = Ledger(path=run_dir / "llm_ledger.jsonl" if run_dir else None, budget_usd=settings.budget_usd)
    recorder = Cassette(settings.record) if settings.record else None
    cache = None
    backends: dict[str, object] = {}
    llms: dict[str, LLM | None] = {}
    for role in ROLES:
        model = settings.model_for(role)
        if model == OFFLINE:
            llms[role] = None
            continue
        if cache is None and settings.cache and not model.startswith(("replay:", "file:")):
            cache = ResponseCache(settings.cache_path or default_cache_path())
        backend = backends.get(model) or make_backend(model, settings.api_base, settings.file_wait_s)
        backends[model] = backend
        llms[role] = LLM(model, backend, role=role, temperature=settings.temperature,  # type: ignore[arg-type]
                         max_tokens=settings.max_tokens, timeout=settings.timeout_s, retries=settings.retries,
                         backoff=settings.backoff_s, max_concurrency=settings.max_concurrency,
                         cache=None if model.startswith(("replay:", "file:")) else cache, ledger=ledger,
                         recorder=recorder)
    return llms


def spent_usd(llms: dict[str, LLM | None]) -> float:
    """What a run's models have cost so far: they share one ledger (0 when every role is offline)."""
    return next((llm.ledger.spent_usd for llm in llms.values() if llm is not None), 0.0)
