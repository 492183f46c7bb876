"""What a run's model calls cost: calls, tokens, dollars and seconds per role, and a budget that stops the run."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab.errors import LabError
from lab.llm.types import Reply, Request, redact


class BudgetExceeded(LabError):
    """The run has spent its LLM budget; no further calls are made."""


@dataclass
class RoleTotals:
    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unknown_cost_calls: int = 0
    seconds: float = 0.0


@dataclass
class Ledger:
    """Totals per role; optionally appended, one line per call (with the messages sent, so a user can read what
    each role was told), to a JSONL file in the run directory."""

    path: Path | None = None
    budget_usd: float | None = None
    roles: dict[str, RoleTotals] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def spent_usd(self) -> float:
        return sum(t.cost_usd for t in self.roles.values())

    def check_budget(self) -> None:
        """Raise BudgetExceeded when the budget is spent (called before each call to a model)."""
        if self.budget_usd is not None and self.spent_usd >= self.budget_usd:
            raise BudgetExceeded(
                f"the LLM budget of ${self.budget_usd:g} is spent (${self.spent_usd:.6f} so far); the run stops here",
                hint="raise --llm-budget, or resume the run: cached replies cost nothing",
            )

    def record(self, request: Request, reply: Reply) -> None:
        with self._lock:
            totals = self.roles.setdefault(request.role, RoleTotals())
            totals.calls += 1
            totals.cached += reply.cached
            totals.prompt_tokens += reply.usage.prompt_tokens
            totals.completion_tokens += reply.usage.completion_tokens
            totals.seconds += reply.seconds
            if reply.cost_usd is None:
                totals.unknown_cost_calls += 1
            else:
                totals.cost_usd += reply.cost_usd
            if self.path is not None:
                line = {"time": round(time.time(), 3), "role": request.role, "model": request.model,
                        "samples": len(reply.texts), "cached": reply.cached,
                        "prompt_tokens": reply.usage.prompt_tokens,
                        "completion_tokens": reply.usage.completion_tokens, "cost_usd": reply.cost_usd,
                        "seconds": round(reply.seconds, 4),
                        "messages": [{**m, "content": redact(m["content"])} for m in request.message_list()]}
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a") as handle:
                    handle.write(json.dumps(line) + "\n")
