"""How one published number is judged against our runs, by the kind of number it is.

Every published number is one run, so a *value* is judged by our 95% prediction interval for
a single run; a *bound* ("above 95%") by where that interval lies against the bound; an
*exact* quantity (a parameter count) by equality; a *trend* (a time measured on another
machine) only by the direction of its rank correlation with the table's key.  A number far
under the study's primary reading is *explained* when an alternative reading the study's text
allows puts it inside (``compare.explain``).  Pure functions of numbers: no study, no frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mnistlab.analysis.stats import ALPHA, spearman


@dataclass(frozen=True)
class Verdict:
    name: str
    label: str
    colour: str  # strong colour: the overview figure
    tint: str  # light colour: the verdict cell
    meaning: str
    agrees: bool  # counts as reproduced (inside, holds, exact, explained)


VERDICTS: dict[str, Verdict] = {v.name: v for v in (
    Verdict("inside", "inside", "#2e7d32", "#c8e6c9",
            "a value inside our 95% prediction interval for a single run", True),
    Verdict("holds", "holds", "#388e3c", "#dcedc8",
            "a stated bound (\"above 95%\") that our whole single-run interval satisfies", True),
    Verdict("exact", "exact", "#1b5e20", "#a5d6a7",
            "a deterministic quantity (a parameter count) equal to ours", True),
    Verdict("explained", "explained", "#1565c0", "#cfe3fa",
            "outside the interval of the study's primary reading, but inside (or equal to) "
            "that of an alternative reading the study's text allows; the row names it", True),
    Verdict("close", "within tolerance", "#b26a00", "#ffe0a3",
            "a value outside that interval, but |Δ| is within the tolerance the published "
            "file states", False),
    Verdict("undecided", "undecided", "#8d6e63", "#e8dcd5",
            "a stated bound our single-run interval straddles", False),
    Verdict("far", "far", "#c62828", "#f8c4c4",
            "a value outside that interval and beyond any stated tolerance", False),
    Verdict("fails", "fails", "#b71c1c", "#f4b6b6",
            "a stated bound our whole single-run interval contradicts", False),
    Verdict("differs", "differs", "#ad1457", "#f8bbd0",
            "a deterministic quantity unequal to ours", False),
    Verdict("unjudged", "not judged", "#757575", "#e0e0e0",
            "fewer than two finite runs, so no interval to judge by", False),
    Verdict("not_run", "not run in this reading", "#9e9e9e", "#eeeeee",
            "a published row this reading does not run, by design", False),
    Verdict("trend_reproduced", "trend reproduced", "#00695c", "#b2dfdb",
            "a time from another machine: our trend with the table's key has the published "
            "trend's direction (Spearman, 5%)", True),
    Verdict("trend_differs", "trend not reproduced", "#6a1b9a", "#e1bee7",
            "a time from another machine whose trend with the table's key we do not see "
            "in the same direction", False),
)}

# An alternative reading explains a primary verdict among these (a number one of our runs
# could not have given as the study is written, but could under the alternative).
# An undecided bound stays undecided: it is not contradicted, so there is nothing to explain.
EXPLAINABLE = ("close", "far", "fails", "differs")


def value(published: float, mean: float, low: float, high: float, n: int,
          tolerance: float = math.nan) -> str:
    """A value: inside [low, high] (our single-run interval), within the stated tolerance of
    our mean, or far."""
    if n < 2 or not (math.isfinite(low) and math.isfinite(high)):
        return "unjudged"
    if low <= published <= high:
        return "inside"
    if math.isfinite(tolerance) and abs(mean - published) <= tolerance:
        return "close"
    return "far"


def bound(published: float, direction: str, low: float, high: float, n: int) -> str:
    """A stated bound: it holds when the whole single-run interval [low, high] satisfies it,
    fails when none of it does, and is undecided when the interval straddles it."""
    if n < 2 or not (math.isfinite(low) and math.isfinite(high)):
        return "unjudged"
    above = direction == "above"
    if (low > published) if above else (high < published):
        return "holds"
    if (high <= published) if above else (low >= published):
        return "fails"
    return "undecided"


def exact(published: float, values: Any) -> str:
    """A deterministic quantity: every run's value equals the published one, or not."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if not len(data):
        return "unjudged"
    return "exact" if bool(np.all(data == published)) else "differs"


