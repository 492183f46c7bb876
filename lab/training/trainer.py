"""Train a policy on a reward program, and load it back from its run directory.

`ppo` (the default) is the lab's PPO on the world's batch (lab.training.ppo, lab.worlds.batched): every copy of the
world stepped together, the reward program called once per step on the whole batch. `sb3-ppo` and `sac` are
stable-baselines3's, on one Gymnasium env per copy, for users who want SB3 models.

A run directory holds: `config.json` (resolved), `events.jsonl`, `reward.py`, `curves.json`, the policy
(`policy.npz`, and `checkpoint.pt` from `ppo` or `policy.zip` + `vecnormalize.pkl` from SB3: see lab/policy.py),
`tb/` (TensorBoard) and `eval.json` (the final evaluation over seeds).
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

from lab.policy import CHECKPOINT, POLICY_EXPORT, Actor, load_policy, resolve_device, save_policy
from lab.rewards.program import RewardProgram, SandboxedReward, dry_run, resolve_reward
from lab.rewards.task_program import make_task
from lab.rewards.wrapper import RewardedBatch, RewardFunction, RewardVecEnv, make_rewarded_env
from lab.runs import CONFIG, Run
from lab.sandbox import ProgramError, SandboxLimits
from lab.training.config import TrainConfig
from lab.training.curves import CurveRecorder, LearningCurve
from lab.training.evaluation import Evaluation, evaluate_policy
from lab.training.ppo import ACTIVATION_MODULES, BatchedPPO
from lab.training.records import (
    CurvePoint,
    Evaluated,
    RewardDryRun,
    RewardRejected,
    Trained,
    TrainingFailed,
    TrainingStarted,
)
from lab.worlds import get_world
from lab.worlds.core import Task, World

REWARD = "reward.py"
CURVES = "curves.json"
EVALUATION = "eval.json"

ProgressFn = Callable[[int, dict[str, Any] | None], None]


@dataclass
class TrainResult:
    run: Run
    config: TrainConfig
    curve: list[dict[str, Any]]
    evaluation: Evaluation
    steps: int
    seconds: float
    stopped_early: bool
    device: str

    @property
    def steps_per_second(self) -> float:
        return self.steps / max(self.seconds, 1e-9)


def make_training_env(world: World, task: Task, reward_fn: RewardFunction, n_envs: int,
                      seed: int) -> tuple[Any, RewardVecEnv]:
    """World envs (seeds seed, seed + 1, ...) stepped together, rewarded by `reward_fn`, with episode monitoring;
    returns the outermost env and the rewarding one (whose totals the learning curve takes)."""
    rewarded = make_rewarded_env(world, task, reward_fn, [seed + i for i in range(n_envs)])
    return VecMonitor(rewarded), rewarded


def make_model(config: TrainConfig, venv: Any, device: str) -> Any:
    """The stable-baselines3 model of `config` on `venv` (`sb3-ppo` or `sac`)."""
    if config.algo != "sac":
        settings = config.ppo.model_dump()
        policy_kwargs = {"net_arch": settings.pop("net_arch"), "log_std_init": settings.pop("log_std_init"),
                         "activation_fn": ACTIVATION_MODULES[settings.pop("activation")]}
        return PPO("MlpPolicy", venv, seed=config.seed, device=device, verbose=0, policy_kwargs=policy_kwargs,
                   **settings)
    settings = config.sac.model_dump()
    net_arch = settings.pop("net_arch")
    return SAC("MlpPolicy", venv, seed=config.seed, device=device, verbose=0,
               policy_kwargs={"net_arch": net_arch}, **settings)


def train(config: TrainConfig, run: Run | Path | None = None, progress: ProgressFn | None = None) -> TrainResult:
    """Train a policy as `config` says, writing everything into `run` (a Run, a new directory's path, or by default
    a fresh directory under runs/). torch's thread count is the config's while training and given back after.

    The reward program is checked and dry-run before any training; a program that fails while training stops the
    run with a ProgramError that names the call and the program's line, and the run's log records it.
    """
    world = get_world(config.world)
    judged = make_task(world, config.task, config.task_program)
    threads = torch.get_num_threads()
    try:
        return _train(config, world, judged.task, run, progress)
    finally:
        torch.set_num_threads(threads)
        judged.close()


def _train(config: TrainConfig, world: World, task: Task, run: Run | Path | None,
           progress: ProgressFn | None) -> TrainResult:
    program = resolve_reward(config.reward, task)
    if not isinstance(run, Run):
        run = Run.create("train", f"{world.name}-{task.family.name}-{program.name}", out=run)
    device = resolve_device(config.device)
    run.write_json(CONFIG, {
        "command": "train", **config.model_dump(),
        "resolved": {"world_version": world.version, "task": task.id, "task_description": task.description,
                     "reward_origin": program.origin, "reward_sha": program.sha, "n_envs": config.envs,
                     "device": device, "backend": simulation_backend(config, world) if config.algo == "ppo"
                     else "gymnasium", "threads": config.simulation_threads},
    })
    run.write_text(REWARD, program.source)
    if config.task_program is not None:
        run.write_text("task.py", Path(config.task_program).read_text())
    try:
        checked = dry_run(program, world, task, seed=config.seed)
    except ProgramError as error:
        run.write(RewardRejected(stage="dry_run", error=error.feedback()))
        raise
    run.write(RewardDryRun(components=list(checked.components), reward_range=list(checked.reward_range),
                           component_ranges={k: list(v) for k, v in checked.component_ranges.items()}))

    torch.set_num_threads(config.torch_threads)
    limits = SandboxLimits(call_seconds=config.reward_call_seconds, memory_mb=config.reward_memory_mb)
    reward_fn = SandboxedReward(program, task, limits)
    trainer = _learn_batched if config.algo == "ppo" else _learn_sb3
    steps, seconds, curve = trainer(config, run, world, task, reward_fn, device, progress)
    run.write(Trained(steps=steps, seconds=round(seconds, 3), steps_per_second=round(steps / max(seconds, 1e-9), 1),
                      stopped_early=curve.stopped_early))
    run.write_json(CURVES, curve.points)

    policy = load_policy(run, device=device)
    seeds = [config.eval_seed + i for i in range(config.eval_episodes)]
    evaluation = evaluate_run(run, policy, world, task, program, seeds, limits)
    return TrainResult(run, config, curve.points, evaluation, steps, seconds, curve.stopped_early, device)


def simulation_backend(config: TrainConfig, world: World) -> str:
    """The batch backend a run simulates on: the config's, or with `auto` MuJoCo Warp where the world has it, the
    gpu extra is installed and an NVIDIA GPU is there (its driver is loaded), else the native one."""
    if config.backend != "auto":
        return config.backend
    gpu = Path("/proc/driver/nvidia/version").exists() and importlib.util.find_spec("mujoco_warp") is not None
    return "warp" if gpu and "warp" in world.backends else "native"


def _learn_batched(config: TrainConfig, run: Run, world: World, task: Task, reward_fn: RewardFunction, device: str,
                   progress: ProgressFn | None) -> tuple[int, float, CurveRecorder]:
    """The lab's PPO on the world's batch (native where the world has one); saves the policy into the run."""
    batch = world.make_batch(task, config.envs, seed=config.seed, threads=config.simulation_threads,
                             backend=simulation_backend(config, world), device="auto")
    rewarded = RewardedBatch(batch, task, reward_fn)
    learner = BatchedPPO(batch.observation_size, batch.action_low, batch.action_high, config.ppo, seed=config.seed,
                         device=device, normalize=config.normalize,
                         update_threads=max(config.torch_threads, config.simulation_threads))
    curve = CurveRecorder(rewarded, config.steps, config.curve_points, config.target_fitness,
                          on_point=lambda point: run.write(CurvePoint(**point)), on_progress=progress,
                          logger=configure(str(run.file("tb")), ["tensorboard"]))
    run.write(TrainingStarted(algo=config.algo, steps=config.steps, n_envs=config.envs, device=device))
    start = time.perf_counter()
    curve.start()
    try:
        learner.learn(rewarded, config.steps, on_step=curve.step)
    except ProgramError as error:
        run.write(TrainingFailed(step=learner.num_timesteps, error=error.feedback()))
        raise
    finally:
        rewarded.close()
    seconds = time.perf_counter() - start
    curve.end(learner.num_timesteps)
    partial = run.file(".checkpoint.partial.pt")
    torch.save(learner.checkpoint(), partial)
    os.replace(partial, run.file(CHECKPOINT))
    learner.export().save(run.file(POLICY_EXPORT))
    return learner.num_timesteps, seconds, curve


def _learn_sb3(config: TrainConfig, run: Run, world: World, task: Task, reward_fn: RewardFunction, device: str,
               progress: ProgressFn | None) -> tuple[int, float, LearningCurve]:
    """stable-baselines3's PPO or SAC on one Gymnasium env per copy; saves the policy into the run as SB3 does."""
    venv, rewarded = make_training_env(world, task, reward_fn, config.envs, config.seed)
    if config.normalize:
        gamma = config.sac.gamma if config.algo == "sac" else config.ppo.gamma
        venv = VecNormalize(venv, norm_obs=True, norm_reward=config.algo != "sac", gamma=gamma)
    model = make_model(config, venv, device)
    model.set_logger(configure(str(run.file("tb")), ["tensorboard"]))
    curve = LearningCurve(rewarded, config.steps, config.curve_points, config.target_fitness,
                          on_point=lambda point: run.write(CurvePoint(**point)), on_progress=progress)
    run.write(TrainingStarted(algo=config.algo, steps=config.steps, n_envs=config.envs, device=device))
    start = time.perf_counter()
    try:
        model.learn(total_timesteps=config.steps, callback=curve)
    except ProgramError as error:
        run.write(TrainingFailed(step=int(model.num_timesteps), error=error.feedback()))
        raise
    finally:
        venv.close()
    seconds = time.perf_counter() - start
    save_policy(run, model, venv if config.normalize else None)
    return int(model.num_timesteps), seconds, curve


def evaluate_run(run: Run, policy: Actor, world: World, task: Task, program: RewardProgram, seeds: list[int],
                 limits: SandboxLimits | None = None, record: str = EVALUATION,
                 deterministic: bool = True) -> Evaluation:
    """Evaluate `policy` over `seeds`, log the result, and write it to `record` in the run directory."""
    with SandboxedReward(program, task, limits) as reward_fn:
        evaluation = evaluate_policy(policy, world, task, seeds, reward_fn, deterministic)
    run.write_json(record, evaluation.to_dict())
    run.write(Evaluated.of(record, deterministic, evaluation.summary()))
    return evaluation


def run_task(run: Run) -> tuple[World, Task, RewardProgram]:
    """The world, task and reward program a run was trained on."""
    config = run.read_json(CONFIG)
    world = get_world(config["world"])
    task = make_task(world, config["task"], config.get("task_program")).task
    program = RewardProgram.from_file(run.file(REWARD), name=Path(str(config["reward"])).stem)
    return world, task, program
