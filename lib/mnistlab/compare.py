"""Measured means with 95% intervals, set beside the published numbers they are compared to.

Published numbers are read from ``params/published/*.yaml`` (transcribed from the study text)
and are only ever shown in "published" columns; every "measured" column comes from training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats


@dataclass(frozen=True)
class PublishedTable:
    name: str
    caption: str
    frame: pd.DataFrame
    notes: str = ""


def load_published(path: str | Path) -> dict[str, PublishedTable]:
    """Every table of one study's transcription, keyed by its short name (e.g. ``table1``)."""
    raw = yaml.safe_load(Path(path).read_text())
    tables = {}
    for name, table in raw["tables"].items():
        frame = pd.DataFrame(table["rows"], columns=table["columns"])
        tables[name] = PublishedTable(name, table["caption"], frame, table.get("notes", ""))
    return tables


def mean_ci(values: pd.Series | np.ndarray, level: float = 0.95) -> tuple[float, float, int]:
    """Mean and the half-width of its Student-t interval (NaN half-width for one value)."""
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    n = len(data)
    if n == 0:
        return float("nan"), float("nan"), 0
    if n == 1:
        return float(data[0]), float("nan"), 1
    half = stats.t.ppf(0.5 + level / 2, n - 1) * data.std(ddof=1) / np.sqrt(n)
    return float(data.mean()), float(half), n


def summarise(results: pd.DataFrame, by: list[str], metrics: list[str]) -> pd.DataFrame:
    """One row per group with ``<metric>_mean``, ``<metric>_ci``, ``<metric>_n`` (runs with a
    finite value: a diverged run's NaN loss is left out, and counted here) and ``seeds``."""
    rows = []
    for keys, group in results.groupby(by, sort=False):
        row: dict[str, Any] = dict(zip(by, keys if isinstance(keys, tuple) else (keys,)))
        for metric in metrics:
            mean, half, n = mean_ci(group[metric])
            row[f"{metric}_mean"], row[f"{metric}_ci"], row[f"{metric}_n"] = mean, half, n
        row["seeds"] = len(group)
        rows.append(row)
    return pd.DataFrame(rows)


def format_mean_ci(mean: float, half: float, digits: int = 4) -> str:
    if np.isnan(mean):
        return "–"
    if np.isnan(half):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def side_by_side(summary: pd.DataFrame, published: pd.DataFrame, key: str, published_key: str,
                 metrics: dict[str, str], digits: dict[str, int] | None = None) -> pd.DataFrame:
    """A table in the study's layout: per metric, published | measured | Δ.

    "measured" is the mean ± 95% CI over seeds and Δ is measured mean − published.
    ``metrics`` maps our metric name to the published column name.  Rows follow the
    published table; measured rows without a published counterpart are appended.
    """
    digits = digits or {}
    pub = published.set_index(published_key)
    meas = summary.set_index(key)
    order = list(pub.index) + [k for k in meas.index if k not in pub.index]
    columns: dict[tuple[str, str], list[Any]] = {}
    for metric, pub_col in metrics.items():
        d = digits.get(metric, 4)
        p = [pub[pub_col].get(k, np.nan) if k in pub.index else np.nan for k in order]
        m = [meas[f"{metric}_mean"].get(k, np.nan) for k in order]
        c = [meas[f"{metric}_ci"].get(k, np.nan) for k in order]
        columns[(pub_col, "published")] = [_fmt(v, d) for v in p]
        columns[(pub_col, "measured")] = [format_mean_ci(a, b, d) for a, b in zip(m, c)]
        columns[(pub_col, "Δ")] = [_fmt(a - b, d, signed=True) for a, b in zip(m, p)]
    frame = pd.DataFrame(columns, index=pd.Index(order, name=published_key.replace("_", " ")))
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame


