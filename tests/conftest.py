"""Shared fixtures: verified MNIST from $MNIST_DIR (CI sets it) and hermetic state dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mnistlab.data import load_mnist

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _hermetic(tmp_path_factory, monkeypatch):
    """Keep Keras and matplotlib state out of $HOME; forget any MNIST loaded by a prior test."""
    state = tmp_path_factory.getbasetemp() / "state"
    monkeypatch.setenv("MPLCONFIGDIR", str(state / "mpl"))
    load_mnist.cache_clear()
    yield
    load_mnist.cache_clear()


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding verified MNIST (found, or downloaded, as the loader would)."""
    folder = Path(load_mnist().folder)
    os.environ["MNIST_DIR"] = str(folder)
    load_mnist.cache_clear()
    return folder


def scratch_project(root: Path, experiments: tuple[str, ...]) -> Path:
    """A copy of the given experiments' notebooks and params (with every published file), so
    a test renders only the studies it checks."""
    import shutil

    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "params" / "published", root / "params" / "published")
    for experiment in experiments:
        shutil.copy(REPO / "notebooks" / f"{experiment}.py", root / "notebooks")
        shutil.copytree(REPO / "params" / experiment, root / "params" / experiment)
    return root
