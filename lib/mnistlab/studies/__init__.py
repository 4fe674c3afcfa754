"""Layer 7, ``studies``: paper-specific analyses, one module (or package) per study.

A params file lists ``analyses: ["001.input_scaling", ...]``.  The part before the dot is the
study's id, registered as an entry point of the group ``mnistlab.studies`` in
``pyproject.toml`` (``"001" = "mnistlab.studies.chu_001"``), as papermill registers its
engines; the module's ``ANALYSES`` table maps each full name to its function.  A study module
is imported only when a notebook shows its analyses or the pipeline validates a params file
that names them (``mnistlab.notebook.plugins``), so reading the schema never loads a paper's
code.  Generic modules never name a paper's tables or columns: this package is where such
names live, and no study imports another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    import pandas as pd

    from mnistlab.notebook.study import Study

Analysis = Callable[["Study", "pd.DataFrame"], list[Any]]


class Analyses(dict[str, Analysis]):
    """One study's analyses by full name (``"000.depth_claim"``); ``add`` is the decorator.

    An analysis takes the study and its results frame and returns what to display, in
    order: Markdown strings, tables, figures."""

    def __init__(self, study_id: str, *parts: "Analyses"):
        super().__init__()
        self.study_id = study_id
        for part in parts:
            for name, function in part.items():
                self.add(name)(function)

    def add(self, name: str) -> Callable[[Analysis], Analysis]:
        if not name.startswith(f"{self.study_id}."):
            raise ValueError(f"analysis {name!r} of study {self.study_id} must be named "
                             f"{self.study_id}.<name>")
        if name in self:
            raise ValueError(f"analysis {name!r} is registered twice")

        def register(function: Analysis) -> Analysis:
            self[name] = function
            return function
        return register
