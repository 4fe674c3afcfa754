"""Published numbers beside measured ones, for any table whose ``compare`` block says how.

``agreement`` is the one data contract of the comparison: one row per published number
(table, row, column) with the published value, our mean, both 95% half-widths, the clipped
single-run interval, Δ, the number's verdict and the reason for it, and which reading of the
study the table is.  ``mnistlab.present.tables`` only formats it in the study's layout;
conclusions, plots, the index and ``summary.csv`` read the same frame, so a sentence cannot
disagree with the cell beside it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mnistlab.analysis import verdicts
from mnistlab.analysis.curves import stacked
from mnistlab.analysis.derived import DERIVED_METRICS
from mnistlab.analysis.stats import Spread, independent_difference, spread
from mnistlab.spec.published import UNIT_SCALE, ColumnSpec, PublishedTable, tolerance_of

AGREEMENT_COLUMNS = ["table", "row", "column", "metric", "reference", "kind", "direction", "basis",
                     "published", "n", "seeds", "mean", "sd", "ci", "pi", "pi_low", "pi_high",
                     "ci_low", "ci_high",
                     "delta", "inside_ci", "inside_pi", "tolerance", "verdict", "why",
                     "numbers", "reading", "primary", "explained_by", "explained_table",
                     "digits"]

BASIS = {"single": "one run", "independent": "difference of two independent runs"}


def metric_range(metric: str, unit: str) -> tuple[float, float]:
    """What a metric can be, to clip its intervals: an accuracy in [0, 1] (or [0, 100] %),
    a loss, a time or a count ≥ 0."""
    if metric.endswith("accuracy"):
        return 0.0, UNIT_SCALE[unit]
    return 0.0, math.inf


def _row_keys(runs: pd.DataFrame, table: PublishedTable) -> pd.Series:
    """Each selected run's published row key (as text, so 1 and "1" are the same row)."""
    spec = table.compare
    to_key = {str(run): str(key) for key, run in spec.aliases.items()}
    return runs[spec.match].astype(str).map(lambda value: to_key.get(value, value))


def at_epoch(history: dict[str, list[float]], metric: str, epoch: int) -> float:
    """A run's ``metric`` after ``epoch`` (1-based) from its epoch logs; NaN for a run that
    stopped earlier or logged no such curve."""
    curve = history.get(metric, []) if isinstance(history, dict) else []
    return float(curve[epoch - 1]) if len(curve) >= epoch else math.nan


def _per_seed(runs: pd.DataFrame, column: ColumnSpec) -> pd.DataFrame:
    """Measured values of one compared column: rows = published keys, columns = seeds."""
    metric = column.metric
    if column.epoch is not None:
        metric = f"{metric}@{column.epoch}"
        runs = runs.assign(**{metric: runs["history"].map(
            lambda h: at_epoch(h, column.metric, column.epoch))})
    elif metric in DERIVED_METRICS and metric not in runs:
        runs = runs.assign(**{metric: runs.apply(DERIVED_METRICS[metric], axis=1)})
    return runs.pivot_table(index="_row", columns="seed", values=metric, aggfunc="first",
                            dropna=False) * UNIT_SCALE[column.unit]


def _measured(values: pd.DataFrame, key: str) -> pd.Series:
    return values.loc[key] if key in values.index else pd.Series(dtype=float)


def _spread(values: pd.DataFrame, key: str, column: ColumnSpec) -> tuple[Spread, str]:
    """Our runs of one published cell, and the basis of its interval: one run, or (for a
    ``versus`` column, a published difference of two single runs) the difference of two
    independent runs, relative to the reference's mean when the column is relative."""
    if column.versus is None:
        return spread(_measured(values, key)), "single"
    reference = _measured(values, str(column.versus))
    s = independent_difference(_measured(values, key), reference)
    if column.relative:
        scale = 100 / abs(float(reference.mean())) if len(reference) else math.nan
        s = Spread(s.n, s.mean * scale, s.sd * scale, s.ci * scale, s.pi * scale)
    return s, "independent"


