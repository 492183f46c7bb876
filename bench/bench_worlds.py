"""Env steps/s of every world against its reference in the same run, and the cost of the state view.

References: for the Gymnasium adapters, plain `gym.make(env_id)` (floor: ours within 10%, ratio >= 0.9); for every
world, raw `mujoco.mj_step` x frame_skip on the same model. Floor for the playground: >= 5,000 env steps/s.
Run: `make bench` or `python bench/bench_worlds.py [--steps N] [--worlds a,b]`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import gymnasium as gym
import mujoco
import numpy as np

from lab.worlds import get_world, world_names
from lab.worlds.gym_adapters import ROBOTS

ENV_IDS = {spec.world: spec.env_id for spec in ROBOTS}


def steps_per_second(env: gym.Env, steps: int, seed: int = 0) -> float:
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    space = env.action_space
    actions = rng.uniform(space.low, space.high, size=(steps, *space.shape)).astype(space.dtype)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def raw_mj_steps_per_second(env: gym.Env, steps: int) -> float:
    base = env.unwrapped
    model, data, skip = base.model, base.data, base.frame_skip  # type: ignore[attr-defined]
    start = time.perf_counter()
    for _ in range(steps):
        mujoco.mj_step(model, data, nstep=skip)
    return steps / (time.perf_counter() - start)


def microseconds(call: Callable[[], object], repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - start) / repeats * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worlds", default=",".join(world_names()))
    args = parser.parse_args()
    print(f"{'world':12s} {'ours/s':>9s} {'gym/s':>9s} {'ratio':>6s} {'raw mj/s':>9s} {'vs raw':>7s} "
          f"{'state us':>9s} {'state %':>8s}")
    for name in args.worlds.split(","):
        world = get_world(name)
        ours = world.make_env(seed=0)
        reference = gym.make(ENV_IDS[name]) if name in ENV_IDS else None
        ours_rate = raw_rate = gym_rate = 0.0
        for _ in range(args.rounds):  # interleaved, so drift in machine load hits both sides alike
            ours_rate = max(ours_rate, steps_per_second(ours, args.steps))
            if reference is not None:
                gym_rate = max(gym_rate, steps_per_second(reference, args.steps))
            raw_rate = max(raw_rate, raw_mj_steps_per_second(ours, args.steps))
        ours.reset(seed=0)
        ours.step(ours.action_space.sample())
        state_us = microseconds(ours.get_wrapper_attr("state"), 2000)
        gym_cell, ratio_cell = "-", "-"
        if reference is not None:
            gym_cell, ratio_cell = f"{gym_rate:9.0f}", f"{ours_rate / gym_rate:6.2f}"
            reference.close()
        step_us = 1e6 / ours_rate
        print(f"{name:12s} {ours_rate:9.0f} {gym_cell:>9s} {ratio_cell:>6s} {raw_rate:9.0f} "
              f"{ours_rate / raw_rate:7.2f} {state_us:9.1f} {100 * state_us / step_us:7.0f}%")
        ours.close()


if __name__ == "__main__":
    main()
