"""What failed in a study, said so the user can act: the study, the cell, the error, the
executed notebook to open.

A study that fails does not stop the others; each failure becomes a ``Failure``, kept in
``build/<profile>/<experiment>/<study>/failure.json`` (so the runner can name a failure that
happened in a child process), and the run ends with one summary of them all.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from mnistlab.core.cache import write_json_atomic
from mnistlab.core.yamlfile import bounded


@dataclass(frozen=True)
class Failure:
    study: str  # experiment/study
    where: str  # "cell [7] `agreement = study.agreement(results)`", "rendering the report", ...
    error: str  # "KeyError: 'test_accuracy'"
    notebook: str | None = None  # the executed notebook, kept with the failing cell marked

    def describe(self) -> str:
        """Two lines: what failed where, and what to open."""
        text = f"{self.study}: {self.where} failed with {self.error}"
        if self.notebook:
            text += f"\n    open {_relative(Path(self.notebook))} (the failing cell is marked)"
        return text


def of_exception(study: str, error: BaseException, stage: str, notebook: Path | None) -> Failure:
    """Name the failing cell of a papermill error; other errors by the stage they stopped."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        first = next((line for line in error.source.splitlines() if line.strip()), "")
        where = f"cell [{error.exec_count}] `{bounded(first.strip(), 100)}`"
        message = f"{error.ename}: {error.evalue}"
    else:
        where, message = stage, f"{type(error).__name__}: {error}"
    kept = notebook if notebook is not None and notebook.is_file() else None
    return Failure(study, where, bounded(message, 600), str(kept) if kept else None)


def save(path: Path, failure: Failure) -> None:
    """Keep the failure for the runner; if even that cannot be written (a full disk), say so
    in one line and let the failure itself be reported."""
    try:
        write_json_atomic(path, asdict(failure))
    except OSError as error:
        print(f"[failure] could not record the failure: {error}", file=sys.stderr, flush=True)


def load(path: Path) -> Failure | None:
    """The failure a child process recorded, or None if it recorded none."""
    try:
        return Failure(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _relative(path: Path) -> Path:
    """Relative to where the user is, if it is below; else the absolute path."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
