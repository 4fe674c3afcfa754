"""The training queue on Dask: a LocalCluster by default, any Dask cluster by address.

Every uncached (configuration, seed) run of every study is one Dask task.  Workers train
and return the result; the client stores it in the per-run cache, atomically, as each one
finishes, so an interrupted or partly failed sweep resumes and no run is stored twice.

* **Local** (default): ``jobs`` worker processes, one TensorFlow thread each, started here
  and torn down at the end (or on Ctrl-C).  Their start-up chatter goes to a log file.
* **Remote** (``--scheduler tcp://host:8786`` or ``$MNISTLAB_SCHEDULER``): the same tasks go to
  an existing cluster.  Workers need this ``mnistlab`` installed (the same training code:
  each task carries the digest its cache key was made with, and a worker with other code
  refuses the task) and MNIST where the loader finds it (``$MNIST_DIR`` on the worker, the
  Keras cache, or a download as Keras does); every copy is checked against its SHA-256.
"""

from __future__ import annotations

from mnistlab.core.errors import SchedulerUnreachable, TrainingFailed

import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    from distributed import Client

    from mnistlab.train.sweep import RunTask

SCHEDULER_ENV = "MNISTLAB_SCHEDULER"

# Settings of our local workers.  A Dask worker trains in a thread beside its event loop, and
# every wake-up of that loop takes the GIL from the training thread, whose quick runs are
# mostly Python-side tracing: on two cores a quick sweep measured 10-15% slower than a plain
# process pool (``make bench-queue``).  So the loop wakes less often (the tick only watches
# for a blocked loop; memory is checked every 2 s instead of 0.1 s; system metrics only feed
# the dashboard), Dask's statistical profiler (a stack sample of every thread every 10 ms)
# is off, and glibc keeps its default trimming instead of Dask's MALLOC_TRIM_THRESHOLD_.
LOCAL_WORKER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "2s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.nanny.pre-spawn-environ": {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1,
                                            "OPENBLAS_NUM_THREADS": 1},
}


# Local worker processes beyond four per core only add memory and start-up time.
WORKERS_PER_CORE = 4
CONNECT_TIMEOUT_S = 5


def worker_count(text: str) -> int:
    """``--jobs`` as argparse reads it: a whole number of local worker processes, at least 1
    (a cluster of none would wait forever for a worker) and at most four per core."""
    import argparse

    value = int(text)
    cores = os.cpu_count() or 1
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 worker process, got {value}")
    if value > WORKERS_PER_CORE * cores:
        raise argparse.ArgumentTypeError(
            f"at most {WORKERS_PER_CORE * cores} worker processes on this machine "
            f"({cores} cores × {WORKERS_PER_CORE}), got {value}; for more, start a Dask "
            "cluster and pass its --scheduler")
    return value


# Keras keeps one session per process (clear_session, the global seeds), so a worker started
# with several threads (``dask worker --nthreads 4``) still trains one run at a time.
_ONE_RUN_AT_A_TIME = threading.Lock()


def train_on_worker(batch: list["RunTask"]) -> list[dict[str, Any]]:
    """What a worker runs: refuse other training code, then train one batch of
    ``sweep.batches`` (a configuration's seeds together) and return its results."""
    from mnistlab.train.code import training_digest
    from mnistlab.train.sweep import compute_results

    here = training_digest()
    if here != batch[0].code:
        raise RuntimeError(f"this worker's mnistlab training code ({here[:12]}) differs from the "
                           f"client's ({batch[0].code[:12]}): install the same mnistlab on every "
                           "worker")
    with _ONE_RUN_AT_A_TIME:
        return compute_results(batch)


def send_stderr_to(path: str) -> None:
    """Run on each local worker: TensorFlow's start-up chatter goes to the log, not the terminal."""
    os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 2)


def _connect(scheduler: str) -> "Client":
    """A client of the scheduler at ``scheduler``, or one line saying nothing answered."""
    from distributed import Client

    try:
        return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, ValueError):  # OSError includes the connect timeout
        raise SchedulerUnreachable(
            f"no Dask scheduler answered at {scheduler} within {CONNECT_TIMEOUT_S} s: "
            f"start one there (`dask scheduler`, then `dask worker "
            f"{scheduler}` on each machine), or leave out --scheduler and "
            f"${SCHEDULER_ENV} to train on this machine") from None


@contextmanager
def training_client(jobs: int, scheduler: str | None, log_path: Path) -> Iterator["Client"]:
    """A client of the cluster at ``scheduler``, or of a new LocalCluster of ``jobs`` processes.

    Closing is shielded from a second Ctrl-C, so tearing the workers down never hangs.
    """
    import logging

    import dask
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        client, cluster = _connect(scheduler), None
    else:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with dask.config.set(LOCAL_WORKER_CONFIG):  # the nannies hand it to their workers
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
        client.run(send_stderr_to, str(log_path))
    try:
        yield client
    finally:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            client.close()
            if cluster is not None:
                cluster.close()
        finally:
            signal.signal(signal.SIGINT, previous)


def run_queue(batches: list[list["RunTask"]], client: "Client",
              store: Callable[["RunTask", dict], Any], stream=None) -> int:
    """Submit every batch (``sweep.batches``: a configuration's seeds, trained together),
    store each result as it arrives, one line per finished batch with the ETA of the whole
    queue.  A batch that fails is retried once (Dask picks the worker; a worker that dies
    mid-task has its task rescheduled elsewhere).  Returns runs stored."""
    from distributed import as_completed

    from mnistlab.train.sweep import clock

    stream = stream or sys.stdout
    total = sum(len(batch) for batch in batches)
    print(f"[train] {total} runs in {len(batches)} batches to train on "
          f"{len(client.scheduler_info()['workers'])} Dask worker(s); dashboard: "
          f"{client.dashboard_link}", file=stream, flush=True)
    futures = {client.submit(train_on_worker, batch, key=f"train-{batch[0].key[:24]}",
                             retries=1, pure=False): batch for batch in batches}
    started, stored = time.perf_counter(), 0
    try:
        for future in as_completed(futures):
            batch = futures[future]
            first = batch[0]
            seeds = ", ".join(str(t.seed) for t in batch)
            if future.status != "finished":
                raise TrainingFailed(f"{first.label}: configuration {first.run['name']!r} seeds "
                                     f"{seeds} failed twice: {future.exception()}")
            results = future.result()
            for task, result in zip(batch, results):
                store(task, result)
            stored += len(batch)
            elapsed = time.perf_counter() - started
            eta = clock(elapsed / stored * (total - stored))
            wall = sum(r["train_time_s"] for r in results)
            print(f"[train] {stored}/{total} done: {first.label} {first.run['name']} "
                  f"{'seed' if len(batch) == 1 else 'seeds'} {seeds} in {wall:.1f} s; ETA {eta}",
                  file=stream, flush=True)
    except BaseException:
        client.cancel(list(futures))
        print(f"[train] stopped: {stored} finished run(s) kept in the cache, "
              f"{total - stored} not trained; run again to resume", file=stream, flush=True)
        raise
    return stored
