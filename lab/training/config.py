"""Training configuration: typed, documented per field, written resolved into every run directory."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lab.training.presets import with_preset


class PPOSettings(BaseModel):
    """Hyperparameters of PPO, the lab's batched one and stable-baselines3's (per-env rollout length; minibatches
    over all envs' steps)."""

    model_config = ConfigDict(extra="forbid")

    n_steps: int = Field(64, ge=8, description="steps collected per env before each update")
    batch_size: int = Field(1024, ge=8, description="minibatch size of each gradient step (the lab's PPO takes at "
                                                     "most a quarter of a rollout, so an epoch has 4 steps or more)")
    n_epochs: int = Field(5, ge=1, description="passes over each rollout")
    learning_rate: float = Field(3e-4, gt=0, description="Adam learning rate")
    gamma: float = Field(0.99, gt=0, le=1, description="discount factor")
    gae_lambda: float = Field(0.95, ge=0, le=1, description="GAE lambda")
    clip_range: float = Field(0.2, gt=0, description="PPO clipping of the policy ratio")
    ent_coef: float = Field(0.0, ge=0, description="entropy bonus")
    vf_coef: float = Field(0.5, ge=0, description="weight of the value loss")
    max_grad_norm: float = Field(0.5, gt=0, description="gradients are clipped to this norm")
    log_std_init: float = Field(-1.0, description="initial log standard deviation of the Gaussian policy (-1: a "
                                                  "standard deviation of 0.37 on actions in [-1, 1])")
    net_arch: list[int] = Field(default_factory=lambda: [64, 64], description="hidden layers of policy and value")
    activation: Literal["tanh", "relu", "elu"] = Field("tanh", description="activation after each hidden layer")


class SACSettings(BaseModel):
    """Hyperparameters of stable-baselines3 SAC."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = Field(3e-4, gt=0, description="Adam learning rate")
    buffer_size: int = Field(300_000, ge=1000, description="replay buffer capacity (transitions)")
    learning_starts: int = Field(1000, ge=0, description="random-action steps before learning starts")
    batch_size: int = Field(256, ge=8, description="minibatch size")
    tau: float = Field(0.005, gt=0, le=1, description="target network soft-update rate")
    gamma: float = Field(0.99, gt=0, le=1, description="discount factor")
    train_freq: int = Field(1, ge=1, description="env steps between updates")
    gradient_steps: int = Field(1, ge=1, description="gradient steps per update")
    net_arch: list[int] = Field(default_factory=lambda: [256, 256], description="hidden layers of actor and critics")


class TrainConfig(BaseModel):
    """One training run: a policy for one task of one world, on one reward program."""

    model_config = ConfigDict(extra="forbid")

    world: str = Field(description="world name (`lab worlds` lists them)")
    task: str = Field(description="task spec, e.g. `forward` or `place(cube_red, zone_blue)`")
    task_program: str | None = Field(None, description="a file defining compute_success(state) and "
                                                      "compute_fitness(state); `task` is then the task in words")
    reward: str = Field("human", description="`human`, `sparse` (the task's baselines) or a reward program file")
    algo: Literal["ppo", "sb3-ppo", "sac"] = Field(
        "ppo", description="`ppo`: the lab's PPO on the batched world; `sb3-ppo`, `sac`: stable-baselines3's")
    preset: Literal["auto", "plain", "runners", "small-batches"] = Field(
        "auto", description="PPO settings measured best per world, filling what the config leaves unset (see "
                            "lab/training/presets.py): `auto` takes the world's, `plain` the field defaults")
    steps: int = Field(1_000_000, ge=1, description="total env steps of training (rl-zoo3's MuJoCo budget)")
    seed: int = Field(0, ge=0, description="seeds the policy, the envs (seed + i) and the sampling")
    n_envs: int | None = Field(None, ge=1, le=8192,
                               description="envs stepped together; default 64 for ppo, 16 for sb3-ppo, 1 for sac")
    threads: int | None = Field(None, ge=1, le=256, description="threads stepping the batched simulation; default "
                                                                "the CPU cores this process may use")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="torch device; auto takes CUDA when present")
    backend: Literal["auto", "native", "warp"] = Field(
        "auto", description="simulation of the lab's PPO: `native` (MuJoCo on CPU threads), `warp` (MuJoCo Warp, "
                            "the gpu extra, on the GPU when there is one); auto takes warp where there is a GPU")
    torch_threads: int = Field(1, ge=1, description="torch CPU threads in the training process")
    normalize: bool = Field(True, description="normalise observations and rewards (running statistics)")
    curve_points: int = Field(20, ge=10, le=1000, description="points on each learning curve")
    target_fitness: float | None = Field(None, description="stop early once episodes reach this mean task fitness")
    eval_episodes: int = Field(10, ge=1, description="episodes of the final evaluation, one seed each")
    eval_seed: int = Field(10_000, ge=0, description="first seed of the final evaluation (then +1 per episode)")
    reward_call_seconds: float = Field(2.0, gt=0, description="time limit on one reward program call")
    reward_memory_mb: int = Field(512, ge=16, description="memory a reward program may allocate")
    ppo: PPOSettings = Field(default_factory=lambda: PPOSettings())
    sac: SACSettings = Field(default_factory=lambda: SACSettings())

    @model_validator(mode="before")
    @classmethod
    def _fill_preset(cls, data: Any) -> Any:
        """The world's PPO preset under the given settings (`preset` is then a name, never `auto`)."""
        return with_preset(data) if isinstance(data, dict) else data

    @property
    def envs(self) -> int:
        return self.n_envs if self.n_envs is not None else {"ppo": 64, "sb3-ppo": 16, "sac": 1}[self.algo]

    @property
    def simulation_threads(self) -> int:
        return self.threads if self.threads is not None else max(1, len(os.sched_getaffinity(0)))
