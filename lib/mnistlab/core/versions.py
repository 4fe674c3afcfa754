"""The oldest Python, TensorFlow and Keras the labs run on, checked when a notebook starts."""

from __future__ import annotations

import importlib
import sys

MIN_VERSIONS = {"python": (3, 11), "tensorflow": (2, 21), "keras": (3, 0)}


def check_versions() -> None:
    """Fail early, with the versions found, if the environment is older than the labs need."""
    found = {"python": sys.version_info[:2]}
    for package in ("tensorflow", "keras"):
        module = importlib.import_module(package)
        found[package] = tuple(int(p) for p in module.__version__.split(".")[:2])
    too_old = {k: v for k, v in found.items() if v < MIN_VERSIONS[k]}
    if too_old:
        raise RuntimeError(f"mnistlab needs at least {MIN_VERSIONS}, found {found}: run `make env`")
