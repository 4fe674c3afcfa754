"""Published numbers beside measured ones, for any table whose ``compare`` block says how.

``agreement`` is the one data contract of the comparison: one row per published number
(table, row, column) with the published value, our mean, both 95% half-widths, Δ and
whether the published value lies inside each interval.  ``mnistlab.present.tables`` only
formats it in the study's layout; conclusions, plots and the index read the same frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mnistlab.spec.published import UNIT_SCALE, ColumnSpec, PublishedTable
from mnistlab.analysis.stats import spread

AGREEMENT_COLUMNS = ["table", "row", "column", "metric", "reference", "published", "n", "mean", "sd", "ci",
                     "pi", "delta", "inside_ci", "inside_pi", "digits"]

def _row_keys(runs: pd.DataFrame, table: PublishedTable) -> pd.Series:
    """Each selected run's published row key (as text, so 1 and "1" are the same row)."""
    spec = table.compare
    to_key = {str(run): str(key) for key, run in spec.aliases.items()}
    return runs[spec.match].astype(str).map(lambda value: to_key.get(value, value))


def _per_seed(runs: pd.DataFrame, column: ColumnSpec) -> pd.DataFrame:
    """Measured values of one published column: rows = published keys, columns = seeds."""
    values = runs.pivot_table(index="_row", columns="seed", values=column.metric,
                              aggfunc="first", dropna=False) * UNIT_SCALE[column.unit]
    if column.versus is None:
        return values
    reference = values.loc[str(column.versus)] if str(column.versus) in values.index else np.nan
    difference = values - reference
    return 100 * difference / reference if column.relative else difference


def agreement(results: pd.DataFrame, table: PublishedTable) -> pd.DataFrame:
    """One row per (published row, compared column): published value against our runs.

    Rows follow the published table; selected runs with no published row are appended with
    a NaN published value, and a published row with no runs gets ``n = 0``.
    """
    spec = table.compare
    if spec is None:
        return pd.DataFrame(columns=AGREEMENT_COLUMNS)
    runs = results if spec.group is None else results[results["group"] == spec.group]
    runs = runs.assign(_row=_row_keys(runs, table))
    published = table.frame.assign(_row=table.frame[spec.key].astype(str)).set_index("_row")
    order = list(published.index)
    if spec.unpublished == "show":
        order += [k for k in dict.fromkeys(runs["_row"]) if k not in published.index]
    rows = []
    for name, column in spec.columns.items():
        measured = _per_seed(runs, column)
        for key in order:
            value = published[name].get(key, np.nan) if key in published.index else np.nan
            value = float(value) if value is not None else np.nan
            s = spread(measured.loc[key] if key in measured.index else [])
            rows.append({"table": table.name, "row": key, "column": name,
                         "metric": column.metric, "reference": column.versus,
                         "published": value, "n": s.n, "mean": s.mean,
                         "sd": s.sd, "ci": s.ci, "pi": s.pi, "delta": s.mean - value,
                         "inside_ci": s.inside_ci(value) if np.isfinite(value) else np.nan,
                         "inside_pi": s.inside_pi(value) if np.isfinite(value) else np.nan,
                         "digits": column.digits})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many published numbers were compared, and how many lie inside each interval."""
    judged = frame[frame["published"].notna() & (frame["n"] > 1)]
    return {"published": int(frame["published"].notna().sum()), "judged": len(judged),
            "inside_pi": int(judged["inside_pi"].astype(bool).sum()),
            "inside_ci": int(judged["inside_ci"].astype(bool).sum())}


def compared_runs(results: pd.DataFrame, table: PublishedTable) -> pd.DataFrame:
    """The runs ``table`` is compared with (its group, or all), each with the published row
    key it stands for in column ``row``; runs without a published row are kept only when
    the table shows unpublished runs."""
    spec = table.compare
    if spec is None:
        return results.iloc[0:0].assign(row=pd.Series(dtype=str))
    runs = results if spec.group is None else results[results["group"] == spec.group]
    runs = runs.assign(row=_row_keys(runs, table))
    if spec.unpublished == "hide":
        runs = runs[runs["row"].isin(table.frame[spec.key].astype(str))]
    return runs
