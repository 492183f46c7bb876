"""The kernel lockdown's cost: reward calls through the locked-down worker against the same worker without the
seccomp filter and network namespace (the sandbox as it was before), at the batch sizes training uses.

The program is halfcheetah's human reward on real states; each round times `--calls` calls per batch size in each
worker, the two alternating (this machine's speed drifts), and the median over rounds is the figure, with the
spread (min-max). Loading a worker (start, imports, lockdown) is timed the same way.

Run: `python bench/bench_sandbox.py [--calls 2000] [--rounds 5]` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

import lab.sandbox.process as process
from lab.rewards import resolve_reward
from lab.rewards.program import REWARD_RULES, sample_states
from lab.sandbox import Sandbox
from lab.worlds import get_world

BATCHES = (1, 8, 64, 1024)


@contextmanager
def kernel_layer(on: bool) -> Iterator[None]:
    """The reference worker is the same worker without the kernel's layer."""
    wanted = process.kernel_lockdown_wanted
    process.kernel_lockdown_wanted = (lambda: on) if not on else wanted  # type: ignore[assignment]
    try:
        yield
    finally:
        process.kernel_lockdown_wanted = wanted  # type: ignore[assignment]


def batch_of(state: dict[str, np.ndarray], action: np.ndarray, n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    rows = np.arange(n) % len(action)
    return {k: v[rows] for k, v in state.items()}, action[rows]


def time_calls(source: str, on: bool, state: dict, action: np.ndarray, calls: int) -> dict[int, float]:
    """Microseconds per call at each batch size, in one worker."""
    with kernel_layer(on), Sandbox(source, REWARD_RULES, returns="value_and_components") as sandbox:
        per_call = {}
        for n in BATCHES:
            batch_state, batch_action = batch_of(state, action, n)
            for _ in range(50):
                sandbox.call(state=batch_state, action=batch_action)
            start = time.perf_counter()
            for _ in range(calls):
                sandbox.call(state=batch_state, action=batch_action)
            per_call[n] = (time.perf_counter() - start) / calls * 1e6
    return per_call


def time_load(source: str, on: bool, loads: int = 5) -> float:
    start = time.perf_counter()
    for _ in range(loads):
        with kernel_layer(on), Sandbox(source, REWARD_RULES, returns="value_and_components"):
            pass
    return (time.perf_counter() - start) / loads * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    world = get_world("halfcheetah")
    task = world.task("forward")
    source = resolve_reward("human", task).source
    state, action = sample_states(world, task, 0)
    results: dict[bool, list[dict[int, float]]] = {True: [], False: []}
    loads: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(args.rounds):
        for on in ((True, False) if round_ % 2 == 0 else (False, True)):
            results[on].append(time_calls(source, on, state, action, args.calls))
            loads[on].append(time_load(source, on))
    print(f"reward calls, halfcheetah human reward, {args.calls} calls x {args.rounds} rounds, alternating "
          "(median, min-max over rounds)")
    print(f"{'envs':>6} {'locked down us/call':>22} {'no kernel layer us/call':>24} {'ratio':>12}")
    for n in BATCHES:
        locked = [r[n] for r in results[True]]
        plain = [r[n] for r in results[False]]
        ratios = [a / b for a, b in zip(locked, plain, strict=True)]
        print(f"{n:>6} {statistics.median(locked):>10.1f} ({min(locked):.1f}-{max(locked):.1f})"
              f" {statistics.median(plain):>12.1f} ({min(plain):.1f}-{max(plain):.1f})"
              f" {statistics.median(ratios):>6.3f} ({min(ratios):.2f}-{max(ratios):.2f})")
    print(f"worker load: locked down {statistics.median(loads[True]):.0f} ms "
          f"({min(loads[True]):.0f}-{max(loads[True]):.0f}), without the kernel layer "
          f"{statistics.median(loads[False]):.0f} ms ({min(loads[False]):.0f}-{max(loads[False]):.0f})")


if __name__ == "__main__":
    main()
