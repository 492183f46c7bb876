"""Reward programs: load, check, dry-run, run sandboxed, and apply to training through a vectorised wrapper.

The wrapper's names load stable-baselines3 (and torch) on first use, not when a reward or task program is imported:
skills and curricula use programs without training anything.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lab.rewards.program import (
    REWARD_RULES,
    DryRun,
    RewardProgram,
    SandboxedReward,
    dry_run,
    resolve_reward,
    sample_states,
)

if TYPE_CHECKING:
    from lab.rewards.wrapper import EpisodeStats, RewardVecEnv, StateBatch, StateRecorder, make_rewarded_env

_WRAPPER_NAMES = ("EpisodeStats", "RewardVecEnv", "StateBatch", "StateRecorder", "make_rewarded_env")

__all__ = [
    "REWARD_RULES",
    "DryRun",
    "EpisodeStats",
    "RewardProgram",
    "RewardVecEnv",
    "SandboxedReward",
    "StateBatch",
    "StateRecorder",
    "dry_run",
    "make_rewarded_env",
    "resolve_reward",
    "sample_states",
]


def __getattr__(name: str) -> Any:
    if name in _WRAPPER_NAMES:
        return getattr(importlib.import_module("lab.rewards.wrapper"), name)
    raise AttributeError(f"module 'lab.rewards' has no attribute {name!r}")
