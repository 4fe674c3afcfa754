"""Which sources can change a trained result, and their digest: the key of the run cache."""

from __future__ import annotations

from mnistlab.core.cache import tree_digest
from mnistlab.core.paths import PACKAGE_DIR

TRAINING_LAYERS = ("spec", "train")
# The published tables' schema: what the runs are compared with, never an input of training
# (``train`` does not import it; ``tests/test_layers.py`` checks).
NOT_TRAINING = ("spec/published.py",)


def training_digest() -> str:
    """Digest of the ``spec`` and ``train`` layers' sources (the published tables' schema
    left out: changing how a number is judged retrains nothing).

    Every cached run is keyed on it (with the data's checksum and the run spec), so editing
    the trainer or the schema retrains what they produced, while moving a path constant in
    ``core`` or editing a plot, a report or an analysis retrains nothing.  The import layers
    (checked by ``make test``) keep ``spec`` and ``train`` from importing anything above
    them; what they import from ``core`` (paths, atomic writes, YAML reading) cannot change
    a number.
    """
    return tree_digest(PACKAGE_DIR, TRAINING_LAYERS, NOT_TRAINING)
