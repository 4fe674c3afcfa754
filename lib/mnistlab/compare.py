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
    """One row per group with ``<metric>_mean``, ``<metric>_ci`` and the number of seeds."""
    rows = []
    for keys, group in results.groupby(by, sort=False):
        row: dict[str, Any] = dict(zip(by, keys if isinstance(keys, tuple) else (keys,)))
        for metric in metrics:
            mean, half, n = mean_ci(group[metric])
            row[f"{metric}_mean"], row[f"{metric}_ci"] = mean, half
        row["seeds"] = n
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
