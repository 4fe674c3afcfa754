"""``make bench-queue``: the training queue on Dask against a plain process pool.

Issue 14 replaced a home-made ``ProcessPoolExecutor`` with Dask and promised it would cost
no more than 10% of wall time.  This module keeps that promise checkable: it trains every
run of every study (one profile) from a cold cache, in a scratch build folder, with either
executor.  Both train the same tasks with the same worker function and store each result
on the client side as it arrives, so the only difference measured is the scheduler.

    python -m mnistlab.pipeline.queue_bench --profile quick --executor dask --jobs 2

prints one line, ``queue <profile> <executor> jobs=<n>: <runs> runs in <s> s``.  Time the
whole command from outside (``/usr/bin/time``) to include each executor's start-up.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Callable, get_args

from mnistlab.train.cluster import worker_count
from mnistlab.spec.params import ProfileName

if TYPE_CHECKING:
    from mnistlab.train.sweep import RunTask

Store = Callable[["RunTask", dict], object]


def run_on_dask(batches: list[list["RunTask"]], jobs: int, log_path: Path, store: Store) -> None:
    """What ``make report`` does: a LocalCluster of ``jobs`` processes, one thread each."""
    from mnistlab.train.cluster import run_queue, training_client

    with training_client(jobs, None, log_path) as client:
        run_queue(batches, client, store)


def run_on_pool(batches: list[list["RunTask"]], jobs: int, log_path: Path, store: Store) -> None:
    """The queue before Dask: spawned worker processes and ``as_completed``, no retries."""
    from mnistlab.train.cluster import send_stderr_to, train_on_worker

    log_path.parent.mkdir(parents=True, exist_ok=True)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=send_stderr_to,
                             initargs=(str(log_path),)) as pool:
        futures = {pool.submit(train_on_worker, batch): batch for batch in batches}
        for future in as_completed(futures):
            for task, result in zip(futures[future], future.result()):
                store(task, result)


EXECUTORS: dict[str, Callable[[list[list["RunTask"]], int, Path, Store], None]] = {
    "dask": run_on_dask,
    "pool": run_on_pool,
}


def time_queue(profile: str, executor: str, jobs: int) -> tuple[int, float]:
    """Train all of ``profile``'s runs cold with ``executor``; (runs trained, wall seconds)."""
    from mnistlab.spec.data import load_mnist
    from mnistlab.pipeline.runner import threads_per_job, discover, hermetic_env, pending_batches
    from mnistlab.core.paths import project_root, worker_log
    from mnistlab.train.sweep import store_result

    root = project_root()
    batches = pending_batches(discover(root), profile, root)
    hermetic_env(root, load_mnist().folder)
    os.environ["MNISTLAB_THREADS"] = threads_per_job(jobs)
    started = time.perf_counter()
    EXECUTORS[executor](batches, jobs, worker_log(profile, root), store_result)
    return sum(len(batch) for batch in batches), time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnistlab.pipeline.queue_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=get_args(ProfileName), default="quick")
    parser.add_argument("--executor", choices=sorted(EXECUTORS), required=True)
    parser.add_argument("--jobs", type=worker_count, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mnistlab-queue-") as scratch:
        os.environ["MNISTLAB_BUILD"] = scratch  # a cold cache every time, the real one untouched
        runs, seconds = time_queue(args.profile, args.executor, args.jobs)
    print(f"queue {args.profile} {args.executor} jobs={args.jobs}: {runs} runs in {seconds:.1f} s",
          flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
