"""Figures of what happened during training, drawn from the arrays the probes saved with each
run, never recomputed: fitted curves, per-step loss and gradient norm, weight paths in two
principal components, and the minimal ratio against the loss.

Each function takes *probed runs*: ``(row, arrays)`` pairs, a results row (one configuration ×
seed) with the arrays its probes recorded (``Study.probes`` loads them), and draws every run
that recorded the arrays it needs, one colour per configuration label; ``epoch_curves`` needs
only the results frame.  Nothing here reads a file.  Figures are closed before they are
returned, so a notebook shows each exactly once (by displaying it, or as a cell's value).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator, SymmetricalLogLocator

from mnistlab.analysis.dynamics import band, layer_slices, weight_pca
from mnistlab.present.plots import colours, plain_log, use_theme
from mnistlab.spec.tasks import task


ProbedRuns = list[tuple[pd.Series, dict[str, np.ndarray]]]


def probed(runs: ProbedRuns, *names: str) -> ProbedRuns:
    """The probed runs (in table order) that recorded all of ``names``."""
    return [(row, arrays) for row, arrays in runs if all(name in arrays for name in names)]


def _colours(labels: list[str]) -> dict[str, Any]:
    """Each configuration in the colour it has in every other figure of the report."""
    return colours(labels)


def _done(fig: plt.Figure) -> plt.Figure:
    fig.tight_layout()
    plt.close(fig)
    return fig


def _one_panel_done(fig: plt.Figure, ax: plt.Axes, title: str | None) -> plt.Figure:
    """A one-panel figure's legend beside the data (never over it), its title, and done."""
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        ax.set_title(title)
    return _done(fig)


def _require(runs: list, what: str) -> None:
    if not runs:
        raise ValueError(f"no run recorded {what}: add it to a configuration's `probes` block")


def fitted_curves(runs: ProbedRuns, title: str | None = None) -> plt.Figure:
    """One panel per configuration: the target (black) and each seed's fitted curve, from the
    ``predictions`` probe (a 1-D input on the x axis)."""
    use_theme()
    runs = probed(runs, "inputs", "targets", "predictions")
    _require(runs, "predictions")
    labels = list(dict.fromkeys(row["label"] for row, _ in runs))
    colours = _colours(labels)
    columns = min(3, len(labels))
    rows = -(-len(labels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.3 * columns, 3.1 * rows), squeeze=False,
                             sharey=True)
    for ax, label in zip(axes.flat, labels):
        mine = [(row, a) for row, a in runs if row["label"] == label]
        x = mine[0][1]["inputs"][:, 0]
        order = np.argsort(x)
        ax.plot(x[order], mine[0][1]["targets"][order, 0], color="black", lw=2.2,
                label="ground truth")
        for index, (row, arrays) in enumerate(mine):
            ax.plot(x[order], arrays["predictions"][order, 0], color=colours[label], lw=1.1,
                    alpha=0.75, label="prediction (one line per seed)" if index == 0 else None)
        ax.set_title(label, fontsize="small")
        ax.set_xlabel("x")
    for ax in axes.flat[len(labels):]:
        ax.set_visible(False)
    axes[0][0].set_ylabel("y")
    axes[0][0].legend(fontsize="x-small", loc="upper right")
    if title:
        fig.suptitle(title)
    return _done(fig)


