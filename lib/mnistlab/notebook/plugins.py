"""Study analyses by name, loaded on first use from the ``mnistlab.studies`` entry points.

``"004.figure2_claims"`` names study ``004``'s entry point (``pyproject.toml``), whose module's
``ANALYSES`` table holds the function: papermill's engine registry is the model.  Nothing here
imports a study module by name, so this layer stays below ``studies``, and a study's code is
loaded only when a notebook shows its analyses or the pipeline checks their names.  A study
kept outside this package registers the same way from its own distribution.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from importlib import metadata
from typing import Any, Callable

GROUP = "mnistlab.studies"
Analysis = Callable[..., list[Any]]  # (study, results frame) -> what to display, in order


@lru_cache(maxsize=None)
def registered_studies() -> dict[str, str]:
    """Study id → module, as the installed distributions register them."""
    return {point.name: point.value for point in metadata.entry_points(group=GROUP)}


@lru_cache(maxsize=None)
def study_analyses(study_id: str) -> dict[str, Analysis]:
    """The ``ANALYSES`` table of one registered study (imports its module once)."""
    module = registered_studies().get(study_id)
    if module is None:
        return {}
    return dict(importlib.import_module(module).ANALYSES)


def analysis(name: str) -> Analysis:
    """The analysis registered under ``name``; ``KeyError`` saying what is known otherwise."""
    found = study_analyses(name.partition(".")[0]).get(name)
    if found is None:
        raise KeyError(unknown(name))
    return found


def unknown(name: str) -> str:
    """Why ``name`` names no analysis, with the names a user could have meant."""
    study_id = name.partition(".")[0]
    if study_id not in registered_studies():
        return (f"value {name!r} is not allowed: no study {study_id!r} is registered (entry "
                f"points of the group {GROUP}: {', '.join(sorted(registered_studies())) or 'none'}; "
                "run `make env` after adding one)")
    return (f"value {name!r} is not allowed: study {study_id} has the analyses "
            f"{', '.join(sorted(study_analyses(study_id)))}")


def unknown_analyses(names: list[str]) -> list[str]:
    """One message per name in ``names`` that no registered study provides."""
    return [unknown(name) for name in names
            if name not in study_analyses(name.partition(".")[0])]
