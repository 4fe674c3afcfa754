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

from mnistlab.analysis.curves import stacked
from mnistlab.present import style

MEASURED, PUBLISHED = "#1f77b4", "#d62728"


_COLOUR_OF: dict[str, tuple] = {}  # label → colour, for every figure this kernel draws


def colours(labels) -> dict[str, tuple]:
    """One colour per model or setting across all figures of a report: a label keeps the
    colour it was first drawn in (a report is one kernel), and new labels take the next
    colour of a palette without the red that marks published values."""
    labels = [str(label) for label in labels]
    palette = [c for i, c in enumerate(sns.color_palette("deep", 10)) if i != 3]  # 3: red
    palette += sns.color_palette("dark", 10)
    for label in dict.fromkeys(labels):
        if label not in _COLOUR_OF:
            _COLOUR_OF[label] = palette[len(_COLOUR_OF) % len(palette)]
    return {label: _COLOUR_OF[label] for label in dict.fromkeys(labels)}


def use_theme() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)


def _interval_bars(ax: plt.Axes, positions, part: pd.DataFrame, colour, horizontal: bool,
                   label: str) -> None:
    """Mean with its CI (thick) and the single-run PI (thin) along one axis, both clipped to
    what the metric can be (``compare.agreement``: no accuracy below 0 %)."""
    mean = part["mean"].to_numpy(dtype=float)
    for interval, width, alpha in (("pi", 1.0, 0.45), ("ci", 2.6, 1.0)):
        low = part[f"{interval}_low"].to_numpy(dtype=float)
        high = part[f"{interval}_high"].to_numpy(dtype=float)
        half = np.nan_to_num(np.vstack([mean - low, high - mean]))
        kwargs = {"xerr": half} if horizontal else {"yerr": half}
        xs, ys = (part["mean"], positions) if horizontal else (positions, part["mean"])
        ax.errorbar(xs, ys, fmt="none", ecolor=colour, elinewidth=width, alpha=alpha, capsize=0, **kwargs)
    xs, ys = (part["mean"], positions) if horizontal else (positions, part["mean"])
    ax.plot(xs, ys, "o" if horizontal else "o-", color=colour, label=label)


def agreement_lines(frame: pd.DataFrame, table: str, xlabel: str, title: str | None = None,
                    labels: dict[str, str] | None = None) -> plt.Figure:
    """One panel per compared column of ``table``, its row keys along x (an ordered factor
    such as depth or width): measured mean, CI and PI, published crosses.  ``labels`` are the
    published file's column headings, where it gives them."""
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
        ax.set_ylabel((labels or {}).get(column) or style.label(column))
    # Below the panels, so the legend never covers a point or an interval.
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=2,
               fontsize="small", frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def agreement_dots(frame: pd.DataFrame, column: str, tables: list[str],
                   title: str | None = None, names: dict[str, str] | None = None,
                   xlabel: str | None = None) -> plt.Figure:
    """Horizontal dots, one row per published row and one dodged dot per table (e.g. the
    same variants under two losses), with published crosses in the table's colour."""
    use_theme()
    part = frame[(frame["column"] == column) & frame["table"].isin(tables)]
    labels = list(dict.fromkeys(part["row"]))
    names = names or {}
    palette = colours(names.get(t, t) for t in tables)
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(labels) + 1.6))
    for offset, table in zip(_offsets(len(tables)), tables):
        rows = part[part["table"] == table].set_index("row").reindex(labels)
        ys = np.arange(len(labels)) + offset
        name = names.get(table, table)
        colour = palette[str(name)]
        _interval_bars(ax, ys, rows, colour, True, f"{name}: measured")
        ax.scatter(rows["published"], ys, marker="X", color=colour, edgecolor="black", s=45,
                   zorder=3, label=f"{name}: published")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel or column.replace("_", " "))
    # Right of the axes, so the legend covers neither a point nor the axis label.
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
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


TRAINING, VALIDATION = "#1f77b4", "#ff7f0e"
MARK_COLUMNS = ["panel", "metric", "value", "label"]  # published_marks, one line each