def bound_direction(table: PublishedTable, column: ColumnSpec, key: str) -> str:
    """A bound's direction (above or below): given once, or read from the row's direction
    column; empty for a column that is not a bound."""
    if column.direction is None:
        return ""
    if column.direction in ("above", "below"):
        return column.direction
    rows = table.frame.assign(_row=table.frame[table.compare.key].astype(str)).set_index("_row")
    return str(rows[column.direction].get(key, ""))


def _judge(table: PublishedTable, name: str, key: str, value: float, s: Spread,
           values: pd.Series, low: float, high: float, seeds: int) -> tuple[str, str]:
    """The verdict of one published cell and its one-line reason."""
    column = table.compare.columns[name]
    digits = column.digits
    if not math.isfinite(value):
        return "", ""
    if seeds == 0:
        return "not_run", verdicts.reason("not_run", value, low, high, digits)
    if column.kind == "exact":
        verdict = verdicts.exact(value, values)
        return verdict, verdicts.reason(verdict, value, low, high, digits, mean=s.mean)
    if column.kind == "bound":
        direction = bound_direction(table, column, key)
        verdict = verdicts.bound(value, direction, low, high, s.n)
        return verdict, verdicts.reason(verdict, value, low, high, digits,
                                        bound_direction=direction, n=s.n, seeds=seeds)
    tolerance = tolerance_of(column.tolerance, value)
    verdict = verdicts.value(value, s.mean, low, high, s.n, tolerance)
    return verdict, verdicts.reason(verdict, value, low, high, digits, tolerance, s.mean,
                                    n=s.n, seeds=seeds)


def agreement(results: pd.DataFrame, table: PublishedTable) -> pd.DataFrame:
    """One row per (published row, compared column): published value against our runs, with
    its verdict and the reason for it (``mnistlab.analysis.verdicts``).

    Rows follow the published table; selected runs with no published row are appended with
    a NaN published value, and a published row with no runs gets ``n = 0`` ("not run in this
    reading").  Single-run intervals are clipped to what the metric can be.
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
        lowest, highest = metric_range(column.metric, column.unit) if column.versus is None \
            else (-math.inf, math.inf)
        for key in order:
            value = published[name].get(key, np.nan) if key in published.index else np.nan
            value = float(value) if value is not None else np.nan
            values = _measured(measured, key)
            s, basis = _spread(measured, key, column)
            low, high = max(s.mean - s.pi, lowest), min(s.mean + s.pi, highest)
            verdict, why = _judge(table, name, key, value, s, values, low, high, len(values))
            if verdict == "unjudged" and column.epoch is not None and s.n == 0:
                verdict = "not_run"  # a profile whose runs stop sooner (quick) runs no such reading
                why = (f"not run in this reading: our runs have no test score after epoch "
                       f"{column.epoch} (they end earlier, or record no test curve)")
            rows.append({"table": table.name, "row": key, "column": name,
                         "metric": column.metric, "reference": column.versus,
                         "kind": column.kind, "direction": bound_direction(table, column, key),
                         "basis": BASIS[basis], "published": value,
                         "n": s.n, "seeds": len(values), "mean": s.mean, "sd": s.sd,
                         "ci": s.ci, "pi": s.pi, "pi_low": low, "pi_high": high,
                         "ci_low": max(s.mean - s.ci, lowest),
                         "ci_high": min(s.mean + s.ci, highest),
                         "delta": s.mean - value,
                         "inside_ci": s.inside_ci(value) if np.isfinite(value) else np.nan,
                         "inside_pi": bool(low <= value <= high) if np.isfinite(value) and
                         s.n > 1 else np.nan,
                         "tolerance": tolerance_of(column.tolerance, value)
                         if np.isfinite(value) else np.nan,
                         "verdict": verdict, "why": why, "numbers": table.numbers,
                         "reading": table.reading.name if table.reading else "",
                         "primary": table.primary, "explained_by": "", "explained_table": "",
                         "digits": column.digits})
        if column.kind == "trend":
            _judge_trend(rows, table, name, measured)
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def _judge_trend(rows: list[dict[str, Any]], table: PublishedTable, name: str,
                 measured: pd.DataFrame) -> None:
    """A time from another machine: every published cell of the column gets the verdict of
    the column's trend with the table's key (which must be numeric: a depth, a width)."""
    cells = [r for r in rows if r["column"] == name and np.isfinite(r["published"])]
    long = measured.stack().rename("value").reset_index()
    result = verdicts.trend([float(r["row"]) for r in cells], [r["published"] for r in cells],
                            long["_row"].astype(float), long["value"])
    why = verdicts.trend_reason(result, table.compare.key.replace("_", " "))
    for row in cells:
        row.update(verdict=result.verdict, why=why)


def agreement_of(results: pd.DataFrame, tables: dict[str, PublishedTable]) -> pd.DataFrame:
    """Every compared table's ``agreement``, with far primary numbers that an alternative
    reading puts inside marked ``explained`` (``explain``)."""
    frames = [agreement(results, table) for table in tables.values() if table.compare]
    if not frames:
        return pd.DataFrame(columns=AGREEMENT_COLUMNS)
    return explain(pd.concat(frames, ignore_index=True))


def explain(frame: pd.DataFrame) -> pd.DataFrame:
    """A primary number that is not reproduced (``verdicts.EXPLAINABLE``) but that another
    reading of the same published number reproduces becomes ``explained``, naming that
    reading; the alternative's own row keeps its verdict."""
    frame = frame.copy()
    agree = {name for name, v in verdicts.VERDICTS.items() if v.agrees}
    alternatives = frame[~frame["primary"].astype(bool) & frame["verdict"].isin(agree)]
    by_number = {(r["numbers"], r["row"], r["column"]): r for _, r in alternatives.iterrows()}
    for index, row in frame[frame["primary"].astype(bool)].iterrows():
        other = by_number.get((row["numbers"], row["row"], row["column"]))
        if other is not None and row["verdict"] in verdicts.EXPLAINABLE:
            frame.loc[index, ["verdict", "explained_by", "explained_table", "why"]] = [
                "explained", other["reading"], other["table"],
                f"{row['why']}; under the reading \"{other['reading']}\": {other['why']}"]
    return frame


def counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many published numbers a frame holds (``published``) and how many got each
    verdict (``verdicts.VERDICTS`` order, zeros included)."""
    tally = frame.loc[frame["published"].notna(), "verdict"].value_counts()
    return {"published": int(frame["published"].notna().sum()),
            **{name: int(tally.get(name, 0)) for name in verdicts.VERDICTS}}


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


def inside_by_epoch(results: pd.DataFrame, table: PublishedTable) -> pd.DataFrame:
    """A published table against our test curves, epoch by epoch: for each published number
    whose column is a test score (not a difference), is it inside our single-run interval of
    that score after epoch 1, 2, ...?  Rows (row, column) in the table's order, columns the
    epochs (True, False; False past the shortest curve's end).  The reading of an unstated
    training length: the runs need test curves (``test_curve: true``)."""
    spec = table.compare
    runs = compared_runs(results, table)
    published = table.frame.set_index(table.frame[spec.key].astype(str))
    inside: dict[tuple[str, str], list[bool]] = {}
    for name, column in spec.columns.items():
        if column.versus is not None or not column.metric.startswith("test_"):
            continue
        for key in published.index:
            value = published.at[key, name]
            curves = stacked(runs.loc[runs["row"] == key, "history"], column.metric)
            if value is None or pd.isna(value) or not curves.size:
                continue
            curves = curves * UNIT_SCALE[column.unit]
            inside[(key, name)] = [spread(epoch).inside_pi(float(value)) for epoch in curves.T]
    frame = pd.DataFrame.from_dict(inside, orient="index").fillna(False).astype(bool)
    frame.columns = range(1, frame.shape[1] + 1)
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["row", "column"]) \
        if len(frame) else pd.MultiIndex.from_tuples([], names=["row", "column"])
    return frame
