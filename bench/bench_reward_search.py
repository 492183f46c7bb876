"""Reward search throughput: candidates trained per hour at a fixed budget with one training job on all the cores
(the local executor gives it every core's thread) against one job per core (one thread each; the reference,
measured in the same run), and the peak memory of the P=2 search: which way the local executor should split a
machine's cores.

Run: `python bench/bench_reward_search.py [--world halfcheetah --task forward] [--steps 100000] [--samples 4]` (part
of `make bench`). Memory is the
summed resident set of the search process and all its descendants (trainers, reward sandboxes), sampled every
0.2 s from /proc.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")


def tree_rss_mb(root: int) -> float:
    """Resident memory of `root` and every process below it, in MiB."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    family, frontier = {root}, [root]
    while frontier:
        current = frontier.pop()
        for pid, parent in parents.items():
            if parent == current and pid not in family:
                family.add(pid)
                frontier.append(pid)
    total = 0
    for pid in family:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class PeakMemory:
    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(os.getpid()))
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def search_seconds(world: str, task: str, slots: int, steps: int, samples: int,
                   folder: Path) -> tuple[float, int, float]:
    """Wall seconds of one search iteration with `slots` training processes, candidates trained, peak MiB."""
    from lab.embedding import SentenceEmbedder
    from lab.runs import Run
    from lab.search.loop import RewardSearch, SearchConfig

    config = SearchConfig(world=world, task=task, samples=samples, iterations=1, steps=steps,
                          short_fraction=1.0, baselines=False, max_parallel=slots, select_episodes=5)
    run = Run.create("reward", f"bench-p{slots}", out=folder / f"p{slots}")
    embedder = SentenceEmbedder()
    embedder.encode(["load the embedding model before the clock starts"])
    with PeakMemory() as memory:
        start = time.perf_counter()
        summary = RewardSearch(config, embedder=embedder).run(run)
        seconds = time.perf_counter() - start
    trained = sum(1 for c in summary.candidates.values() if "full" in c.stages)
    return seconds, trained, memory.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", default="halfcheetah")
    parser.add_argument("--task", default="forward")
    parser.add_argument("--steps", type=int, default=100_000, help="training steps per candidate")
    parser.add_argument("--samples", type=int, default=4, help="candidates per search")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one, trained_one, _ = search_seconds(args.world, args.task, 1, args.steps, args.samples, Path(tmp))
        two, trained_two, peak = search_seconds(args.world, args.task, 2, args.steps, args.samples, Path(tmp))
    cores = len(os.sched_getaffinity(0))
    print(f"{args.world} {args.task}, {args.samples} candidates x {args.steps:,} PPO steps (+5 evaluation episodes "
          f"each), {cores} cores")
    print(f"P=1 (one job, {cores} simulation threads): {one:.1f} s, {trained_one / one * 3600:.0f} candidates/hour")
    print(f"P=2 (two jobs, {max(1, cores // 2)} thread each): {two:.1f} s, {trained_two / two * 3600:.0f} "
          "candidates/hour")
    print(f"P=2 against P=1: {one / two:.2f}x the candidates per hour")
    print(f"peak memory of the P=2 search (all processes): {peak:.0f} MiB (floor: 4096)")


if __name__ == "__main__":
    main()
