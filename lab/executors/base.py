"""Training jobs and the executors that run them.

A job is plain data (a training config and the run directory to write), so it can go to another process or another
machine; its result is plain data too. A job is seeded by its config, so where it runs does not change what it
learns. Executors run many jobs at once and report each as it finishes.
"""

from __future__ import annotations

import os
import shutil
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

from lab.errors import LabError
from lab.runs import Run
from lab.sandbox import ProgramError
from lab.training.config import TrainConfig


@dataclass(frozen=True)
class TrainJob:
    """Train one policy as `config` says; everything goes into `run_dir` (made afresh)."""

    id: str
    config: TrainConfig
    run_dir: str


@dataclass
class JobResult:
    """What a job produced: the evaluation summary and the learning curve, or why it failed."""

    id: str
    ok: bool
    evaluation: dict[str, Any] = field(default_factory=dict)
    curve: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0
    error: str = ""


def run_train_job(job: TrainJob) -> JobResult:
    """Run one training job in this process (one torch thread); a failing reward program is a result, not a crash."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from lab.training import train  # heavy: torch, imported after its thread count is set

    run_dir = Path(job.run_dir)
    if run_dir.exists():
        shutil.rmtree(run_dir)
    try:
        result = train(job.config, Run.create("train", job.id, out=run_dir))
    except ProgramError as error:
        return JobResult(job.id, False, error=error.feedback())
    except LabError as error:
        return JobResult(job.id, False, error=str(error))
    except Exception as error:  # any other failure of one job is reported and the search goes on
        return JobResult(job.id, False, error=f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}")
    return JobResult(job.id, True, result.evaluation.summary(), result.curve, round(result.seconds, 3),
                     result.steps)


class Executor(Protocol):
    name: str
    slots: int

    def run(self, jobs: Iterable[TrainJob], on_done: Callable[[JobResult], None]) -> None:
        """Run every job, calling `on_done` in this process as each one finishes."""
        ...

    def close(self) -> None: ...


def with_threads(job: TrainJob, threads: int) -> TrainJob:
    """`job` simulating on `threads` threads, unless its config names its own count."""
    if job.config.threads is not None:
        return job
    return replace(job, config=job.config.model_copy(update={"threads": threads}))


def usable_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0))


class LocalExecutor:
    """A pool of `slots` processes on this machine (spawned, so each starts clean); the cores are split between
    them: each job simulates on cores // slots threads (at least one), so jobs never oversubscribe the machine."""

    name = "local"

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.threads_per_job = max(1, usable_cores() // slots)
        self._pool: ProcessPoolExecutor | None = None

    def run(self, jobs: Iterable[TrainJob], on_done: Callable[[JobResult], None]) -> None:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.slots, mp_context=get_context("spawn"))
        pending: dict[Future[JobResult], TrainJob] = {
            self._pool.submit(run_train_job, with_threads(job, self.threads_per_job)): job for job in jobs}
        broken = False
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool as error:  # a worker process died (killed, out of memory)
                    result = JobResult(job.id, False, error=f"the training process died: {error}")
                    broken = True
                on_done(result)
        if broken:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class RayExecutor:
    """Jobs as Ray tasks (one CPU each): on a local Ray started here, or on a cluster at `address`.

    On a cluster every node must see the run directory (a shared filesystem) and have the lab installed.
    """

    name = "ray"

    def __init__(self, slots: int, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise LabError("the ray executor needs Ray", hint='pip install -e ".[ray]"') from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=slots, include_dashboard=False, log_to_driver=False,
                         object_store_memory=128 * 2**20, configure_logging=False)
            self._started = True
        self.slots = slots
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_train_job)

    def run(self, jobs: Iterable[TrainJob], on_done: Callable[[JobResult], None]) -> None:
        pending = {self._remote.remote(with_threads(job, 1)): job for job in jobs}
        while pending:
            done, _ = self._ray.wait(list(pending), num_returns=1)
            for ref in done:
                job = pending.pop(ref)
                try:
                    result = self._ray.get(ref)
                except Exception as error:  # the task's worker died
                    result = JobResult(job.id, False, error=f"the Ray task failed: {error}")
                on_done(result)

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def make_executor(kind: str, slots: int | None = None, address: str | None = None) -> Executor:
    """`local` or `ray`, running at most `slots` jobs at once (default: the cores this process may use)."""
    slots = slots or usable_cores()
    if kind == "local":
        return LocalExecutor(slots)
    if kind == "ray":
        return RayExecutor(slots, address)
    raise LabError(f"unknown executor {kind!r}", hint="use local or ray")
