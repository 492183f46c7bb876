"""Trainers (stable-baselines3 PPO and SAC), learning curves, and evaluation over seeds."""

from lab.policy import Policy, load_policy
from lab.training.config import PPOSettings, SACSettings, TrainConfig
from lab.training.evaluation import Evaluation, evaluate_policy, render_policy
from lab.training.trainer import TrainResult, train

__all__ = [
    "Evaluation",
    "PPOSettings",
    "Policy",
    "SACSettings",
    "TrainConfig",
    "TrainResult",
    "evaluate_policy",
    "load_policy",
    "render_policy",
    "train",
]
