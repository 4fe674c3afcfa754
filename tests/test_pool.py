"""JOBS=N: worker processes train the uncached runs, and what they store is what the
notebook would have trained itself."""

from __future__ import annotations

import shutil

import pytest
import yaml

import json
from mnistlab.params import load_params
from mnistlab.runner import Job, pending_tasks, train_pending
from mnistlab.sweep import plan, train_task

from .conftest import REPO


def test_two_workers_train_every_pending_run_as_a_notebook_would(tmp_path, mnist_dir, monkeypatch):
    # train_pending sets these for its workers; undo that for the tests that follow.
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    for var in ("IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "KERAS_HOME", "MNISTLAB_THREADS"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "params" / "depth").mkdir(parents=True)
    shutil.copytree(REPO / "params" / "published", tmp_path / "params" / "published")
    raw = yaml.safe_load((REPO / "params/depth/000_rim_shin.yaml").read_text())
    raw["configurations"] = raw["configurations"][:2]
    params_path = tmp_path / "params" / "depth" / "000_rim_shin.yaml"
    params_path.write_text(yaml.safe_dump(raw, sort_keys=False))
    job = Job("depth", params_path, REPO / "notebooks" / "depth.py")

    assert len(pending_tasks([job], "quick", tmp_path)) == 4  # 2 configurations × 2 seeds
    train_pending([job], "quick", 2, tmp_path)
    assert pending_tasks([job], "quick", tmp_path) == []

    task = plan(load_params(params_path), params_path, "quick",
                tmp_path / "build" / "quick" / "depth" / "000_rim_shin")[-1]
    stored = json.loads(task.path.read_text())
    task.path.unlink()
    again = train_task(task)  # in this process, as the notebook would
    assert again["epochs_run"] == stored["epochs_run"]
    assert again["test_loss"] == pytest.approx(stored["test_loss"], rel=1e-4)
    assert again["history"]["loss"] == pytest.approx(stored["history"]["loss"], rel=1e-4)
