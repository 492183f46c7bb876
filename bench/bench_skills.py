"""The skill library at scale: 100,000 synthetic skills.

Prints: bulk build time; add latency of one more skill (embedding included, and with the embedding given); cold
open time; search latency p50/p99 for the index alone (query vector given) and end to end (query text, MiniLM
encoding included), each against brute-force numpy over the same matrix as the reference; library size on disk;
peak memory of the process. Floors: search p50 <= 5 ms, memory <= 1 GB.
Run: `python bench/bench_skills.py [--skills 100000]` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lab.skills import SentenceEmbedder, Skill, SkillLibrary

VERBS = ("pick", "place", "push", "stack", "lift", "open", "close", "press", "slide", "rotate", "sort", "carry")
THINGS = ("red cube", "green cube", "blue cube", "ball", "drawer", "button", "handle", "zone", "tower", "row")
WAYS = ("quickly", "carefully", "from above", "from the side", "with one finger", "twice", "to the left",
        "to the right", "near the edge", "in the middle")


def synthetic(count: int, embedder: SentenceEmbedder) -> tuple[list[Skill], np.ndarray]:
    """Skills with template descriptions; their vectors mix the encodings of the template parts with noise, so
    the index has realistic, distinct, unit-length vectors without encoding 100,000 sentences."""
    rng = np.random.default_rng(0)
    parts = {w: v for w, v in zip(VERBS + THINGS + WAYS, embedder.encode(list(VERBS + THINGS + WAYS)), strict=True)}
    skills, vectors = [], np.empty((count, embedder.dim), dtype=np.float32)
    for index in range(count):
        verb, thing, way = VERBS[index % 12], THINGS[(index // 12) % 10], WAYS[(index // 120) % 10]
        skills.append(Skill(name=f"skill_{index:06d}", description=f"{verb} the {thing} {way}", kind="code",
                            world="ant" if index % 10 == 0 else "playground", task=verb,
                            source=f"def skill_{index:06d}(robot):\n    pass\n"))
        vector = parts[verb] + parts[thing] + 0.5 * parts[way] + 0.05 * rng.standard_normal(embedder.dim)
        vectors[index] = vector / np.linalg.norm(vector)
    return skills, vectors


MEMORY_PROBE = """
import sys
from pathlib import Path
import numpy as np
from lab.skills import SkillLibrary
library = SkillLibrary(Path(sys.argv[1]))
dim = int(library.meta("embedding_dim"))
rng = np.random.default_rng(0)
for _ in range(50):
    query = rng.standard_normal(dim).astype(np.float32)
    library.search_vector(query / np.linalg.norm(query), k=5)
def peak_mib():
    # VmHWM is this process's own peak; getrusage's maxrss would carry the parent's over execve
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM"))
    return int(line.split()[1]) // 1024
print(peak_mib())
library.search("pick the red cube", k=5)
print(peak_mib())
"""


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1e3, ordered[int(0.99 * (len(ordered) - 1))] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skills", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    embedder = SentenceEmbedder()
    embedder.encode(["warm up"])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "library"
        skills, vectors = synthetic(args.skills, embedder)
        start = time.perf_counter()
        with SkillLibrary(path, embedder) as library:
            for first in range(0, len(skills), 10_000):
                library.add_many(skills[first:first + 10_000], vectors[first:first + 10_000])
        build = time.perf_counter() - start

        start = time.perf_counter()
        library = SkillLibrary(path, embedder)
        library.search_vector(vectors[0], k=5)
        cold = time.perf_counter() - start

        rng = np.random.default_rng(1)
        queries = [vectors[i] for i in rng.integers(0, len(vectors), args.queries)]
        index_times, numpy_times = [], []
        matrix = np.ascontiguousarray(vectors)
        for query in queries:
            start = time.perf_counter()
            library.search_vector(query, k=5)
            index_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            np.argsort(-(matrix @ query))[:5]
            numpy_times.append(time.perf_counter() - start)
        texts = [f"{VERBS[i % 12]} the {THINGS[i % 10]} {WAYS[i % 7]}" for i in range(args.queries)]
        text_times = []
        for text in texts:
            start = time.perf_counter()
            library.search(text, k=5)
            text_times.append(time.perf_counter() - start)
        exact = np.ascontiguousarray(vectors)
        found = expected = 0
        for query in queries:
            truth = set(np.argsort(-(exact @ query))[:5].tolist())
            got = {int(library._db.execute("SELECT name FROM skills WHERE id = ?", (i,)).fetchone()[0][6:])
                   for i, _ in library.search_vector(query, k=5)}
            found += len(truth & got)
            expected += len(truth)
        filtered = []
        for query in queries[:50]:
            start = time.perf_counter()
            library.search_vector(query, k=5, world="ant")
            filtered.append(time.perf_counter() - start)

        extra = Skill(name="one_more", description="wave the gripper", kind="code", world="playground")
        start = time.perf_counter()
        library.add(extra)
        add_with_embedding = time.perf_counter() - start
        start = time.perf_counter()
        library.add(extra, embedding=vectors[0])
        add_given = time.perf_counter() - start
        library.close()
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        opened = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path)], capture_output=True, text=True,
                                check=True).stdout.split()
    print(f"skill library, {args.skills:,} synthetic skills, 1 torch thread:")
    print(f"  bulk build (10,000 per transaction)     {build:8.1f} s")
    print(f"  cold open + first search (index build)  {cold * 1e3:8.0f} ms")
    p50, p99 = percentiles(index_times)
    r50 = percentiles(numpy_times)[0]
    print(f"  search, query vector given: p50 {p50:.2f} ms, p99 {p99:.2f} ms "
          f"(brute-force numpy argsort reference p50 {r50:.2f} ms; ratio {p50 / r50:.2f}); floor p50 <= 5 ms")
    f50, f99 = percentiles(filtered)
    print(f"  search with a world filter: p50 {f50:.2f} ms, p99 {f99:.2f} ms")
    t50, t99 = percentiles(text_times)
    print(f"  search from text (MiniLM encoding included): p50 {t50:.2f} ms, p99 {t99:.2f} ms")
    print(f"  add one skill: {add_with_embedding * 1e3:.1f} ms with its embedding computed, "
          f"{add_given * 1e3:.1f} ms with it given")
    print(f"  size on disk {size / 2**20:.0f} MiB ({size / args.skills:.0f} bytes per skill)")
    print(f"  recall@5 of the inverted-file index against exact search: {found / expected:.1%}")
    print(f"  memory of a fresh process with the library open: {opened[0]} MiB after vector searches, "
          f"{opened[1]} MiB with the embedding model loaded and text searches (floor 1024 MiB)")


if __name__ == "__main__":
    main()
