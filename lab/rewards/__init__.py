"""Reward programs: load, check, dry-run, run sandboxed, and apply to training through a vectorised wrapper."""

from lab.rewards.program import (
    REWARD_RULES,
    DryRun,
    RewardProgram,
    SandboxedReward,
    dry_run,
    resolve_reward,
    sample_states,
)
from lab.rewards.wrapper import EpisodeStats, RewardVecEnv, StateInInfo

__all__ = [
    "REWARD_RULES",
    "DryRun",
    "EpisodeStats",
    "RewardProgram",
    "RewardVecEnv",
    "SandboxedReward",
    "StateInInfo",
    "dry_run",
    "resolve_reward",
    "sample_states",
]
