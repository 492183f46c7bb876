"""Training at simulator speed: `lab train` against the physics limit and against plain stable-baselines3.

Parts (`--parts`; `throughput` and `threshold` by default; `budget` takes half an hour here, `warp` wants a GPU):

1. `throughput`, per world: steps/s of `lab train WORLD TASK --reward human` (the lab's PPO on the native batch, 64
   copies, the sandboxed human reward, curves, TensorBoard) against (a) the physics limit, the same batch stepping
   random actions with no policy and no reward, and (b) plain stable-baselines3 PPO on `gym.make(ENV_ID)` (16 envs,
   rollouts of 128, minibatches of 64, 10 epochs: the lab's former defaults) with the built-in reward. Both
   trainings time learning only; the three alternate for --rounds rounds (this machine's speed drifts by tens of
   percent from minute to minute) and the medians are the figures. Floor on halfcheetah: >= 6x SB3 and >= 60% of
   the physics limit.
2. `threshold`: wall seconds until the training episodes' mean fitness reaches halfcheetah forward 1.5 m/s and hopper
   forward 1.0 m/s: the lab's PPO on its defaults (the world's preset) against SB3 PPO with rl-zoo3's tuned
   hyperparameters (Hopper-v3, HalfCheetah-v3 in rl-baselines3-zoo's ppo.yml; ortho_init=False is not reproduced) run
   through `lab train --algo sb3-ppo`, so both are judged by the same curve. SB3 gets at most --sb3-steps steps; a
   run that does not reach the threshold is reported as such (the ratio is then an upper bound). Floor: ours <= 0.3x
   SB3's time.
3. `budget`: the human reward at 1M steps (each world's preset) over --seeds seeds on halfcheetah, hopper, walker2d
   and ant: the deterministic policy's return (Gymnasium's built-in reward summed over an episode) and task fitness
   over 5 held-out episodes, next to rl-zoo3's published PPO returns (1M steps, v3 envs).
4. `presets`: each world's PPO preset (lab/training/presets.py) against the plain defaults, --seeds seeds at
   --preset-steps steps (300k): the deterministic policy's task fitness over 10 held-out episodes and the wall
   seconds of each run, on the worlds whose preset is not `plain` (halfcheetah, walker2d, ant, hopper,
   dmc-cartpole balance, dmc-cheetah run, dmc-walker walk).
5. `warp` (on a machine with an NVIDIA GPU and the gpu extra): MuJoCo Warp's env steps/s at --warp-worlds worlds
   (4,096) on ant, humanoid and halfcheetah, and one halfcheetah run to 1.5 m/s on it (floor: 100k steps/s).

Run: `python bench/bench_training.py [--parts throughput threshold] [--worlds ...] [--rounds 2]` (in `make bench`);
`python bench/bench_training.py --parts presets [--seeds 3]` (about 40 min here);
on a GPU machine: `python bench/bench_training.py --parts warp` (a smoke check on the CPU: `--parts warp
--warp-worlds 16 --steps 1000 --warp-budget 20000`).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, VecNormalize

from lab.runs import Run
from lab.training import TrainConfig, train
from lab.training.presets import preset_for
from lab.training.trainer import make_model
from lab.worlds import get_world
from lab.worlds.gym_adapters import ROBOTS

ENV_IDS = {spec.world: spec.env_id for spec in ROBOTS}
TASKS = {"halfcheetah": "forward", "hopper": "forward", "ant": "forward", "humanoid": "forward",
         "reacher": "reach", "walker2d": "forward"}
SB3_FORMER_DEFAULTS = {"n_envs": 16, "ppo": {"n_steps": 128, "batch_size": 64, "n_epochs": 10}}
RL_ZOO_PPO: dict[str, dict[str, Any]] = {
    "halfcheetah": {"n_envs": 1, "ppo": {"n_steps": 512, "batch_size": 64, "gamma": 0.98, "learning_rate": 2.0633e-05,
                                         "ent_coef": 0.000401762, "clip_range": 0.1, "n_epochs": 20,
                                         "gae_lambda": 0.92, "max_grad_norm": 0.8, "vf_coef": 0.58096,
                                         "log_std_init": -2, "activation": "relu", "net_arch": [256, 256]}},
    "hopper": {"n_envs": 1, "ppo": {"n_steps": 512, "batch_size": 32, "gamma": 0.999, "learning_rate": 9.80828e-05,
                                    "ent_coef": 0.00229519, "clip_range": 0.2, "n_epochs": 5, "gae_lambda": 0.99,
                                    "max_grad_norm": 0.7, "vf_coef": 0.835671, "log_std_init": -2,
                                    "activation": "relu", "net_arch": [256, 256]}},
}
PRESET_TASKS = {"halfcheetah": "forward", "walker2d": "forward", "ant": "forward", "hopper": "forward",
                "dmc-cartpole": "balance",
                "dmc-cheetah": "run", "dmc-walker": "walk"}
THRESHOLDS = {"halfcheetah": 1.5, "hopper": 1.0}
RL_ZOO_PUBLISHED = {"halfcheetah": (5819.1, 663.5), "hopper": (2410.4, 10.0), "walker2d": (3478.8, 821.7),
                    "ant": (1327.2, 451.6)}
"""rl-baselines3-zoo's benchmark.md, PPO at 1M steps on the v3 envs: mean and std of the episode return."""


