"""Sentences written from the measured data: every claim is chosen by a statistic, and the
statistic is printed beside it, so the text changes when the numbers do."""

from __future__ import annotations

import html

import pandas as pd

from mnistlab.analysis.compare import counts
from mnistlab.analysis.verdicts import VERDICTS, direction
from mnistlab.core.markup import text
from mnistlab.analysis.stats import ALPHA, spearman


def agreement_summary(frame: pd.DataFrame, titles: dict[str, str] | None = None) -> str:
    """Markdown: per published table, its numbers' verdicts (the same ones its cells show).

    ``titles`` names each table as the study does ("Table 2") instead of by its key."""
    titles = titles or {}
    lines = []
    for name, part in frame.groupby("table", sort=False):
        table = titles.get(name, name)
        c = counts(part)
        if not c["published"]:
            continue
        tally = ", ".join(f"{c[v]} {VERDICTS[v].label}" for v in VERDICTS if c[v])
        role = ""
        if part["reading"].iloc[0]:
            role = (" (the study as written: counted on the scorecard)" if part["primary"].iloc[0]
                    else " (an alternative reading: evidence that can explain a number, not "
                         "counted on the scorecard)")
        explained = sorted(set(part.loc[part["verdict"] == "explained", "explained_by"]))
        because = (f"; explained by the reading{'s' if len(explained) > 1 else ''} "
                   + ", ".join(f"*{text(r)}*" for r in explained)) if explained else ""
        lines.append(f"- **{text(table)}**{role}: {c['published']} published numbers: "
                     f"{tally}{because}.")
    return "\n".join(lines) or "- This study has no published tables to compare."


def trend(results: pd.DataFrame, x: str, y: str, x_name: str, y_name: str) -> str:
    """One sentence on the monotonic trend of ``y`` with ``x`` over all runs, worded by the test:
    "rises"/"falls" only when Spearman's ρ is significant at 5%."""
    rho, p_value = spearman(results[x], results[y])
    if not pd.notna(rho):
        return f"{y_name} does not vary across the runs, so it has no trend with {x_name}."
    if direction(rho, p_value) != "none":
        return (f"{y_name} {direction(rho, p_value)} with {x_name} (Spearman ρ = {rho:+.2f}, p = {p_value:.2g}, "
                f"{len(results)} runs).")
    return (f"{y_name} shows no significant monotonic trend with {x_name} (Spearman ρ = "
            f"{rho:+.2f}, p = {p_value:.2g}, {len(results)} runs).")


def differences(results: pd.DataFrame, by: str, metric: str, y_name: str, scale: float = 1.0,
                unit: str = "", digits: int = 3, ordered: bool = False) -> str:
    """Markdown: are the settings that differ in ``by`` further apart in ``metric`` than seed
    noise? Within each configuration group that varies ``by``: every pair's seed-paired
    difference (× ``scale``, e.g. 100 for percentage points) with its 95% CI and Holm-adjusted
    paired t-test, the ranking by mean and which of its steps the data resolve, the smallest
    difference these seeds resolve (and three seeds would), and, for an ``ordered`` factor,
    the monotonic trend."""

    import numpy as np

    from mnistlab.analysis.stats import paired_resolution, pairwise_differences

    def name(value: object) -> str:
        return html.escape(str(value)).replace("|", "&#124;")

    def number(value: float, signed: bool = False) -> str:
        return f"{value * scale:{'+' if signed else ''}.{digits}f}{unit}"

    groups = [(g, part) for g, part in results.groupby("group", sort=False)
              if part[by].nunique() > 1]
    if not groups:
        return f"- No group of runs varies {by.replace('_', ' ')}, so there is nothing to compare."
    lines = []
    for group, part in groups:
        pairs = pairwise_differences(part, by, metric)
        within = part.groupby(by, sort=False)[metric].std(ddof=1)
        seeds = int(pairs["seeds"].max()) if len(pairs) else 0
        head = f"**{name(group)}**: " if len(groups) > 1 else ""
        lines.append(f"{head}{y_name}, each pair of settings (first − second, paired by seed, "
                     f"mean ± 95% CI over {seeds} seeds; Holm's adjustment for {len(pairs)} "
                     "pairs):\n")
        lines.append("| pair | difference | paired t p | Holm p | beyond seed noise |")
        lines.append("|---|---|---|---|---|")
        for _, row in pairs.iterrows():
            beyond = "yes" if row["p_holm"] < ALPHA else "no"
            lines.append(f"| {name(row['first'])} − {name(row['second'])} | "
                         f"{number(row['mean'], True)} ± {number(row['ci'])} | {row['p']:.2g} | "
                         f"{row['p_holm']:.2g} | {beyond} |")
        means = part.groupby(by, sort=False)[metric].mean().sort_values(ascending=False)
        steps = []
        for high, low in zip(means.index, means.index[1:]):
            match = pairs[((pairs["first"] == high) & (pairs["second"] == low))
                          | ((pairs["first"] == low) & (pairs["second"] == high))]
            resolved = bool(len(match)) and float(match["p_holm"].iloc[0]) < ALPHA
            steps.append(f"{name(high)} {'>' if resolved else '≈'} ")
        ranking = "".join(steps) + name(means.index[-1])
        beyond = pairs[pairs["p_holm"] < ALPHA]
        sd_pair = float(np.nanmedian(pairs["sd"])) if len(pairs) else float("nan")
        lines.append("")
        lines.append(f"- {len(beyond)} of {len(pairs)} pairs differ by more than seed noise "
                     "(Holm-adjusted p < 0.05)"
                     + (f": {', '.join(name(a) + ' − ' + name(b) for a, b in zip(beyond['first'], beyond['second']))}."
                        if len(beyond) else "."))
        lines.append(f"- Ranking by mean, highest first: {ranking} (> where the step is beyond "
                     "seed noise, ≈ where it is not).")
        lines.append(f"- Seed-to-seed spread: the standard deviation of {y_name.lower()} within "
                     f"one setting is {number(float(np.sqrt(np.nanmean(within ** 2))))} (pooled); "
                     f"that of a paired difference is {number(sd_pair)} (median over pairs). With "
                     f"{seeds} seeds the paired interval resolves differences of about "
                     f"±{number(paired_resolution(sd_pair, seeds))}; three seeds would resolve "
                     f"±{number(paired_resolution(sd_pair, 3))}.")
        if ordered:
            lines.append("- " + trend(part, by, metric, by.replace("_", " "), y_name))
        lines.append("")
    return "\n".join(lines)
