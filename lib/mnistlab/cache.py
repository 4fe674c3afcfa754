"""Content keys for results, so unchanged work is never redone and changed work always is."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .paths import PACKAGE_DIR

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


def _local_imports(module: Path) -> set[str]:
    """The mnistlab modules ``module`` imports (relative or absolute), by file name."""
    names = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 or (node.module or "").startswith("mnistlab"):
                base = (node.module or "").removeprefix("mnistlab").lstrip(".")
                names |= {base} if base else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("mnistlab.")}
    return {name.split(".")[0] for name in names}


def code_closure(*entry: str) -> list[Path]:
    """Every mnistlab module reachable by imports from the ``entry`` modules.

    Found by reading the sources, not kept by hand, so a helper the trainer starts to
    import is part of the training code's digest from that moment on.
    """
    todo, seen = list(entry), set()
    while todo:
        name = todo.pop()
        path = PACKAGE_DIR / f"{name}.py"
        if name in seen or not path.is_file():
            if (PACKAGE_DIR / name / "__init__.py").is_file() and name not in seen:
                seen.add(name)
            continue
        seen.add(name)
        todo.extend(_local_imports(path) - seen)
    return sorted(PACKAGE_DIR / f"{name}.py" for name in seen if (PACKAGE_DIR / f"{name}.py").is_file())


TRAINING_ENTRY = ("training",)


def source_digest(training_only: bool = False) -> str:
    """Digest of mnistlab sources: all of them, or the training code alone.

    Trained results are keyed on the training code (what ``sweep`` imports, transitively),
    so editing a plot re-renders the reports without retraining, and editing anything the
    trainer uses retrains everything it produced.
    """
    paths = code_closure(*TRAINING_ENTRY) if training_only else sorted(PACKAGE_DIR.rglob("*.py"))
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

