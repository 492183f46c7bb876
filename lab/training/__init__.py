"""Trainers (stable-baselines3 PPO and SAC), learning curves, and evaluation over seeds.

The settings (`TrainConfig`) import without the trainers; the trainers' names load stable-baselines3 and torch on
first use, so a command that only validates settings starts quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lab.training.config import PPOSettings, SACSettings, TrainConfig

if TYPE_CHECKING:
    from lab.policy import Policy, load_policy
    from lab.training.evaluation import Evaluation, evaluate_policy, render_policy
    from lab.training.trainer import TrainResult, train

_LAZY = {"Evaluation": "lab.training.evaluation", "evaluate_policy": "lab.training.evaluation",
         "render_policy": "lab.training.evaluation", "TrainResult": "lab.training.trainer",
         "train": "lab.training.trainer", "Policy": "lab.policy", "load_policy": "lab.policy"}

__all__ = ["Evaluation", "PPOSettings", "Policy", "SACSettings", "TrainConfig", "TrainResult", "evaluate_policy",
           "load_policy", "render_policy", "train"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lab.training' has no attribute {name!r}")
