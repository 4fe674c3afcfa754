"""Shared fixtures: verified MNIST from $MNIST_DIR (CI sets it) and hermetic state dirs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mnistlab.spec.data import load_mnist

REPO = Path(__file__).resolve().parents[1]


def copy_project(root: Path) -> Path:
    """``root`` with a copy of the project's params and notebooks, as a fresh checkout has
    them (no executed notebooks): a scratch project for the runner."""
    for folder in ("params", "notebooks"):
        shutil.copytree(REPO / folder, root / folder,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    return root


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


@pytest.fixture(scope="session")
def project(tmp_path_factory, mnist_dir) -> Path:
    """A copy of params/ and notebooks/ rendered once with the quick profile, as
    ``make report`` does it: two worker processes train, then each notebook runs in its own.
    Shared by the end-to-end and the scorecard tests (rendering it is the expensive part)."""
    from mnistlab.pipeline.runner import report_all

    root = copy_project(tmp_path_factory.mktemp("project"))
    with pytest.MonkeyPatch.context() as env:  # the runner sets these for its children
        env.setenv("MNIST_DIR", str(mnist_dir))
        for var in ("IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "KERAS_HOME", "MNISTLAB_THREADS"):
            env.delenv(var, raising=False)
        report_all("quick", jobs=2, root=root)

    return root
