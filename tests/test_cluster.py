"""The training queue on Dask: a LocalCluster, a separately started scheduler and worker on
127.0.0.1, and a worker killed mid-task, each storing every run exactly once, as a notebook
would have trained it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from mnistlab.train import cluster
from mnistlab.spec.params import load_params
from mnistlab.pipeline.runner import Job, pending_batches, train_pending
from mnistlab.train.sweep import plan, store_result, train_batch

from .conftest import REPO

COMPARED = ("epochs_run", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "history")


@pytest.fixture
def study(tmp_path, mnist_dir, monkeypatch) -> Job:
    """Study 000 cut to two depths, quick profile: four runs, each depth's two seeds trained
    together (study 000 itself trains them one by one for its per-model times)."""
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    for var in ("IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "KERAS_HOME", "MNISTLAB_THREADS",
                "MNISTLAB_BUILD", cluster.SCHEDULER_ENV):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "params" / "depth").mkdir(parents=True)
    shutil.copytree(REPO / "params" / "published", tmp_path / "params" / "published")
    raw = yaml.safe_load((REPO / "params/depth/000_rim_shin.yaml").read_text())
    raw["configurations"] = raw["configurations"][:2]
    raw["seeds_together"] = True
    raw["profiles"] = {"quick": {"train_samples": 1000, "test_samples": 300, "max_epochs": 2,
                                 "seeds": [0, 1]}}
    params_path = tmp_path / "params" / "depth" / "000_rim_shin.yaml"
    params_path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return Job("depth", params_path, REPO / "notebooks" / "depth.py")


def _stored(job: Job, root: Path) -> dict[str, dict]:
    tasks = plan(load_params(job.params_path), job.params_path, "quick",
                 root / "build" / "quick" / "depth" / "000_rim_shin")
    return {task.path.name: json.loads(task.path.read_text()) for task in tasks}


def _same_as_in_process(job: Job, root: Path) -> None:
    """Each stored run, trained with its configuration's other seed on a worker, equals what
    this process trains for it alone, to float32 noise (the worker ran one TensorFlow thread,
    this process may run more)."""
    tasks = plan(load_params(job.params_path), job.params_path, "quick",
                 root / "build" / "quick" / "depth" / "000_rim_shin")
    for task in tasks[::3]:
        stored = json.loads(task.path.read_text())
        task.path.unlink()
        again = train_batch([task])[0]
        for field in COMPARED[:1]:
            assert again[field] == stored[field]
        for field in COMPARED[1:5]:
            assert again[field] == pytest.approx(stored[field], rel=1e-5), field
        assert again["history"]["loss"] == pytest.approx(stored["history"]["loss"], rel=1e-5)


def test_a_local_cluster_of_two_workers_trains_every_pending_run(study, tmp_path, capsys):
    assert [len(batch) for batch in pending_batches([study], "quick", tmp_path)] == [2, 2]
    train_pending([study], "quick", 2, tmp_path)
    assert pending_batches([study], "quick", tmp_path) == []
    out = capsys.readouterr().out
    assert "4 runs in 2 batches to train on 2 Dask worker(s); dashboard: http" in out
    assert out.count("[train] ") == 3 and "4/4 done" in out and "seeds 0, 1 in" in out \
        and "ETA" in out
    _same_as_in_process(study, tmp_path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def external_cluster(mnist_dir, tmp_path):
    """``dask scheduler`` and ``dask worker`` started by hand on loopback, as on a lab server."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, MNIST_DIR=str(mnist_dir), MNISTLAB_THREADS="1")
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    log = open(tmp_path / "cluster.log", "w")
    scheduler = subprocess.Popen(dask + ["--host", "127.0.0.1", "--port", str(port),
                                         "--dashboard-address", ":0"],
                                 env=env, stdout=log, stderr=log, start_new_session=True)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                               "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
                              env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        yield address
    finally:
        for process in (worker, scheduler):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        log.close()


def test_an_existing_scheduler_and_worker_get_the_same_tasks(study, tmp_path, external_cluster):
    train_pending([study], "quick", 1, tmp_path, scheduler=external_cluster)
    assert pending_batches([study], "quick", tmp_path) == []
    _same_as_in_process(study, tmp_path)


def test_a_worker_killed_mid_task_is_replaced_and_every_run_is_stored_once(study, tmp_path,
                                                                          monkeypatch):
    stores: list[str] = []

    def counting_store(task, result):
        stores.append(task.path.name)
        return store_result(task, result)

    original_client = cluster.training_client

    def killing_client(*args, **kwargs):
        """Hands out the client, and kills the worker of the first task that starts."""
        manager = original_client(*args, **kwargs)
        client = manager.__enter__()

        def kill_first_busy_worker():
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                busy = [w for w, keys in client.processing().items() if keys]
                if busy:
                    time.sleep(3)  # inside the task's training by now
                    pids = client.run(os.getpid, workers=busy[:1])
                    os.kill(next(iter(pids.values())), signal.SIGKILL)
                    killed.append(busy[0])
                    return
                time.sleep(0.2)

        killed: list[str] = []
        threading.Thread(target=kill_first_busy_worker, daemon=True).start()

        class Handle:
            def __enter__(self):
                return client

            def __exit__(self, *exc):
                assert killed, "the test killed a worker"
                return manager.__exit__(*exc)
        return Handle()

    monkeypatch.setattr(cluster, "training_client", killing_client)
    monkeypatch.setattr("mnistlab.train.sweep.store_result", counting_store)
    train_pending([study], "quick", 2, tmp_path)
    assert sorted(stores) == sorted(set(stores)) and len(stores) == 4, "each run stored once"
    assert len(_stored(study, tmp_path)) == 4


def test_a_task_of_other_training_code_is_refused_with_a_clear_message(study, tmp_path):
    task = pending_batches([study], "quick", tmp_path)[0][0]
    other = type(task)(**{**task.__dict__, "code": "0" * 64})
    with pytest.raises(RuntimeError, match="install the same mnistlab on every worker"):
        cluster.train_on_worker([other])


def test_the_benchmarks_process_pool_stores_the_same_runs_as_the_dask_queue(study, tmp_path):
    """``make bench-queue`` compares Dask with this pool: it must train the same tasks to the
    same results, or the A/B would time two different workloads."""
    from mnistlab.pipeline import queue_bench

    batches = pending_batches([study], "quick", tmp_path)
    queue_bench.run_on_pool(batches, 2, tmp_path / "pool.log", store_result)
    assert pending_batches([study], "quick", tmp_path) == []
    assert len(_stored(study, tmp_path)) == 4
    _same_as_in_process(study, tmp_path)


def _worker_settings() -> tuple[bool, str | None, str | None]:
    import dask

    return (dask.config.get("distributed.worker.profile.enabled"),
            os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS"))


def test_local_workers_run_without_the_profiler_and_the_eager_malloc_trim(tmp_path):
    """Both cost a quick sweep a few per cent on two cores (``make bench-queue``); Dask's
    one-thread limits for numerical libraries stay."""
    with cluster.training_client(1, None, tmp_path / "workers.log") as client:
        settings = list(client.run(_worker_settings).values())
    assert settings == [(False, None, "1")]