def _fmt(value: float, digits: int, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def within_interval(summary: pd.DataFrame, published: pd.DataFrame, key: str, published_key: str,
                    metric: str, published_col: str) -> pd.Series:
    """True where the published value lies inside the measured 95% interval."""
    merged = summary.merge(published, left_on=key, right_on=published_key)
    low = merged[f"{metric}_mean"] - merged[f"{metric}_ci"]
    high = merged[f"{metric}_mean"] + merged[f"{metric}_ci"]
    return pd.Series(((merged[published_col] >= low) & (merged[published_col] <= high)).values,
                     index=merged[key])


def paired_difference(results: pd.DataFrame, key: str, left: pd.DataFrame | str,
                      right: pd.DataFrame | str, metric: str, on: str = "label") -> pd.DataFrame:
    """Per ``on`` value: mean ± 95% CI over seeds of (left − right) for ``metric``, paired by seed.

    ``left``/``right`` name the values of ``key`` (e.g. two groups) whose runs are compared.
    Pairing by seed removes the seed-to-seed spread both sides share (same initial weights
    and data order), so the interval is about the difference itself.
    """
    a = results[results[key] == left].set_index([on, "seed"])[metric]
    b = results[results[key] == right].set_index([on, "seed"])[metric]
    diff = (a - b).dropna().reset_index()
    rows = []
    for label, group in diff.groupby(on, sort=False):
        mean, half, n = mean_ci(group[metric])
        rows.append({on: label, "mean": mean, "ci": half, "seeds": n,
                     "excludes_zero": bool(n > 1 and abs(mean) > half)})
    return pd.DataFrame(rows)


def variant_table(results: pd.DataFrame, published: pd.DataFrame, baseline: str,
                  metrics: dict[str, str], layer_columns: tuple[str, ...] = (
                      "first_layer", "second_layer", "third_layer")) -> pd.DataFrame:
    """A variant study's table: settings, then per metric its value, +/- and +/-% vs the baseline.

    Each cell pair shows the published value and ours; our +/- is the seed-paired mean
    difference to the baseline of the same table, with its 95% interval.
    """
    base = results[results["label"] == baseline].set_index("seed")
    pub = published.set_index("description")
    rows = []
    for label, runs in results.groupby("label", sort=False):
        first = runs.iloc[0]
        row: dict[tuple[str, str], Any] = {("Description", ""): label}
        for index, column in enumerate(layer_columns):
            units = first["hidden"][index] if index < len(first["hidden"]) else ""
            row[(column.replace("_", " ").title(), "")] = units
        row[("Dropout", "")] = f"{first['dropout']:.0%}"
        published_row = pub.loc[label] if label in pub.index else None
        for metric, name in metrics.items():
            row.update(_variant_cells(runs, base, metric, name, published_row))
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame.set_index(("Description", ""))\
        .rename_axis("Description")


def _variant_cells(runs: pd.DataFrame, base: pd.DataFrame, metric: str, name: str,
                   published_row: pd.Series | None) -> dict[tuple[str, str], str]:
    values = runs.set_index("seed")[metric]
    delta = (values - base[metric]).dropna()
    percent = 100 * delta / base[metric].reindex(delta.index)
    title = name.title()

    def pub(column: str, digits: int, signed: bool = False) -> str:
        if published_row is None:
            return "–"
        return _fmt(published_row[column], digits, signed)

    is_baseline = bool((delta == 0).all())
    return {
        (title, "published"): pub(name, 3),
        (title, "measured"): format_mean_ci(*mean_ci(values)[:2], 3),
        (f"{title} +/-", "published"): pub(f"{name}_delta", 3, True),
        (f"{title} +/-", "measured"): "" if is_baseline else format_mean_ci(*mean_ci(delta)[:2], 3),
        (f"{title} +/-%", "published"): pub(f"{name}_delta_pct", 0, True),
        (f"{title} +/-%", "measured"): "" if is_baseline else format_mean_ci(*mean_ci(percent)[:2], 1),
    }
