"""Content keys for results, so unchanged work is never redone and changed work always is."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mnistlab.core.errors import CannotWrite
from mnistlab.core.paths import PACKAGE_DIR

TEMPORARY = ".*.tmp*"  # what atomic writes leave behind if the process dies mid-write
NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}

def digest(*parts: Any) -> str:
    """A stable SHA-256 of JSON-serialisable parts (dict key order does not matter)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def file_digest(*paths: Path) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(str(Path(path).name).encode())
        sha.update(Path(path).read_bytes())
    return sha.hexdigest()


def tree_digest(root: Path, folders: tuple[str, ...], leave_out: tuple[str, ...] = ()) -> str:
    """Digest of every ``.py`` file under ``root/<folder>`` but those named in ``leave_out``
    (paths below ``root``), by path below ``root`` and content."""
    sha = hashlib.sha256()
    for folder in folders:
        for path in sorted((Path(root) / folder).rglob("*.py")):
            if path.relative_to(root).as_posix() in leave_out:
                continue
            sha.update(path.relative_to(root).as_posix().encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()


def source_digest() -> str:
    """Digest of every mnistlab source: a report is rendered again when any of them changes."""
    return file_digest(*sorted(PACKAGE_DIR.rglob("*.py")))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so an interrupted run or a full disk leaves no
    half file where a complete one was; a write the machine refuses is ``CannotWrite``."""
    path = Path(path)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False,
                                         prefix=f".{path.name}.", suffix=".tmp") as tmp:
            temporary = Path(tmp.name)
            tmp.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise cannot_write(path, error) or error from None


def cannot_write(path: Path, error: OSError) -> CannotWrite | None:
    """The one line for a write the machine refuses (a full disk, a folder this user may not
    write), or None for any other error."""
    if error.errno in NO_SPACE:
        return CannotWrite(f"no space left on device writing {path}: free space and run the "
                           "same command again")
    if error.errno in NOT_WRITABLE:
        folder = next((p for p in Path(path).parents if p.exists()), Path(path).parent)
        return CannotWrite(f"{folder} is not writable by this user: give this user write "
                           "access (or set MNISTLAB_BUILD to a folder you can write, for build/) "
                           "and run the same command again")
    return None


def remove_temporaries(folder: Path) -> int:
    """Delete what writes cut short by a crash or a full disk left under ``folder``; called by
    the holder of the build lock, so no write of another run is still going on."""
    removed = 0
    for leftover in Path(folder).rglob(TEMPORARY):
        leftover.unlink(missing_ok=True)
        removed += 1
    return removed


def write_json_atomic(path: Path, payload: Any) -> None:
    write_bytes_atomic(path, json.dumps(payload, indent=1, sort_keys=True).encode())

