"""Pure statistics over seeds: no plotting, no formatting, no knowledge of any study.

Two intervals answer two questions, and reports show both:

* the **confidence interval of the mean** (mean ± t·s/√n) says where the average of many runs
  lies; it shrinks as seeds are added;
* the **prediction interval for a single run** (mean ± t·s·√(1 + 1/n)) says where one more
  run would land with 95% probability.  Every published number is one run, so it is the
  yardstick for "reproduced": a published value inside it is what one of our runs could
  have given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95
ALPHA = 0.05  # the significance level of every test a sentence is worded by


@dataclass(frozen=True)
class Spread:
    """Mean, sample standard deviation and the two 95% half-widths of finite values."""

    n: int
    mean: float
    sd: float
    ci: float  # half-width of the confidence interval of the mean
    pi: float  # half-width of the prediction interval for one more run

    def inside_pi(self, value: float) -> bool:
        return bool(self.n > 1 and abs(value - self.mean) <= self.pi)

    def inside_ci(self, value: float) -> bool:
        return bool(self.n > 1 and abs(value - self.mean) <= self.ci)


def spread(values: Any, level: float = LEVEL) -> Spread:
    """Both intervals of the finite values; NaN half-widths with fewer than two values.

    A diverged run's NaN is left out here; callers count it through ``n``.
    """
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    n = len(data)
    if n == 0:
        return Spread(0, float("nan"), float("nan"), float("nan"), float("nan"))
    if n == 1:
        return Spread(1, float(data[0]), float("nan"), float("nan"), float("nan"))
    sd = float(data.std(ddof=1))
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    return Spread(n, float(data.mean()), sd, t * sd / np.sqrt(n), sd * single_run_width(n, level))


def summarise(results: pd.DataFrame, by: list[str], metrics: list[str]) -> pd.DataFrame:
    """One row per group with ``<metric>_mean``, ``_ci``, ``_pi``, ``_n`` (runs with a finite
    value: a diverged run's NaN loss is left out, and counted here) and ``seeds``."""
    rows = []
    for keys, group in results.groupby(by, sort=False):
        row: dict[str, Any] = dict(zip(by, keys if isinstance(keys, tuple) else (keys,)))
        for metric in metrics:
            s = spread(group[metric])
            row.update({f"{metric}_mean": s.mean, f"{metric}_ci": s.ci, f"{metric}_pi": s.pi,
                        f"{metric}_n": s.n})
        row["seeds"] = len(group)
        rows.append(row)
    return pd.DataFrame(rows)


def paired_difference(results: pd.DataFrame, key: str, left: str, right: str, metric: str,
                      on: str = "label") -> pd.DataFrame:
    """Per ``on`` value: mean ± 95% CI over seeds of (left − right) for ``metric``, paired by seed.

    ``left``/``right`` are values of ``key`` (e.g. two groups).  Pairing by seed removes the
    seed-to-seed spread both sides share (same initial weights and data order), so the
    interval is about the difference itself.
    """
    a = results[results[key] == left].set_index([on, "seed"])[metric]
    b = results[results[key] == right].set_index([on, "seed"])[metric]
    diff = (a - b).dropna().reset_index()
    rows = []
    for label, group in diff.groupby(on, sort=False):
        s = spread(group[metric])
        rows.append({on: label, "mean": s.mean, "ci": s.ci, "seeds": s.n,
                     "excludes_zero": bool(s.n > 1 and abs(s.mean) > s.ci)})
    return pd.DataFrame(rows)


def spearman(x: Any, y: Any) -> tuple[float, float]:
    """Spearman's ρ and its two-sided p-value (NaN when either side is constant)."""
    rho, p_value = stats.spearmanr(x, y)
    return float(rho), float(p_value)


def holm(p_values: Any) -> np.ndarray:
    """Holm's step-down adjustment: p-values that keep the family-wise error at 5% when
    several pairs are tested at once (NaN stays NaN and does not count)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite])]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def pairwise_differences(results: pd.DataFrame, by: str, metric: str) -> pd.DataFrame:
    """Every pair of values of ``by`` (in order of appearance): ``metric`` of the first minus
    the second, paired by seed, with its 95% CI, a paired t-test and Holm's adjustment.

    Pairing by seed takes out what two settings share under one seed (the data order, and the
    initial weights when the shapes agree), so the interval is about the difference itself;
    ``ci`` is also the smallest mean difference these seeds resolve.
    """
    levels = list(dict.fromkeys(results[by]))
    table = results.pivot_table(index="seed", columns=by, values=metric, aggfunc="first")
    rows = []
    for i, first in enumerate(levels):
        for second in levels[i + 1:]:
            diff = (table[first] - table[second]).dropna() if first in table and second in table \
                else pd.Series(dtype=float)
            s = spread(diff)
            p_value = float("nan")
            if s.n > 1 and s.sd > 0:
                p_value = float(stats.ttest_1samp(diff, 0.0).pvalue)
            elif s.n > 1 and s.mean != 0:
                p_value = 0.0  # every seed gives the same non-zero difference
            rows.append({"first": first, "second": second, "mean": s.mean, "sd": s.sd,
                         "ci": s.ci, "seeds": s.n, "p": p_value})
    frame = pd.DataFrame(rows, columns=["first", "second", "mean", "sd", "ci", "seeds", "p"])
    frame["p_holm"] = holm(frame["p"]) if len(frame) else []
    frame["excludes_zero"] = (frame["seeds"] > 1) & (frame["mean"].abs() > frame["ci"])
    return frame


def single_run_width(seeds: int, level: float = LEVEL) -> float:
    """Half-width of the single-run prediction interval in standard deviations with ``seeds``
    seeds, t(n − 1)·√(1 + 1/n): 5.0 at three seeds, 3.0 at five, 2.4 at ten."""
    if seeds < 2:
        return float("nan")
    return float(stats.t.ppf(0.5 + level / 2, seeds - 1) * np.sqrt(1 + 1 / seeds))


def paired_resolution(sd: float, seeds: int, level: float = LEVEL) -> float:
    """Half-width of the 95% CI of a seed-paired difference whose seed-to-seed standard
    deviation is ``sd``, with ``seeds`` seeds: the smallest difference they can tell from 0."""
    if seeds < 2 or not np.isfinite(sd):
        return float("nan")
    return float(stats.t.ppf(0.5 + level / 2, seeds - 1) * sd / np.sqrt(seeds))


@dataclass(frozen=True)
class Difference:
    """Mean of ``a`` minus mean of ``b`` with its 95% CI (Welch) and two-sided p-value."""

    mean: float
    ci: float
    p_value: float
    n_a: int
    n_b: int


def welch_difference(a: Any, b: Any, level: float = LEVEL) -> Difference:
    """Difference of two independent groups' means (unequal variances): for runs of two
    different networks, whose seeds share nothing (other shapes, other initial weights)."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if len(x) < 2 or len(y) < 2:
        return Difference(float(x.mean() - y.mean()) if len(x) and len(y) else float("nan"),
                          float("nan"), float("nan"), len(x), len(y))
    va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = float(np.sqrt(va + vb))
    if se == 0:
        return Difference(float(x.mean() - y.mean()), 0.0, float("nan"), len(x), len(y))
    t = _welch_t(va, vb, len(x), len(y), level)
    p_value = float(stats.ttest_ind(x, y, equal_var=False).pvalue)
    return Difference(float(x.mean() - y.mean()), t * se, p_value, len(x), len(y))


def independent_difference(a: Any, b: Any, level: float = LEVEL) -> Spread:
    """Where the difference of **one** run of ``a``'s setting and **one independent** run of
    ``b``'s would land: a published "+/-" column is two single runs that share no seed, so its
    yardstick is mean(a) − mean(b) ± t·√(s_a²(1 + 1/n_a) + s_b²(1 + 1/n_b)), the degrees of
    freedom by Welch–Satterthwaite.  (A seed-paired interval is narrower: it takes out what
    two of *our* runs share, which two published runs did not.)  ``sd`` is that of one such
    difference; ``ci`` the half-width for the difference of the means (Welch); ``n`` the
    smaller group."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    n = min(len(x), len(y))
    mean = float(x.mean() - y.mean()) if n else float("nan")
    if n < 2:
        return Spread(n, mean, float("nan"), float("nan"), float("nan"))
    var_x, var_y = x.var(ddof=1), y.var(ddof=1)
    single_x, single_y = var_x * (1 + 1 / len(x)), var_y * (1 + 1 / len(y))
    mean_x, mean_y = var_x / len(x), var_y / len(y)
    return Spread(n, mean, float(np.sqrt(var_x + var_y)),
                  _welch_t(mean_x, mean_y, len(x), len(y), level) * float(np.sqrt(mean_x + mean_y)),
                  _welch_t(single_x, single_y, len(x), len(y), level)
                  * float(np.sqrt(single_x + single_y)))


def _welch_t(var_a: float, var_b: float, n_a: int, n_b: int, level: float) -> float:
    """Student's t quantile at Welch–Satterthwaite degrees of freedom (0 when both are 0)."""
    if var_a + var_b == 0:
        return 0.0
    dof = (var_a + var_b) ** 2 / (var_a ** 2 / (n_a - 1) + var_b ** 2 / (n_b - 1))
    return float(stats.t.ppf(0.5 + level / 2, dof))


def paired_by_seed(a: pd.Series, b: pd.Series, level: float = LEVEL) -> Difference:
    """Mean of ``a − b`` over the seeds both have (Series indexed by seed), its 95% CI and the
    paired t-test's p-value: for two runs that start from the same initial weights."""
    both = pd.concat([a.rename("a"), b.rename("b")], axis=1).dropna()
    difference = spread(both["a"] - both["b"], level)
    p_value = (float(stats.ttest_rel(both["a"], both["b"]).pvalue)
               if difference.n > 1 and difference.sd > 0 else float("nan"))
    return Difference(difference.mean, difference.ci, p_value, difference.n, difference.n)