def _mean_and_band(ax: plt.Axes, curves: np.ndarray, colour: str, label: str) -> None:
    """Mean over runs per epoch, and a band from the lowest to the highest run."""
    if not curves.size:
        return
    epochs = np.arange(1, curves.shape[1] + 1)
    with np.errstate(all="ignore"):
        ax.fill_between(epochs, np.nanmin(curves, 0), np.nanmax(curves, 0), color=colour,
                        alpha=0.25, linewidth=0)
        ax.plot(epochs, np.nanmean(curves, 0), color=colour, linewidth=1.2, label=label)


def curve_grid(results: pd.DataFrame, by: str, metrics: tuple[str, ...] = ("accuracy", "loss"),
               per_row: int = 2, title: str | None = None,
               marks: pd.DataFrame | None = None) -> plt.Figure:
    """A study's grid of learning curves (e.g. one accuracy and one loss panel per batch
    size): per value of ``by``, in the params' order, one panel per metric showing training
    and validation (``val_<metric>``) by epoch, the mean over seeds with a band from the
    lowest to the highest seed.  ``per_row`` values share a row of panels, so seven batch
    sizes still fit a printed page.  ``marks`` (``published_marks``) are drawn as labelled
    dashed lines on the panel they describe, so a reader sees where the curve meets the
    study's number."""
    use_theme()
    marks = marks if marks is not None else pd.DataFrame(columns=MARK_COLUMNS)
    values = list(dict.fromkeys(results[by]))
    rows = -(-len(values) // per_row)
    width = per_row * len(metrics)
    fig, axes = plt.subplots(rows, width, figsize=(3.4 * width, 2.5 * rows + 0.6), squeeze=False)
    flat = axes.reshape(-1, len(metrics))  # one row of panels per value of `by`
    for panels, value in zip(flat, values):
        runs = results[results[by] == value]
        for ax, metric in zip(panels, metrics):
            scale, unit = percent(metric)
            _mean_and_band(ax, scale * stacked(runs["history"], metric), TRAINING, "training")
            _mean_and_band(ax, scale * stacked(runs["history"], f"val_{metric}"), VALIDATION,
                           "validation")
            for _, mark in marks[(marks["panel"] == value) & (marks["metric"] == metric)].iterrows():
                ax.axhline(scale * mark["value"], color=PUBLISHED, ls="--", lw=1.2,
                           label=mark["label"])
            ax.set_title(f"{style.label(by)} {value}", fontsize="small")
            ax.set_ylabel(style.label(metric) + unit, fontsize="small")
            ax.tick_params(labelsize="x-small")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    spare = [ax for panels in flat[len(values):] for ax in panels]
    for ax in spare:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("epoch", fontsize="small")
    handles, labels = flat[0][0].get_legend_handles_labels()
    labels = [f"{label}: mean over seeds" for label in labels] + ["band: lowest to highest seed"]
    handles = handles + [plt.Rectangle((0, 0), 1, 1, color="grey", alpha=0.25)]
    for ax in axes.flat:  # a published line is on its own panel only, the legend names it
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label in set(marks["label"]) and label not in labels:
                handles.append(handle)
                labels.append(label)
    if spare:  # the legend takes an empty panel rather than room of its own
        spare[0].legend(handles, labels, loc="center", fontsize="small", frameon=False)
    else:
        fig.legend(handles, labels, loc="lower center", ncol=3, fontsize="small", frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0 if spare else 0.04, 1, 1))
    return fig


def published_marks(results: pd.DataFrame, tables, by: str) -> pd.DataFrame:
    """The published end values a ``curve_grid`` draws: for each compared column of each
    published table (``PublishedTable``) that holds a validation or test value (not a
    difference), one line on the panel of each value of ``by`` whose runs that row stands
    for, in the curves' units (a published 95 % becomes 0.95).  The numbers come from the
    study's published file, so the figure code knows none.

    Columns: panel (a value of ``by``), metric (as the grid names it: ``accuracy`` for
    ``val_accuracy``), value and label."""
    from mnistlab.analysis.compare import compared_runs
    from mnistlab.spec.published import UNIT_SCALE

    marks = []
    for table in tables:
        if table.compare is None:
            continue
        published = table.frame.set_index(table.frame[table.compare.key].astype(str))
        panels = compared_runs(results, table)[["row", by]].drop_duplicates()
        for name, column in table.compare.columns.items():
            if column.versus is not None:
                continue
            unit = "%" if column.unit == "percent" else ""
            for row, panel in zip(panels["row"], panels[by]):
                value = published[name].get(row)
                if value is None or pd.isna(value):
                    continue
                marks.append({"panel": panel, "metric": _curve_metric(column.metric),
                              "value": float(value) / UNIT_SCALE[column.unit],
                              "label": f"published {style.label(column.metric)}: {value:g}{unit}"})
    return pd.DataFrame(marks, columns=MARK_COLUMNS)


