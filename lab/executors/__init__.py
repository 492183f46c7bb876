"""Where training jobs run: a local process pool, or Ray (a local instance or a cluster). Same jobs, same results."""

from lab.executors.base import Executor, JobResult, TrainJob, make_executor, run_train_job

__all__ = ["Executor", "JobResult", "TrainJob", "make_executor", "run_train_job"]
