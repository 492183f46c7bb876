"""The Eureka optimizer: designers (a model, or the offline term search) write reward programs, reflection feeds
training statistics back, and the search loop trains, ranks and evolves them against the sparse and human baselines.

It sits above training and executors, below the curriculum. The loop's names load training (stable-baselines3,
torch) on first use, so the task writer and the designers import without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lab.search.config import SearchConfig

if TYPE_CHECKING:
    from lab.search.loop import RewardSearch

_LOOP_NAMES = ("RewardSearch",)

__all__ = ["RewardSearch", "SearchConfig"]


def __getattr__(name: str) -> Any:
    if name in _LOOP_NAMES:
        return getattr(importlib.import_module("lab.search.loop"), name)
    raise AttributeError(f"module 'lab.search' has no attribute {name!r}")