def _curve_metric(metric: str) -> str:
    """The epoch-log key a compared result is the end of: ``val_accuracy`` and
    ``test_accuracy`` end an ``accuracy`` panel's curves."""
    return metric.removeprefix("val_").removeprefix("test_")


def curves_by_updates(results: pd.DataFrame, hue: str, metric: str = "val_loss",
                      title: str | None = None) -> plt.Figure:
    """``metric`` per epoch for each value of ``hue``, against the optimizer updates made so
    far (log scale), mean over seeds: shows whether runs that differ in ``hue`` learn alike
    per update.  Needs the ``steps_per_epoch`` column of ``curves.with_statistics``."""
    use_theme()
    values = list(dict.fromkeys(results[hue]))
    colours = sns.color_palette("viridis", len(values))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for value, colour in zip(values, colours):
        runs = results[results[hue] == value]
        curves = stacked(runs["history"], metric)
        updates = np.arange(1, curves.shape[1] + 1) * int(runs["steps_per_epoch"].iloc[0])
        with np.errstate(all="ignore"):
            ax.plot(updates, np.nanmean(curves, 0), color=colour, label=str(value))
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log(ax.xaxis)
    plain_log(ax.yaxis)
    ax.set_xlabel("optimizer updates (log scale)")
    ax.set_ylabel(f"{metric.replace('_', ' ')} (log scale)")
    if title:
        ax.set_title(title)
    ax.legend(title=hue.replace("_", " "), fontsize="small", loc="center left",
              bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def curves_by_setting(results: pd.DataFrame, hue: str,
                      metrics: tuple[str, ...] = ("val_accuracy", "val_loss"),
                      facet: str = "group", title: str | None = None) -> list[plt.Figure]:
    """Per-epoch curves (keys of the epoch logs) with the settings overlaid, so they can be
    compared at a glance: one figure per value of ``facet`` (runs of different tasks never share
    axes), one panel per metric, one line per value of ``hue`` (mean over seeds) with its 95%
    CI band.  A numeric ``hue`` (width, say) is coloured along a sequential palette."""
    from mnistlab.analysis.stats import spread

    use_theme()
    figures = []
    for value, part in results.groupby(facet, sort=False):
        levels = list(dict.fromkeys(part[hue]))
        numeric = pd.api.types.is_numeric_dtype(part[hue])
        palette = (sns.color_palette("viridis", len(levels)) if numeric
                   else list(colours(levels).values()))
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.4 * len(metrics), 3.3), squeeze=False)
        for ax, metric in zip(axes[0], metrics):
            for level, colour in zip(levels, palette):
                histories = part.loc[part[hue] == level, "history"]
                grid = stacked(histories, metric) * percent(metric)[0]
                if not grid.size:
                    continue
                length = grid.shape[1]
                bands = [spread(column) for column in grid.T]
                mean = np.array([b.mean for b in bands])
                half = np.nan_to_num(np.array([b.ci for b in bands]))
                epochs = np.arange(1, length + 1)
                ax.fill_between(epochs, mean - half, mean + half, color=colour, alpha=0.2,
                                linewidth=0)
                ax.plot(epochs, mean, color=colour, linewidth=1.4, label=str(level))
            ax.set_xlabel("epoch")
            ax.set_ylabel(style.label(metric) + percent(metric)[1])
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes[0][-1].legend(title=style.label(hue), fontsize="small", loc="center left",
                           bbox_to_anchor=(1.01, 0.5))
        heading = f"{title}: {value}" if title else str(value)
        fig.suptitle(f"{heading} (mean over seeds, 95% CI band)", fontsize="medium")
        fig.tight_layout()
        figures.append(fig)
    return figures


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
    from mnistlab.analysis.stats import spread

    use_theme()
    panels = list(dict.fromkeys(curves["panel"]))
    metrics = list(dict.fromkeys(curves["metric"]))
    hues = list(dict.fromkeys(curves["hue"]))
    palette = colours(hues)
    per_row = max(1, min(per_row, len(panels)))
    lines = -(-len(panels) // per_row)
    columns = per_row * len(metrics)
    # At most 9 inches across, so a page-wide print keeps its labels at about 7 pt or more.
    side = min(3.0, 9.0 / columns)
    fig, axes = plt.subplots(lines, columns, squeeze=False,
                             figsize=(side * columns, 0.85 * side * lines + 0.9))
    for ax in axes.flat:
        ax.set_visible(False)
    dashes = ["--", ":", "-."]
    for index, panel in enumerate(panels):
        for offset, metric in enumerate(metrics):
            ax = axes[index // per_row][(index % per_row) * len(metrics) + offset]
            ax.set_visible(True)
            scale, unit = percent(metric)
            part = curves[(curves["panel"] == panel) & (curves["metric"] == metric)]
            part = part.assign(value=part["value"] * scale)
            shown: list[float] = []
            for hue, lines_of_hue in part.groupby("hue", sort=False):
                summary = [(epoch, spread(group["value"]))
                           for epoch, group in lines_of_hue.groupby("epoch")]
                epochs = np.array([e for e, _ in summary])
                mean = np.array([s.mean for _, s in summary])
                half = np.nan_to_num(np.array([s.ci for _, s in summary]))
                ax.plot(epochs, mean, color=palette[str(hue)], lw=1.4, label=str(hue))
                ax.fill_between(epochs, mean - half, mean + half, color=palette[str(hue)], alpha=0.2,
                                lw=0)
                shown.extend(mean[np.isfinite(mean)])
            marks = references[(references["panel"] == panel) & (references["metric"] == metric)]
            for dash, (_, mark) in zip(dashes * 3, marks.iterrows()):
                ax.axhline(mark["value"] * scale, color=PUBLISHED, ls=dash, lw=1.2,
                           label=mark["label"])
                shown.append(mark["value"] * scale)
            _span(ax, shown, metric in log_metrics)
            source = part["source"].iloc[0] if len(part) else ""
            ax.set_title(f"{panel}", fontsize="small")
            ax.set_ylabel(f"{source} {metric}{unit}".strip().replace("_", " "), fontsize="small")
            ax.set_xlabel("epoch", fontsize="small")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))  # 150 epochs in a narrow panel
            ax.tick_params(labelsize="small")
    handles: dict[str, object] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(4, len(handles)),
               fontsize="small", frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.9 / (0.85 * side * lines + 0.9) + 0.02, 1, 1))
    return fig


