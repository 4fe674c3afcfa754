"""mnistlab: re-run published MNIST studies as parameterised, reproducible notebooks.

The package is built in layers, each a subpackage that imports only from the layers below
it (``make test`` checks this with import-linter; see docs/architecture.md):

    core → spec → train → analysis → present → notebook → studies → pipeline

This module itself imports none of them: it only sets the thread limits TensorFlow must
see before it starts.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"


def _limit_threads() -> None:
    """Honour MNISTLAB_THREADS before TensorFlow starts, so parallel jobs do not oversubscribe."""
    threads = os.environ.get("MNISTLAB_THREADS")
    if threads:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", threads)
        os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
        os.environ.setdefault("OMP_NUM_THREADS", threads)


_limit_threads()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
