"""Figures that put measured means (with 95% intervals) beside the published values."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

MEASURED, PUBLISHED = "#1f77b4", "#d62728"


def use_theme() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)


def metric_panels(summary: pd.DataFrame, x: str, metrics: Sequence[tuple[str, str]],
                  published: pd.DataFrame | None = None, xlabel: str | None = None,
                  title: str | None = None) -> plt.Figure:
    """One panel per metric: measured mean ± 95% CI as a line, published values as crosses.

    ``metrics`` pairs our metric name with the published column name (or "" if unpublished).
    """
    use_theme()
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 3.6), squeeze=False)
    for ax, (metric, pub_col) in zip(axes[0], metrics):
        ax.errorbar(summary[x], summary[f"{metric}_mean"], yerr=summary[f"{metric}_ci"].fillna(0),
                    color=MEASURED, marker="o", capsize=3, label="measured (mean ± 95% CI)")
        if published is not None and pub_col:
            sns.scatterplot(data=published, x=x, y=pub_col, ax=ax, color=PUBLISHED, marker="X",
                            s=70, label="published", zorder=3)
        ax.set_xlabel(xlabel or x)
        ax.set_ylabel(metric.replace("_", " "))
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def training_curves(results: pd.DataFrame, hue: str, metric: str = "loss",
                    title: str | None = None) -> plt.Figure:
    """Per-epoch training ``metric`` for every run, coloured by ``hue``, mean line with band."""
    use_theme()
    rows = [{"epoch": i + 1, metric: value, hue: row[hue], "seed": row["seed"]}
            for _, row in results.iterrows() for i, value in enumerate(row["history"][metric])]
    frame = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    sns.lineplot(data=frame, x="epoch", y=metric, hue=hue, errorbar=("ci", 95), ax=ax,
                 palette="viridis", legend="full")
    ax.set_ylabel(f"training {metric}")
    if title:
        ax.set_title(title)
    ax.legend(title=hue, fontsize="small", ncol=2)
    fig.tight_layout()
    return fig


def variant_dots(summary: pd.DataFrame, metric: str, hue: str, label: str = "label",
                 published: dict[str, pd.DataFrame] | None = None, published_col: str = "",
                 title: str | None = None) -> plt.Figure:
    """Horizontal dot plot: one row per variant, one dodged dot (± 95% CI) per ``hue`` value.

    ``published`` maps each hue value to its published table (matched on ``description``),
    drawn as crosses in the same colour.
    """
    use_theme()
    labels = list(dict.fromkeys(summary[label]))
    hues = list(dict.fromkeys(summary[hue]))
    colours = sns.color_palette("deep", len(hues))
    fig, ax = plt.subplots(figsize=(8, 0.38 * len(labels) + 1.2))
    for offset, (value, colour) in zip(_offsets(len(hues)), zip(hues, colours)):
        part = summary[summary[hue] == value].set_index(label).reindex(labels)
        ys = [i + offset for i in range(len(labels))]
        ax.errorbar(part[f"{metric}_mean"], ys, xerr=part[f"{metric}_ci"].fillna(0), fmt="o",
                    color=colour, capsize=2, label=f"{value} (measured)")
        if published and value in published:
            pub = published[value].set_index("description").reindex(labels)[published_col]
            ax.scatter(pub, ys, marker="X", color=colour, edgecolor="black", s=45, zorder=3,
                       label=f"{value} (published)")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(metric.replace("_", " "))
    ax.legend(fontsize="x-small", loc="best")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _offsets(count: int, spread: float = 0.3) -> list[float]:
    if count == 1:
        return [0.0]
    return [-spread / 2 + spread * i / (count - 1) for i in range(count)]
