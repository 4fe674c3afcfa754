"""Which sources can change a trained result, and their digest: the key of the run cache."""

from __future__ import annotations

from mnistlab.core.cache import tree_digest
from mnistlab.core.paths import PACKAGE_DIR

TRAINING_LAYERS = ("spec", "train")


def training_digest() -> str:
    """Digest of the ``spec`` and ``train`` layers' sources.

    Every cached run is keyed on it (with the data's checksum and the run spec), so editing
    the trainer or the schema retrains what they produced, while moving a path constant in
    ``core`` or editing a plot, a report or an analysis retrains nothing.  The import layers
    (checked by ``make test``) keep ``spec`` and ``train`` from importing anything above
    them; what they import from ``core`` (paths, atomic writes, YAML reading) cannot change
    a number.
    """
    return tree_digest(PACKAGE_DIR, TRAINING_LAYERS)