def plain_log(axis) -> None:
    """Label a log axis with plain numbers (0.3, 40, 2000), never 4×10¹; the minor ticks
    are labelled only when the axis spans too little for its decades to be enough."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        """Matplotlib's choice of which ticks to label, written as plain numbers."""

        def __call__(self, x, pos=None):
            return f"{x:g}" if super().__call__(x, pos) else ""

    axis.set_major_formatter(Plain())
    axis.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(1, 0.5)))


def percent(metric: str) -> tuple[float, str]:
    """Accuracy is drawn in % (×100, " (%)" on its axis), as every table of the reports
    prints it; other metrics as they are."""
    return (100.0, " (%)") if "accuracy" in metric else (1.0, "")


def _span(ax: plt.Axes, values: list[float], log: bool) -> None:
    """Limit ``ax`` to ``values`` with a margin; on a log axis when ``log`` and they span more
    than a factor of ten."""
    values = [v for v in values if np.isfinite(v)]
    if not values:
        return
    low, high = min(values), max(values)
    if log and low > 0 and high / low > 10:
        ax.set_yscale("log")
        plain_log(ax.yaxis)  # a panel spanning one decade still gets several labelled ticks
        ax.set_ylim(low / 1.3, high * 1.3)
        plain = FuncFormatter(lambda value, _: f"{value:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(NullFormatter())
        return
    margin = 0.08 * (high - low) or 0.05 * abs(high) or 0.05
    ax.set_ylim(low - margin, high + margin)
