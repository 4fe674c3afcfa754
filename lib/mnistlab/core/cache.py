"""Content keys for results, so unchanged work is never redone and changed work always is."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mnistlab.core.paths import PACKAGE_DIR

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


def tree_digest(root: Path, folders: tuple[str, ...]) -> str:
    """Digest of every ``.py`` file under ``root/<folder>``, by path below ``root`` and content."""
    sha = hashlib.sha256()
    for folder in folders:
        for path in sorted((Path(root) / folder).rglob("*.py")):
            sha.update(path.relative_to(root).as_posix().encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()


def source_digest() -> str:
    """Digest of every mnistlab source: a report is rendered again when any of them changes."""
    return file_digest(*sorted(PACKAGE_DIR.rglob("*.py")))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so an interrupted run leaves no half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(data)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)


def write_json_atomic(path: Path, payload: Any) -> None:
    write_bytes_atomic(path, json.dumps(payload, indent=1, sort_keys=True).encode())

