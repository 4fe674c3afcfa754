"""One lock per ``build/``: two runs on one tree never train the same runs at once.

The second ``make report`` (or ``python -m mnistlab run``) waits for the first, saying who
holds the lock, and then finds the first one's runs in the cache.  The lock is an ``flock``
on ``build/mnistlab.lock``, so the kernel drops it when its holder exits, however it exits.
The holder's own study processes (one per study with ``JOBS`` > 1, started with
``$MNISTLAB_LOCK_OWNER`` set to its pid) run under its lock.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO

from mnistlab.core.paths import lock_path

OWNER = "MNISTLAB_LOCK_OWNER"  # set by the holder for the study processes it starts
_held = False  # this process holds the lock (a nested call is then a no-op)


def _held_here() -> bool:
    """This process, or its parent (the runner that started this study), holds the lock."""
    return _held or os.environ.get(OWNER) == str(os.getppid())


def _command() -> str:
    if sys.argv and sys.argv[0].endswith(os.path.join("mnistlab", "__main__.py")):
        return " ".join(["python -m mnistlab", *sys.argv[1:]])
    return " ".join(sys.argv)[:200] or "python"


@contextmanager
def build_lock(root: Path | None = None, stream: TextIO | None = None) -> Iterator[None]:
    """Hold ``build/``'s lock for the duration; wait (and say for whom) if another run has it."""
    global _held
    if _held_here():
        yield
        return
    stream = stream or sys.stderr
    path = lock_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            print(f"[lock] {path} is held by {holder}; waiting for it to finish so the same "
                  "runs are not trained twice (Ctrl-C to give up)", file=stream, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
            print("[lock] the other run finished; going on with its results in the cache",
                  file=stream, flush=True)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} ({_command()}, since "
                     f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S %Z})\n")
        handle.flush()
        _held = True
        try:
            yield
        finally:
            _held = False
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