def cores() -> int:
    return len(os.sched_getaffinity(0))


def physics_limit(world_name: str, steps: int, copies: int = 64) -> float:
    """Env steps/s of the native batch stepping random actions: no policy, no reward program."""
    world = get_world(world_name)
    with world.make_batch(TASKS[world_name], copies, seed=0, threads=cores()) as batch:
        batch.reset()
        rng = np.random.default_rng(0)
        actions = rng.uniform(batch.action_low, batch.action_high, (64, copies, batch.action_size))
        batches = max(1, steps // copies)
        start = time.perf_counter()
        for index in range(batches):
            batch.step(actions[index % len(actions)])
        return batches * copies / (time.perf_counter() - start)


def plain_sb3(world_name: str, steps: int) -> float:
    """Env steps/s of plain SB3 PPO on gym.make(ENV_ID) with the built-in reward (learning time only)."""
    config = TrainConfig.model_validate({"world": world_name, "task": TASKS[world_name], "algo": "sb3-ppo",
                                         "steps": steps, **SB3_FORMER_DEFAULTS})
    horizon = get_world(world_name).task(TASKS[world_name]).horizon
    env_id = ENV_IDS[world_name]
    venv = VecNormalize(VecMonitor(DummyVecEnv(
        [lambda: gym.make(env_id, max_episode_steps=horizon) for _ in range(config.envs)])), gamma=config.ppo.gamma)
    venv.seed(0)
    model = make_model(config, venv, "cpu")
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    seconds = time.perf_counter() - start
    venv.close()
    return model.num_timesteps / seconds


def lab_train(world_name: str, steps: int, **settings: Any) -> Any:
    values = {"world": world_name, "task": TASKS.get(world_name) or PRESET_TASKS[world_name], "reward": "human",
              "steps": steps, "device": "cpu", "eval_episodes": 5, **settings}
    with tempfile.TemporaryDirectory() as folder:
        return train(TrainConfig.model_validate(values), Run.create("train", "bench", out=Path(folder) / "run"))


def throughput(worlds: list[str], steps: int, rounds: int) -> None:
    print(f"throughput: steps/s, {steps:,} steps per measurement, {cores()} cores, 1 torch thread while stepping, "
          f"medians of {rounds} alternating rounds")
    print("  lab train on the plain PPO defaults (`--set preset=plain`: 20 gradient steps per 4096 samples), and on the"
          " world's preset where it has another (more gradient steps per sample: slower per step, more per sample)")
    print(f"  {'world':12} {'physics':>9} {'lab train':>10} {'plain SB3':>10} {'vs SB3':>7} {'of physics':>11}"
          f" {'preset':>14} {'lab train':>10} {'vs SB3':>7}")
    for world_name in worlds:
        preset = preset_for(world_name)
        limits, ours, presets, theirs = [], [], [], []
        for _ in range(rounds):
            limits.append(physics_limit(world_name, steps))
            ours.append(lab_train(world_name, steps, eval_episodes=1, preset="plain").steps_per_second)
            if preset != "plain":
                presets.append(lab_train(world_name, steps, eval_episodes=1).steps_per_second)
            theirs.append(plain_sb3(world_name, min(steps, 50_000)))
        limit, mine, sb3 = (float(np.median(values)) for values in (limits, ours, theirs))
        tuned = (f" {preset:>14} {np.median(presets):10,.0f} {np.median(presets) / sb3:6.1f}x" if presets else "")
        print(f"  {world_name:12} {limit:9,.0f} {mine:10,.0f} {sb3:10,.0f} {mine / sb3:6.1f}x {mine / limit:10.0%}"
              + tuned, flush=True)


def time_to(world_name: str, threshold: float, budget: int, **settings: Any) -> tuple[float | None, float, int]:
    """Seconds of training until the curve's episode fitness first reaches `threshold` (None if it never did),
    the seconds trained, and the steps."""
    result = lab_train(world_name, budget, target_fitness=threshold, curve_points=200, **settings)
    reached = [point["time"] for point in result.curve if point.get("fitness", -np.inf) >= threshold]
    return (reached[0] if reached else None), result.seconds, result.steps


def threshold_part(sb3_budget: int) -> None:
    print("time to threshold: wall seconds of training until the training episodes' mean task fitness reaches it")
    for world_name, threshold in THRESHOLDS.items():
        ours, ours_total, ours_steps = time_to(world_name, threshold, 3_000_000)
        sb3, sb3_total, sb3_steps = time_to(world_name, threshold, sb3_budget, algo="sb3-ppo",
                                            **RL_ZOO_PPO[world_name])
        mine = f"{ours:.0f} s ({ours_steps:,} steps)" if ours is not None else f"not in {ours_total:.0f} s"
        theirs = f"{sb3:.0f} s ({sb3_steps:,} steps)" if sb3 is not None else (
            f"not in {sb3_total:.0f} s ({sb3_steps:,} steps)")
        ratio = (f"{ours / sb3:.2f}x" if ours is not None and sb3 is not None else
                 f"<= {ours / sb3_total:.2f}x" if ours is not None else "n/a")
        print(f"  {world_name} forward >= {threshold} m/s: lab {mine}; SB3 PPO rl-zoo3 {theirs}; ratio {ratio}",
              flush=True)


def budget_part(worlds: list[str], steps: int, seeds: int) -> None:
    print(f"learning at {steps:,} steps, human reward, {seeds} seeds, deterministic policy over 5 held-out episodes")
    for world_name in worlds:
        returns, fitness, seconds = [], [], []
        for seed in range(seeds):
            result = lab_train(world_name, steps, seed=seed)
            episodes = result.evaluation.episodes
            returns.append(float(np.mean([e["env_reward"] for e in episodes])))
            fitness.append(float(np.mean([e["fitness"] for e in episodes])))
            seconds.append(result.seconds)
        published = RL_ZOO_PUBLISHED.get(world_name)
        reference = f"; rl-zoo3 PPO {published[0]:,.0f} +- {published[1]:,.0f}" if published else ""
        print(f"  {world_name}: return {np.mean(returns):,.0f} +- {np.std(returns):,.0f} "
              f"({', '.join(f'{r:,.0f}' for r in returns)}); fitness {np.mean(fitness):.2f} +- "
              f"{np.std(fitness):.2f}; {np.mean(seconds):.0f} s per run{reference}", flush=True)


def presets_part(steps: int, seeds: int) -> None:
    print(f"PPO presets against the plain defaults: human reward, {steps:,} steps, seeds 0-{seeds - 1}, deterministic "
          "fitness over 10 held-out episodes (mean +- std over seeds; per seed; wall seconds per run)")
    for world_name, task in PRESET_TASKS.items():
        for preset in ("plain", preset_for(world_name)):
            fitness, seconds = [], []
            for seed in range(seeds):
                start = time.perf_counter()
                result = lab_train(world_name, steps, seed=seed, preset=preset, eval_episodes=10)
                fitness.append(result.evaluation.summary()["fitness_mean"])
                seconds.append(time.perf_counter() - start)
            print(f"  {world_name} {task} {preset:>14}: {np.mean(fitness):8.3f} +- {np.std(fitness):.3f} "
                  f"({' / '.join(f'{f:.3f}' for f in fitness)}); {min(seconds):.0f}-{max(seconds):.0f} s", flush=True)


def warp_part(worlds: list[str], copies: int, steps: int, budget: int) -> None:
    """MuJoCo Warp: env steps/s of the batch stepping random actions at `copies` worlds (on the GPU when there is
    one), and one `lab train --backend warp` run of halfcheetah to its threshold."""
    from lab.worlds.warp_batch import load_warp

    warp, _ = load_warp()
    where = "cuda" if warp.is_cuda_available() else "cpu"
    print(f"MuJoCo Warp on {where}, {copies:,} worlds, random actions (the first step, which compiles or captures, "
          "is not timed):")
    for world_name in worlds:
        world = get_world(world_name)
        with world.make_batch(TASKS[world_name], copies, seed=0, backend="warp") as batch:
            batch.reset()
            rng = np.random.default_rng(0)
            actions = rng.uniform(batch.action_low, batch.action_high, (copies, batch.action_size))
            batch.step(actions)
            batches = max(2, steps // copies)
            start = time.perf_counter()
            for _ in range(batches):
                batch.step(actions)
            rate = batches * copies / (time.perf_counter() - start)
        print(f"  {world_name:12} {rate:12,.0f} env steps/s", flush=True)
    seconds, total, trained = time_to("halfcheetah", THRESHOLDS["halfcheetah"], budget, backend="warp",
                                      n_envs=copies, threads=1, preset="plain")
    reached = f"{seconds:.0f} s" if seconds is not None else f"not in {total:.0f} s"
    print(f"  lab train halfcheetah forward --backend warp --n-envs {copies}: 1.5 m/s in {reached} "
          f"({trained:,} steps, {trained / max(total, 1e-9):,.0f} steps/s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="+", default=["throughput", "threshold"],
                        choices=["throughput", "threshold", "budget", "presets", "warp"])
    parser.add_argument("--worlds", nargs="+", default=["halfcheetah", "hopper", "ant", "humanoid", "reacher"],
                        choices=sorted(TASKS))
    parser.add_argument("--steps", type=int, default=100_000, help="steps per throughput measurement")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sb3-steps", type=int, default=900_000, help="step limit of each SB3 threshold run")
    parser.add_argument("--budget-steps", type=int, default=1_000_000)
    parser.add_argument("--budget-worlds", nargs="+", default=list(RL_ZOO_PUBLISHED), choices=sorted(RL_ZOO_PUBLISHED))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--preset-steps", type=int, default=300_000)
    parser.add_argument("--warp-worlds", type=int, default=4096, help="worlds of the warp part")
    parser.add_argument("--warp-worlds-list", nargs="+", default=["ant", "humanoid", "halfcheetah"])
    parser.add_argument("--warp-budget", type=int, default=20_000_000, help="steps allowed the warp run to threshold")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if "throughput" in args.parts:
        throughput(args.worlds, args.steps, args.rounds)
    if "threshold" in args.parts:
        threshold_part(args.sb3_steps)
    if "budget" in args.parts:
        budget_part(args.budget_worlds, args.budget_steps, args.seeds)
    if "presets" in args.parts:
        presets_part(args.preset_steps, args.seeds)
    if "warp" in args.parts:
        warp_part(args.warp_worlds_list, args.warp_worlds, max(args.steps, 10 * args.warp_worlds), args.warp_budget)


if __name__ == "__main__":
    main()
