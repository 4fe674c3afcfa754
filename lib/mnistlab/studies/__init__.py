"""Paper-specific analyses: one module per study, switched on by the study's params.

A params file lists ``analyses: ["001.input_scaling", ...]``; each name is registered here by
the ``analysis`` decorator in that study's own module (``chu_001``, ``rim_shin_000``, ...), and
the experiment's notebook shows them after its generic sections.  Generic modules never
name a paper's tables or columns; this package is where such names live.

Study modules import only light modules at import time (the params check runs before any
kernel and must stay fast); pandas, plots and the like are imported inside the analyses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import pandas as pd

    from ..lab import Study

Analysis = Callable[["Study", "pd.DataFrame"], list[Any]]
ANALYSES: dict[str, Analysis] = {}


def analysis(name: str) -> Callable[[Analysis], Analysis]:
    """Register an analysis under ``"<study id>.<name>"``; it returns what to display, in order
    (Markdown strings, tables, figures)."""
    def register(function: Analysis) -> Analysis:
        if name in ANALYSES:
            raise ValueError(f"analysis {name!r} is registered twice")
        ANALYSES[name] = function
        return function
    return register


from . import chu_001, fouchier_yang_004, rim_shin_000  # noqa: E402,F401  (each registers its analyses)
