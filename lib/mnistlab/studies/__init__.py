"""Layer 7, ``studies``: paper-specific analyses, one module (or package) per study.

A params file lists ``analyses: ["001.input_scaling", ...]``.  The part before the dot is the
study's id, registered as an entry point of the group ``mnistlab.studies`` in
``pyproject.toml`` (``"001" = "mnistlab.studies.chu_001"``), as papermill registers its
engines; the module's ``ANALYSES`` table maps each full name to its function.  A study module
is imported only when a notebook shows its analyses or the pipeline validates a params file
that names them (``mnistlab.notebook.plugins``), so reading the schema never loads a paper's
code.  Generic modules never name a paper's tables or columns: this package is where such
names live, and no study imports another.

An analysis states up front what it needs with ``require`` (configurations, groups, epoch
logs, published tables and rows); an instructor's variant that keeps only some configurations
then gets one line saying what is missing (``MissingRuns``) in place of that analysis, and the
rest of its report renders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

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


def require(study: "Study", results: "pd.DataFrame", *, configurations: Iterable[str] = (),
            any_configuration: Iterable[str | tuple[str, ...]] = (), groups: Iterable[str] = (),
            any_group: Iterable[str] = (), levels: Mapping[str, int] | None = None,
            curves: Iterable[str] = (), published: Iterable[str] = (),
            rows: Sequence[str] | None = None) -> None:
    """Raise ``MissingRuns`` unless the study has what an analysis needs; an analysis calls it
    first, before it computes or draws anything.

    - ``configurations``: runs of every one of these names; ``any_configuration``: of one
      of these names, or of every name of one of these tuples (a pair to compare);
    - ``groups``: runs of every one of these configuration groups; ``any_group``: of one;
    - ``levels``: per results column, at least that many different values among the runs
      (a trend or a comparison needs two);
    - ``curves``: epoch logs that every run recorded (``val_loss`` needs a validation split);
    - ``published``: tables of the study's published file;
    - ``rows``: published row keys that one published table (with a ``compare`` block) joins
      runs to, all of them; ``()``: at least one row of any table.

    The message names everything that is missing and what the study has instead.
    """
    import pandas as pd

    from mnistlab.core.errors import MissingRuns

    def column(name: str) -> list[Any]:  # read only what a requirement names
        return list(results[name]) if name in results else []

    names = list(dict.fromkeys(str(name) for name in column("name")))
    runs = f"it runs {_listing(names)}" if names else "it has no runs"
    present = list(dict.fromkeys(g for g in column("group") if isinstance(g, str)))
    has_groups = f"its groups: {_listing(present)}" if present else "its runs have no group"
    needs = []
    lacking = [name for name in configurations if name not in names]
    if lacking:
        needs.append(f"the configuration{_plural(lacking)} {_listing(lacking)}, which this study "
                     f"does not run ({runs})")
    wanted = [(name,) if isinstance(name, str) else tuple(name) for name in any_configuration]
    if wanted and not any(set(names).issuperset(choice) for choice in wanted):
        what = ("one of the configurations" if all(len(c) == 1 for c in wanted) else
                "one of the sets of configurations")
        needs.append(f"{what} {_listing([' + '.join(c) for c in wanted], 'or')}, which this "
                     f"study does not run ({runs})")
    lacking = [group for group in groups if group not in present]
    if lacking:
        needs.append(f"runs of the group{_plural(lacking)} {_listing(lacking)}, which this study "
                     f"does not run ({has_groups})")
    wanted = list(any_group)
    if wanted and not set(wanted) & set(present):
        needs.append(f"runs of the group {_listing(wanted, 'or')}, which this study does not run "
                     f"({has_groups})")
    for key, count in (levels or {}).items():
        values = list(dict.fromkeys(value for value in column(key) if pd.notna(value)))
        if len(values) >= count:
            continue
        if key == "name":
            needs.append(f"runs of {count} or more configurations, which this study does not run "
                         f"({runs})")
            continue
        label = key.replace("_", " ")
        needs.append(f"runs at {count} or more values of {label}, which this study does not run ("
                     + (f"its runs have {label} {_listing(values)}" if values else "it has no runs")
                     + ")")
    curves = list(curves)
    logged = [set(history) if isinstance(history, dict) else set()
              for history in (column("history") if curves else [])]
    recorded = set.intersection(*logged) if logged else set()
    lacking = [curve for curve in curves if curve not in recorded]
    if lacking:
        needs.append(f"the epoch log{_plural(lacking)} {_listing(lacking)}, which these runs do "
                     "not record (" + (f"they record {_listing(sorted(recorded))}" if recorded
                                       else "they record none") + ")")
    lacking = [table for table in published if table not in study.published]
    if lacking:
        needs.append(f"the published table{_plural(lacking)} {_listing(lacking)}, which this "
                     "study's published file does not have (" +
                     (f"it has {_listing(list(study.published))}" if study.published
                      else "it has no published file") + ")")
    if rows is not None:
        needs += _joined_rows(study, results, list(rows))
    if needs:
        raise MissingRuns("; and ".join(needs))


def _joined_rows(study: "Study", results: "pd.DataFrame", rows: list[str]) -> list[str]:
    """What ``require(rows=...)`` misses: nothing when one compared table joins runs to every
    row of ``rows`` (to any row when ``rows`` is empty)."""
    from mnistlab.analysis.compare import compared_runs

    joined = {name: list(dict.fromkeys(compared_runs(results, table)["row"]))
              for name, table in study.published.items() if table.compare is not None}
    if any(set(rows) <= set(keys) if rows else keys for keys in joined.values()):
        return []
    what = (f"runs of the published rows {_listing(rows)} in one table" if rows
            else "runs that a published table is compared with")
    if not joined:
        return [f"{what}, which this study does not have (it has no published table to compare "
                "with)"]
    tables = "; ".join(f"{name}: {_listing(keys)}" for name, keys in joined.items())
    return [f"{what}, which this study does not run (the rows its runs join, by table: "
            f"{tables})"]


def _listing(values: Iterable[Any], last: str = "and", limit: int = 8) -> str:
    """``a``, ``a and b``, ``a, b and c``; past ``limit`` values, the first ones and the count."""
    values = [str(value) for value in values]
    if not values:
        return "none"
    if len(values) > limit:
        return f"{', '.join(values[:limit])} … ({len(values)} in all)"
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} {last} {values[-1]}"


def _plural(values: list[Any]) -> str:
    return "s" if len(values) > 1 else ""
