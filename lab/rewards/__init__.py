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
from lab.rewards.wrapper import EpisodeStats, RewardVecEnv, StateBatch, StateRecorder, make_rewarded_env

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
