"""Curriculum sessions: how fast candidate skills are played, and what a short session learns.

Prints: episodes/s of candidate programs played by the search's one sandbox process (ProgramPlayer) against the
same programs each in a fresh sandbox process (SkillRunner, the reference), and their ratio; then an offline
playground session from an empty library: wall time, seconds per iteration, skills learned, families mastered,
composed skills, and skills per minute.
Run: `python bench/bench_curriculum.py [--budget 12] [--programs 20]` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from lab.curriculum.session import CurriculumConfig, Session
from lab.curriculum.writer import CompositionalWriter
from lab.runs import Run
from lab.skills import SkillLibrary
from lab.skills.runtime import ProgramPlayer, SkillRunner
from lab.worlds import get_world


def playing_speed(programs: int) -> tuple[float, float]:
    """Episodes/s of `programs` candidates (every step of lift's vocabulary, then pairs) in one process, and each
    in its own process."""
    world = get_world("playground")
    task = world.task("lift(cube_red)")
    writer = CompositionalWriter(world, None)
    vocabulary = writer.steps(task)
    candidates = [[step] for step in vocabulary] + [[a, b] for a in vocabulary for b in vocabulary if a != b]
    sources = [writer.render(task, "candidate", steps) for steps in candidates[:programs]]
    started = time.perf_counter()
    with ProgramPlayer(world, task) as player:
        for source in sources:
            player.play("candidate", source, 0)
    shared = len(sources) / (time.perf_counter() - started)
    started = time.perf_counter()
    for source in sources:
        with SkillRunner(world, task, "candidate", source) as runner:
            runner.run(0)
    fresh = len(sources) / (time.perf_counter() - started)
    return shared, fresh


def session(budget: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        config = CurriculumConfig(world="playground", budget=budget, library=Path(folder) / "lib")
        run = Run.create("curriculum", "bench", out=Path(folder) / "run")
        with SkillLibrary(config.library) as library:
            started = time.perf_counter()
            summary = Session(config, library).run(run).model_dump()
            summary["wall"] = time.perf_counter() - started
        return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=12)
    parser.add_argument("--programs", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    shared, fresh = playing_speed(args.programs)
    print(f"candidate episodes/s: one sandbox process {shared:.1f}, a process per program {fresh:.1f} "
          f"(reference), ratio {shared / fresh:.1f}x")
    summary = session(args.budget)
    minutes = summary["wall"] / 60
    print(f"session, budget {args.budget}, empty library: {summary['wall']:.0f} s "
          f"({summary['wall'] / max(1, summary['iterations']):.1f} s per iteration), "
          f"{len(summary['skills_learned'])} skills learned across {len(summary['families_mastered'])} families, "
          f"{len(summary['composed'])} composed, {len(summary['skills_learned']) / minutes:.2f} skills per minute")
    print(f"  learned: {', '.join(summary['skills_learned'])}; composed: {', '.join(summary['composed']) or '-'}")


if __name__ == "__main__":
    main()
