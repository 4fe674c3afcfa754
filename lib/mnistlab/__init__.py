"""mnistlab: re-run published MNIST studies as parameterised, reproducible notebooks."""

from __future__ import annotations

import os
import sys

__version__ = "0.1.0"

MIN_VERSIONS = {"python": (3, 11), "tensorflow": (2, 21), "keras": (3, 0)}


def _limit_threads() -> None:
    """Honour MNISTLAB_THREADS before TensorFlow starts, so parallel jobs do not oversubscribe."""
    threads = os.environ.get("MNISTLAB_THREADS")
    if threads:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", threads)
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
        os.environ.setdefault("OMP_NUM_THREADS", threads)


_limit_threads()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def check_versions() -> None:
    """Fail early, with the versions found, if the environment is older than the labs need."""
    import importlib

    found = {"python": sys.version_info[:2]}
    for package in ("tensorflow", "keras"):
        module = importlib.import_module(package)
        found[package] = tuple(int(p) for p in module.__version__.split(".")[:2])
    too_old = {k: v for k, v in found.items() if v < MIN_VERSIONS[k]}
    if too_old:
        raise RuntimeError(f"mnistlab needs at least {MIN_VERSIONS}, found {found}: run `make env`")
