"""Numbers a published column may compare with besides what runs record, derived from a run's
settings.  Kept apart from the statistics so that ``validate`` can list them without loading
pandas or SciPy."""

from __future__ import annotations

import ast
from typing import Any

from mnistlab.spec.tasks import task


def weights_without_biases(inputs: int, hidden: list[int], outputs: int) -> int:
    """Connection weights of a dense network, biases left out (784·128 + 128·10 = 101,632):
    how study 002's text counts a network's parameters."""
    sizes = [inputs, *hidden, outputs]
    return int(sum(a * b for a, b in zip(sizes, sizes[1:])))


def connection_weights(run: Any) -> int:
    """``weights_without_biases`` of one run (a results row; its ``hidden`` a list, or the
    list's text as results.csv stores it)."""
    hidden = run["hidden"]
    hidden = ast.literal_eval(hidden) if isinstance(hidden, str) else list(hidden)
    spec = task(run["task"])
    return weights_without_biases(spec.inputs, hidden, spec.outputs)


# Numbers a published column may compare with besides what runs record, derived from a run.
DERIVED_METRICS = {"weights": connection_weights}


