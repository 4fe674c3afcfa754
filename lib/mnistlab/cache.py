"""Content keys for results, so unchanged work is never redone and changed work always is."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The project: ``$MNISTLAB_ROOT`` when the runner hands a scratch copy to a child
    process, else the checkout holding ``lib/mnistlab`` (installed in editable mode)."""
    return Path(os.environ.get("MNISTLAB_ROOT") or PACKAGE_DIR.parents[1])


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


TRAINING_MODULES = ("data.py", "models.py", "training.py")


def source_digest(modules: tuple[str, ...] | None = None) -> str:
    """Digest of mnistlab sources: all of them, or just ``modules``.

    Trained results are keyed on ``TRAINING_MODULES`` only, so editing a plot re-renders the
    reports without retraining; editing the trainer retrains everything it produced.
    """
    paths = [PACKAGE_DIR / m for m in modules] if modules else sorted(PACKAGE_DIR.rglob("*.py"))
    return file_digest(*paths)


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


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())
