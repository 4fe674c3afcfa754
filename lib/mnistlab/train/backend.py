"""TensorFlow and Keras, imported once with their start-up chatter kept out of sight.

Importing TensorFlow prints an absl notice and a oneDNN notice straight to file
descriptor 2, below Python's logging, so they land in a notebook's first cell and in the
terminal of ``make report``.  Here the import runs with descriptor 2 pointed at
``build/state/tensorflow-startup.log``; it is restored right after, so real warnings and
errors later on still reach the user.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

from mnistlab.core.paths import state_dir


@contextmanager
def _stderr_to_log() -> Iterator[None]:
    log = state_dir() / "tensorflow-startup.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:  # a read-only checkout: keep the chatter rather than fail
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(target, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)


with _stderr_to_log():
    import tensorflow as tf
    import keras

    tf.constant(0.0) + 1.0  # the oneDNN notice is printed by the first op, not the import

__all__ = ["keras", "tf"]
