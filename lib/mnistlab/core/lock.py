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

from mnistlab.core.cache import cannot_write, remove_temporaries
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


def _open_lock(path: Path) -> TextIO:
    """The lock file, opened for appending; a ``build/`` this user cannot write is one line."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a+")
    except OSError as error:
        raise cannot_write(path, error) or error from None


@contextmanager
def build_lock(root: Path | None = None, stream: TextIO | None = None) -> Iterator[None]:
    """Hold ``build/``'s lock for the duration; wait (and say for whom) if another run has it."""
    global _held
    if _held_here():
        yield
        return
    stream = stream or sys.stderr
    path = lock_path(root)
    with _open_lock(path) as handle:
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
        removed = remove_temporaries(path.parent)
        if removed:
            print(f"[lock] removed {removed} temporary file(s) an interrupted run left in "
                  f"{path.parent}", file=stream, flush=True)
        _write_holder(handle.fileno(), path)
        _held = True
        try:
            yield
        finally:
            _held = False
            os.ftruncate(handle.fileno(), 0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_holder(descriptor: int, path: Path) -> None:
    """Say who holds the lock, for a second run to print.  Unbuffered, so a full disk fails
    here in one line, and not once more when the file is closed."""
    line = f"pid {os.getpid()} ({_command()}, since {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %Z})\n"
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, line.encode())
    except OSError as error:
        raise cannot_write(path, error) or error from None
