"""Sentences written from the measured data: every claim is chosen by a statistic, and the
statistic is printed beside it, so the text changes when the numbers do."""

from __future__ import annotations

import html

import pandas as pd

from .compare import counts
from .stats import spearman

ALPHA = 0.05


def agreement(frame: pd.DataFrame, titles: dict[str, str] | None = None) -> str:
    """Markdown: per published table, how many of its numbers one of our runs could have given.

    ``titles`` names each table as the study does ("Table 2") instead of by its key."""
    titles = titles or {}
    lines = []
    for name, part in frame.groupby("table", sort=False):
        table = html.escape(titles.get(name, name))
        c = counts(part)
        if not c["judged"]:
            lines.append(f"- **{table}**: no published number could be judged (fewer than two "
                         "runs or nothing published).")
            continue
        lines.append(f"- **{table}**: {c['inside_pi']} of {c['judged']} published numbers lie "
                     "inside our 95% prediction interval for a single run (the test of "
                     f"agreement); {c['inside_ci']} of {c['judged']} lie inside the narrower 95% "
                     "confidence interval of our mean.")
    return "\n".join(lines) or "- This study has no published tables to compare."


def trend(results: pd.DataFrame, x: str, y: str, x_name: str, y_name: str) -> str:
    """One sentence on the monotonic trend of ``y`` with ``x`` over all runs, worded by the test:
    "rises"/"falls" only when Spearman's ρ is significant at 5%."""
    rho, p_value = spearman(results[x], results[y])
    if not pd.notna(rho):
        return f"{y_name} does not vary across the runs, so it has no trend with {x_name}."
    if p_value < ALPHA:
        direction = "rises" if rho > 0 else "falls"
        return (f"{y_name} {direction} with {x_name} (Spearman ρ = {rho:+.2f}, p = {p_value:.2g}, "
                f"{len(results)} runs).")
    return (f"{y_name} shows no significant monotonic trend with {x_name} (Spearman ρ = "
            f"{rho:+.2f}, p = {p_value:.2g}, {len(results)} runs).")