def epoch_curves(results: pd.DataFrame, metrics: list[str], ylabels: list[str],
                 title: str | None = None) -> plt.Figure:
    """Per-epoch logs (e.g. ``loss``, ``val_accuracy``) side by side: per configuration the
    mean over seeds with its 95% confidence band; the legend sits below the panels, so long
    labels never squeeze them.  A metric some run did not log (``val_*`` without a validation
    split) is left out."""
    use_theme()
    kept = [(m, y) for m, y in zip(metrics, ylabels)
            if all(m in h for h in results["history"])]
    if not kept:
        raise ValueError(f"no run logged any of {metrics}")
    metrics, ylabels = [m for m, _ in kept], [y for _, y in kept]
    colours = _colours(list(results["label"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.6 * len(metrics), 3.9), squeeze=False)
    for ax, metric, ylabel in zip(axes[0], metrics, ylabels):
        for label, colour in colours.items():
            curves = [np.asarray(h[metric], dtype=float)
                      for h in results.loc[results["label"] == label, "history"]]
            length = min(len(c) for c in curves)
            stacked = np.stack([c[:length] for c in curves])
            mean = stacked.mean(axis=0)
            epochs = np.arange(1, length + 1)
            ax.plot(epochs, mean, color=colour, lw=1.6, label=f"{label} ({len(curves)} seeds)")
            if len(curves) > 1:
                from scipy import stats as st

                half = st.t.ppf(0.975, len(curves) - 1) * stacked.std(axis=0, ddof=1) \
                    / np.sqrt(len(curves))
                ax.fill_between(epochs, mean - half, mean + half, color=colour, alpha=0.2, lw=0)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(2, len(labels)), fontsize="small",
               frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06 * (1 + (len(labels) - 1) // 2), 1, 1))
    plt.close(fig)
    return fig


def step_series(runs: ProbedRuns, names: list[str], ylabels: list[str],
                title: str | None = None, log_x: bool = False) -> plt.Figure:
    """Per-step series (e.g. ``loss_step``, ``grad_norm_step``) side by side, log y: per
    configuration the median over seeds with the band between the 25th and 75th percentile."""
    use_theme()
    runs = probed(runs, *names)
    _require(runs, " and ".join(names))
    colours = _colours([row["label"] for row, _ in runs])
    fig, axes = plt.subplots(1, len(names), figsize=(6.2 * len(names), 3.6), squeeze=False)
    for ax, name, ylabel in zip(axes[0], names, ylabels):
        for label, colour in colours.items():
            series = [arrays[name] for row, arrays in runs if row["label"] == label]
            median, low, high = band(series)
            steps = np.arange(1, len(median) + 1)
            ax.plot(steps, median, color=colour, lw=1.2, label=f"{label} ({len(series)} seeds)",
                    zorder=3)
            if len(series) > 1:  # light and beneath every line, so no band hides a curve
                ax.fill_between(steps, low, high, color=colour, alpha=0.12, lw=0, zorder=1)
        ax.set_yscale("log")
        plain_log(ax.yaxis)
        if log_x:
            ax.set_xscale("log")
            plain_log(ax.xaxis)
        ax.set_xlabel("iteration (update)")
        ax.set_ylabel(ylabel)
    axes[0][-1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        fig.suptitle(title)
    return _done(fig)


def weight_paths(runs: ProbedRuns, title: str | None = None) -> plt.Figure:
    """Figure 11-style: the ``weights`` snapshots of every run of one configuration (the first
    that recorded them) projected on two principal components fitted to all of them, for the
    whole model and for its first layer alone, and for the whole model's displacement from
    each run's own initial weights (where runs start far apart, the first two panels mostly
    separate the seeds; the third shows the paths' shapes); one line per run from its initial
    weights (square) through each snapshot; the panel titles give the variance explained."""
    use_theme()
    runs = probed(runs, "weights", "weights_epoch")
    _require(runs, "weights")
    first = runs[0][0]
    runs = [(row, a) for row, a in runs if row["name"] == first["name"]]
    spec = task(first["task"])
    first_layer = layer_slices(spec.inputs, list(first["hidden"]), spec.outputs)[0]
    parts = {"whole model": slice(None), "first layer": first_layer,
             "whole model, from each run's start": slice(None)}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    seed_colours = sns.color_palette("husl", len(runs))
    for ax, (part, where) in zip(axes, parts.items()):
        moved = part.endswith("start")
        projection = weight_pca([a["weights"][:, where] - (a["weights"][:1, where] if moved else 0)
                                 for _, a in runs])
        for (row, arrays), path, colour in zip(runs, projection.paths, seed_colours):
            ax.plot(path[:, 0], path[:, 1], "-", color=colour, lw=1, alpha=0.8)
            ax.scatter(path[:, 0], path[:, 1], color=colour, s=14, label=f"seed {row['seed']}")
            ax.scatter(path[:1, 0], path[:1, 1], color=colour, marker="s", s=40, edgecolor="black")
            ax.annotate(str(arrays["weights_epoch"][-1]), path[-1], fontsize="medium",
                        xytext=(3, 3), textcoords="offset points")
        ax.set_title(f"{part}: {projection.explained[0]:.0%} + {projection.explained[1]:.0%} "
                     "of the variance", fontsize="large")
        ax.tick_params(labelsize="large")
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
    axes[-1].legend(fontsize="large", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title or f"{first['label']}: weights every "
                 f"{int(np.diff(runs[0][1]['weights_epoch'][:2])[0])} epochs "
                 "(square: initial weights; number: last epoch)")
    return _done(fig)


def ratio_against_loss(runs: ProbedRuns, title: str | None = None) -> plt.Figure:
    """Figure 14-style: each run's minimal ratio at its near-critical point against the loss
    there (log x), one colour per configuration."""
    use_theme()
    runs = probed(runs, "minimal_ratio", "critical_loss")
    _require(runs, "critical")
    colours = _colours([row["label"] for row, _ in runs])
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for label, colour in colours.items():
        mine = [a for row, a in runs if row["label"] == label]
        ax.scatter([float(a["critical_loss"]) for a in mine],
                   [float(a["minimal_ratio"]) for a in mine], color=colour, s=30, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("loss at the near-critical point (MSE)")
    ax.set_ylabel("minimal ratio (share of eigenvalues > 0)")
    return _one_panel_done(fig, ax, title)


def spectra(runs: ProbedRuns, title: str | None = None) -> plt.Figure:
    """The Hessian eigenvalues at the near-critical point, sorted, one line per run (symmetric
    log scale, so the many near-zero eigenvalues and their signs stay visible)."""
    use_theme()
    runs = probed(runs, "critical_eigenvalues")
    _require(runs, "critical")
    colours = _colours([row["label"] for row, _ in runs])
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    seen = set()
    for row, arrays in runs:
        values = arrays["critical_eigenvalues"]
        label = row["label"] if row["label"] not in seen else None
        seen.add(row["label"])
        ax.plot(np.linspace(0, 1, len(values)), values, color=colours[row["label"]], lw=1,
                alpha=0.7, label=label)
    threshold = 10.0 ** np.floor(np.log10(
        min(np.abs(a["critical_eigenvalues"]).max() for _, a in runs) * 1e-7))
    ax.set_yscale("symlog", linthresh=threshold, linscale=0.4)
    ax.yaxis.set_major_locator(SymmetricalLogLocator(base=100, linthresh=threshold))
    # ±threshold sit next to 0 on the squeezed linear band, and their labels would overprint it.
    ax.set_yticks([t for t in ax.get_yticks() if t == 0 or abs(t) > threshold * 10])
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("eigenvalue rank (share of the spectrum)")
    ax.set_ylabel("eigenvalue")
    return _one_panel_done(fig, ax, title)
