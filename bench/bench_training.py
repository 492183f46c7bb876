"""Training throughput of `lab train` against plain stable-baselines3, and the reward wrapper's cost per step.

1. PPO steps/s: `lab train WORLD forward --reward human` (state view, sandboxed reward program, component and
   fitness statistics, learning-curve callback, TensorBoard) against plain stable-baselines3 PPO on
   `gym.make(ENV_ID)` with the built-in reward, the same hyperparameters, the same n_envs and one torch thread.
   Floor: ratio >= 0.9. Both time `model.learn` only; the two alternate for --rounds rounds (this machine's speed
   drifts by tens of percent from minute to minute) and the median ratio is the figure.
2. Reward wrapper cost at n_envs = 8: random-action vectorised stepping of the world's envs with the state in
   `info` and the sandboxed human reward, against the same envs with Gymnasium's built-in reward.

Run: `python bench/bench_training.py [--world halfcheetah] [--steps 20000] [--rounds 3]` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, VecNormalize

from lab.rewards import SandboxedReward, StateBatch, StateRecorder, make_rewarded_env, resolve_reward
from lab.runs import Run
from lab.training import TrainConfig, train
from lab.training.trainer import make_model
from lab.worlds import get_world
from lab.worlds.gym_adapters import ROBOTS


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the reward sandboxes, once closed)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def plain_sb3_ppo(env_id: str, config: TrainConfig, horizon: int) -> tuple[float, float]:
    venv = VecNormalize(VecMonitor(DummyVecEnv(
        [lambda: gym.make(env_id, max_episode_steps=horizon) for _ in range(config.envs)])), gamma=config.ppo.gamma)
    venv.seed(config.seed)
    model = make_model(config, venv, "cpu")
    start, cpu = time.perf_counter(), cpu_seconds()
    model.learn(total_timesteps=config.steps)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    venv.close()
    return model.num_timesteps / seconds, model.num_timesteps / cpu


def lab_ppo(config: TrainConfig) -> tuple[float, float]:
    """Wall-clock steps/s of training, and steps per CPU second of the whole run (dry run and evaluation included,
    sandbox processes included)."""
    with tempfile.TemporaryDirectory() as folder:
        cpu = cpu_seconds()
        result = train(config, Run.create("train", "bench", out=Path(folder) / "run"))
        cpu = cpu_seconds() - cpu
    return result.steps_per_second, result.steps / cpu


def vec_steps_per_second(venv: object, steps: int, n_envs: int, seed: int = 0) -> float:
    venv.reset()  # type: ignore[attr-defined]
    space = venv.action_space  # type: ignore[attr-defined]
    rng = np.random.default_rng(seed)
    batches = steps // n_envs
    actions = rng.uniform(space.low, space.high, size=(batches, n_envs, *space.shape)).astype(space.dtype)
    start = time.perf_counter()
    for action in actions:
        venv.step(action)  # type: ignore[attr-defined]
    return batches * n_envs / (time.perf_counter() - start)


def wrapper_cost(world_name: str, env_id: str, steps: int, n_envs: int = 8) -> None:
    world = get_world(world_name)
    task = next(t for t in world.default_tasks() if t.family.builtin_reward)
    builtin = DummyVecEnv([lambda: gym.make(env_id, max_episode_steps=task.horizon) for _ in range(n_envs)])
    states = StateBatch(n_envs)
    with_state = DummyVecEnv([lambda i=i: StateRecorder(world.make_env(task, seed=i), states, i)
                              for i in range(n_envs)])
    reward_fn = SandboxedReward(resolve_reward("human", task), task)
    rewarded = make_rewarded_env(world, task, reward_fn, list(range(n_envs)))
    reference = vec_steps_per_second(builtin, steps, n_envs)
    state_only = vec_steps_per_second(with_state, steps, n_envs)
    ours = vec_steps_per_second(rewarded, steps, n_envs)
    rewarded.close()
    builtin.close()
    with_state.close()
    per_step = 1e6 / ours - 1e6 / reference
    print(f"reward wrapper, {world_name}, n_envs={n_envs}, random actions:")
    print(f"  built-in reward (gym.make)           {reference:9,.0f} env steps/s")
    print(f"  + state view batched                {state_only:9,.0f} env steps/s")
    print(f"  + sandboxed human.py, stats, info    {ours:9,.0f} env steps/s")
    print(f"  cost of the wrapper: {per_step:.1f} us per env step "
          f"({per_step * n_envs:.0f} us per vectorised step); ratio {ours / reference:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world", default="halfcheetah", choices=[spec.world for spec in ROBOTS])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    env_id = next(spec.env_id for spec in ROBOTS if spec.world == args.world)
    world = get_world(args.world)
    task = next(t for t in world.default_tasks() if t.family.builtin_reward)
    config = TrainConfig(world=args.world, task=task.id, reward="human", steps=args.steps, device="cpu",
                         eval_episodes=1)
    print(f"PPO on {args.world} ({env_id}), {args.steps:,} steps, n_envs={config.envs}, 1 torch thread, cpu:")
    ratios, cpu_ratios = [], []
    for round_ in range(1, args.rounds + 1):
        plain, plain_cpu = plain_sb3_ppo(env_id, config, task.horizon)
        ours, ours_cpu = lab_ppo(config)
        ratios.append(ours / plain)
        cpu_ratios.append(ours_cpu / plain_cpu)
        print(f"  round {round_}: plain stable-baselines3 (built-in reward) {plain:7,.0f} steps/s; "
              f"lab train --reward human {ours:7,.0f} steps/s; ratio {ours / plain:.3f} "
              f"(per CPU second: {ours_cpu / plain_cpu:.3f})")
    print(f"  median ratio {float(np.median(ratios)):.3f} over {args.rounds} rounds (floor 0.9); per CPU second "
          f"{float(np.median(cpu_ratios)):.3f} (steadier on a shared machine; ours counts its sandbox, dry run and "
          "evaluation)")
    wrapper_cost(args.world, env_id, args.steps)


if __name__ == "__main__":
    main()