@dataclass(frozen=True)
class Trend:
    """Spearman's ρ of the published values and of ours (every run) with the table's key."""

    published_rho: float
    published_p: float
    our_rho: float
    our_p: float
    runs: int

    @property
    def verdict(self) -> str:
        if self.runs < 3 or not math.isfinite(self.our_rho):
            return "unjudged"
        same = direction(self.published_rho, self.published_p) == \
            direction(self.our_rho, self.our_p)
        return "trend_reproduced" if same else "trend_differs"


def direction(rho: float, p_value: float) -> str:
    """"rises", "falls" or "none": the trend a Spearman test at ``ALPHA`` supports."""
    if not (math.isfinite(rho) and math.isfinite(p_value)) or p_value >= ALPHA:
        return "none"
    return "rises" if rho > 0 else "falls"


def trend(keys: Any, published: Any, run_keys: Any, run_values: Any) -> Trend:
    """The published trend (one value per key) against ours (one value per run)."""
    keys, published = np.asarray(keys, dtype=float), np.asarray(published, dtype=float)
    shown = np.isfinite(published)
    run_keys, run_values = np.asarray(run_keys, dtype=float), np.asarray(run_values, dtype=float)
    finite = np.isfinite(run_values)
    published_rho, published_p = spearman(keys[shown], published[shown]) \
        if shown.sum() > 2 else (math.nan, math.nan)
    our_rho, our_p = spearman(run_keys[finite], run_values[finite]) \
        if finite.sum() > 2 else (math.nan, math.nan)
    return Trend(published_rho, published_p, our_rho, our_p, int(finite.sum()))


def reason(verdict: str, published: float, low: float, high: float, digits: int,
           tolerance: float = math.nan, mean: float = math.nan, bound_direction: str = "",
           n: int = 0, seeds: int = 0) -> str:
    """One line saying why (the verdict cell's tooltip and ``summary.csv``'s ``why``):
    "inside: 0.9683 ∈ [0.9698, 0.9790]"."""
    if verdict in ("close", "far", "inside"):  # enough digits to show which side it lies on
        digits = _telling_digits(published, low, high, digits)

    def f(x: float) -> str:
        return f"{x:,.{digits}f}"

    interval = f"[{f(low)}, {f(high)}]"
    if verdict == "inside":
        return f"inside: {f(published)} ∈ {interval}"
    if verdict in ("close", "far"):
        gap = f"|Δ| = {f(abs(mean - published))}"
        rule = (f"{'≤' if verdict == 'close' else '>'} tolerance {f(tolerance)}"
                if math.isfinite(tolerance) else "no tolerance stated")
        return f"{verdict}: {f(published)} ∉ {interval}; {gap} {rule}"
    if verdict in ("holds", "fails", "undecided"):
        other_side = "below" if bound_direction == "above" else "above"
        where = {"holds": "lies " + bound_direction, "fails": "lies " + other_side,
                 "undecided": "straddles"}[verdict]
        return f"{verdict}: {bound_direction} {f(published)}; our single-run interval " \
               f"{interval} {where} it"
    if verdict in ("exact", "differs"):
        sign = "=" if verdict == "exact" else "≠"
        return f"{verdict}: published {f(published)} {sign} ours {f(mean)}"
    if verdict == "not_run":
        return "not run in this reading (by design)"
    return f"not judged: {n} finite of {seeds} runs"


def _telling_digits(published: float, low: float, high: float, digits: int) -> int:
    """The fewest digits from ``digits`` (up to three more) at which the published value and
    the interval's bounds print differently, so "0.08 ∉ [0.08, 0.11]" reads
    "0.080 ∉ [0.082, 0.107]"."""
    for more in range(4):
        shown = [f"{x:.{digits + more}f}" for x in (published, low, high)]
        if shown[0] not in shown[1:]:
            return digits + more
    return digits + 3


def trend_reason(result: Trend, key: str) -> str:
    """"trend with depth: published ρ = +0.68 (p = 0.03), ours ρ = +0.75 (p = 1e-06, 50 runs)"."""
    return (f"{VERDICTS[result.verdict].label}: with {key}, published ρ = "
            f"{result.published_rho:+.2f} (p = {result.published_p:.2g}, "
            f"{direction(result.published_rho, result.published_p)}), ours ρ = "
            f"{result.our_rho:+.2f} (p = {result.our_p:.2g}, "
            f"{direction(result.our_rho, result.our_p)}, {result.runs} runs)")
