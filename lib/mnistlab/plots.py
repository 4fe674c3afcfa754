"""Figures that put measured means (with both 95% intervals) beside the published values.

Every comparison figure reads the ``compare.agreement`` frame, so a new study's tables are
plotted without new code: a thick bar is the confidence interval of our mean, a thin one
the prediction interval for a single run, a red cross the published single run.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

MEASURED, PUBLISHED = "#1f77b4", "#d62728"


def use_theme() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)


def _interval_bars(ax: plt.Axes, positions, part: pd.DataFrame, colour, horizontal: bool,
                   label: str) -> None:
    """Mean with its CI (thick) and the single-run PI (thin) along one axis."""
    for column, width, alpha in (("pi", 1.0, 0.45), ("ci", 2.6, 1.0)):
        half = part[column].fillna(0).to_numpy()
        kwargs = {"xerr": half} if horizontal else {"yerr": half}
        xs, ys = (part["mean"], positions) if horizontal else (positions, part["mean"])
        ax.errorbar(xs, ys, fmt="none", ecolor=colour, elinewidth=width, alpha=alpha, capsize=0, **kwargs)
    xs, ys = (part["mean"], positions) if horizontal else (positions, part["mean"])
    ax.plot(xs, ys, "o" if horizontal else "o-", color=colour, label=label)


def agreement_lines(frame: pd.DataFrame, table: str, xlabel: str, title: str | None = None
                    ) -> plt.Figure:
    """One panel per compared column of ``table``, its row keys along x (an ordered factor
    such as depth or width): measured mean, CI and PI, published crosses."""
    use_theme()
    part = frame[frame["table"] == table]
    columns = list(dict.fromkeys(part["column"]))
    fig, axes = plt.subplots(1, len(columns), figsize=(4.6 * len(columns), 3.5), squeeze=False)
    for ax, column in zip(axes[0], columns):
        rows = part[part["column"] == column]
        keys = list(rows["row"])
        positions = np.arange(len(keys))
        _interval_bars(ax, positions, rows, MEASURED, False, "measured mean (CI thick, PI thin)")
        ax.scatter(positions, rows["published"], marker="X", s=70, color=PUBLISHED, zorder=3,
                   label="published (one run)")
        ax.set_xticks(positions, keys)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(column.replace("_", " "))
    axes[0][0].legend(fontsize="small", loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def agreement_dots(frame: pd.DataFrame, column: str, tables: list[str],
                   title: str | None = None) -> plt.Figure:
    """Horizontal dots, one row per published row and one dodged dot per table (e.g. the
    same variants under two losses), with published crosses in the table's colour."""
    use_theme()
    part = frame[(frame["column"] == column) & frame["table"].isin(tables)]
    labels = list(dict.fromkeys(part["row"]))
    colours = sns.color_palette("deep", len(tables))
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(labels) + 1.6))
    for offset, table, colour in zip(_offsets(len(tables)), tables, colours):
        rows = part[part["table"] == table].set_index("row").reindex(labels)
        ys = np.arange(len(labels)) + offset
        _interval_bars(ax, ys, rows, colour, True, f"{table}: measured")
        ax.scatter(rows["published"], ys, marker="X", color=colour, edgecolor="black", s=45,
                   zorder=3, label=f"{table}: published")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(column.replace("_", " "))
    # Below the axes, so the legend never covers a point or an interval.
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.12 - 1.2 / (len(labels) + 4)),
              ncol=2, frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def training_curves(results: pd.DataFrame, hue: str, metric: str = "loss",
                    title: str | None = None) -> plt.Figure:
    """Per-epoch ``metric`` (a key of the epoch logs, e.g. ``loss`` or ``val_accuracy``) for
    every run, coloured by ``hue``: the mean over seeds with its 95% band."""
    use_theme()
    rows = [{"epoch": i + 1, metric: value, hue: row[hue], "seed": row["seed"]}
            for _, row in results.iterrows() for i, value in enumerate(row["history"][metric])]
    frame = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    sns.lineplot(data=frame, x="epoch", y=metric, hue=hue, errorbar=("ci", 95), ax=ax,
                 palette="viridis", legend="full")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(metric.replace("_", " "))
    if title:
        ax.set_title(title)
    ax.legend(title=hue.replace("_", " "), fontsize="small", ncol=2, loc="center left",
              bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def _offsets(count: int, spread: float = 0.3) -> list[float]:
    if count == 1:
        return [0.0]
    return [-spread / 2 + spread * i / (count - 1) for i in range(count)]


def curve_panels(curves: pd.DataFrame, references: pd.DataFrame, per_row: int = 2,
                 log_metrics: tuple[str, ...] = ("loss",), title: str | None = None) -> plt.Figure:
    """Per-epoch curves beside published end values: one panel per (row, metric), one line
    per ``hue`` (a reading of the study, say) with the mean over seeds and its 95% CI band,
    and each published value of that row and metric as a dashed horizontal line, so a reader
    sees at which epoch, if any, a curve passes it.

    ``curves``: columns panel, hue, seed, epoch, metric, source (e.g. "validation") and value;
    ``references``: columns panel, metric, value and label.  ``per_row`` rows share a line of
    the figure (each with one panel per metric).  Metrics in ``log_metrics`` get a log axis
    (a loss can span 0.05 to 100 across readings; a narrower range stays linear); each axis
    spans the means and the published values, so a wide band cannot flatten the curves.
    """
    from .stats import spread

    use_theme()
    panels = list(dict.fromkeys(curves["panel"]))
    metrics = list(dict.fromkeys(curves["metric"]))
    hues = list(dict.fromkeys(curves["hue"]))
    colours = dict(zip(hues, sns.color_palette("deep", len(hues))))
    per_row = max(1, min(per_row, len(panels)))
    lines = -(-len(panels) // per_row)
    fig, axes = plt.subplots(lines, per_row * len(metrics), squeeze=False,
                             figsize=(3.0 * per_row * len(metrics), 2.5 * lines + 0.9))
    for ax in axes.flat:
        ax.set_visible(False)
    dashes = ["--", ":", "-."]
    for index, panel in enumerate(panels):
        for offset, metric in enumerate(metrics):
            ax = axes[index // per_row][(index % per_row) * len(metrics) + offset]
            ax.set_visible(True)
            part = curves[(curves["panel"] == panel) & (curves["metric"] == metric)]
            shown: list[float] = []
            for hue, lines_of_hue in part.groupby("hue", sort=False):
                summary = [(epoch, spread(group["value"]))
                           for epoch, group in lines_of_hue.groupby("epoch")]
                epochs = np.array([e for e, _ in summary])
                mean = np.array([s.mean for _, s in summary])
                half = np.nan_to_num(np.array([s.ci for _, s in summary]))
                ax.plot(epochs, mean, color=colours[hue], lw=1.4, label=str(hue))
                ax.fill_between(epochs, mean - half, mean + half, color=colours[hue], alpha=0.2,
                                lw=0)
                shown.extend(mean[np.isfinite(mean)])
            marks = references[(references["panel"] == panel) & (references["metric"] == metric)]
            for style, (_, mark) in zip(dashes * 3, marks.iterrows()):
                ax.axhline(mark["value"], color=PUBLISHED, ls=style, lw=1.2, label=mark["label"])
                shown.append(mark["value"])
            _span(ax, shown, metric in log_metrics)
            source = part["source"].iloc[0] if len(part) else ""
            ax.set_title(f"{panel}", fontsize="small")
            ax.set_ylabel(f"{source} {metric}".strip().replace("_", " "), fontsize="small")
            ax.set_xlabel("epoch", fontsize="small")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.tick_params(labelsize="x-small")
    handles: dict[str, object] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(4, len(handles)),
               fontsize="small", frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.9 / (2.5 * lines + 0.9) + 0.02, 1, 1))
    return fig


def _span(ax: plt.Axes, values: list[float], log: bool) -> None:
    """Limit ``ax`` to ``values`` with a margin; on a log axis when ``log`` and they span more
    than a factor of ten."""
    values = [v for v in values if np.isfinite(v)]
    if not values:
        return
    low, high = min(values), max(values)
    if log and low > 0 and high / low > 10:
        ax.set_yscale("log")
        ax.set_ylim(low / 1.3, high * 1.3)
        plain = FuncFormatter(lambda value, _: f"{value:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(NullFormatter())
        return
    margin = 0.08 * (high - low) or 0.05 * abs(high) or 0.05
    ax.set_ylim(low - margin, high + margin)
