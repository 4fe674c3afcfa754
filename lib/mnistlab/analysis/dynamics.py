"""Pure arithmetic on what the probes recorded during training: weight paths projected to two
dimensions, per-step series summarised across seeds, and the Hessian spectrum's sign pattern.

No plotting and no knowledge of any study: the figures (``dynamics_plots``) and the study
analyses read these.  Keras stores a Dense stack's trainable weights as kernel, bias, kernel,
bias, ... and the probes flatten them in that order, which ``layer_slices`` follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    """Snapshots of several runs projected on the principal axes of all of them together."""

    paths: list[np.ndarray]  # one (snapshots, components) array per run
    explained: np.ndarray  # share of the variance along each component


def weight_pca(trajectories: list[np.ndarray], components: int = 2) -> Projection:
    """Principal components of every snapshot of every run, fitted jointly so the runs share
    one pair of axes (where they start, where they go and whether they meet are comparable).

    Each trajectory is (snapshots, weights); the axes come from the SVD of the snapshots
    centred on their overall mean.
    """
    if not trajectories:
        raise ValueError("weight_pca needs at least one trajectory")
    widths = {t.shape[1] for t in trajectories}
    if len(widths) != 1:
        raise ValueError(f"trajectories of different widths {sorted(widths)}: one model at a time")
    stacked = np.concatenate(trajectories).astype("float64")
    centred = stacked - stacked.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    variance = singular ** 2
    explained = variance[:components] / variance.sum() if variance.sum() else np.zeros(components)
    projected = centred @ axes[:components].T
    bounds = np.cumsum([0] + [len(t) for t in trajectories])
    return Projection([projected[a:b] for a, b in zip(bounds, bounds[1:])], explained)


def layer_slices(inputs: int, hidden: list[int], outputs: int) -> list[slice]:
    """Where each Dense layer's kernel and bias sit in a flattened weight vector."""
    sizes = [inputs, *hidden, outputs]
    slices, start = [], 0
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        stop = start + (fan_in + 1) * fan_out
        slices.append(slice(start, stop))
        start = stop
    return slices


def band(series: list[np.ndarray], low: float = 25, high: float = 75) -> np.ndarray:
    """Median and a percentile band across runs, step by step: (3, steps) for the shortest run."""
    length = min(len(s) for s in series)
    stacked = np.stack([np.asarray(s[:length], dtype="float64") for s in series])
    return np.percentile(stacked, [50, low, high], axis=0)


def near_zero_share(eigenvalues: np.ndarray, relative: float) -> float:
    """Share of eigenvalues within ``relative`` × the largest magnitude of zero: directions in
    which the loss is flat to the precision of the computed Hessian."""
    values = np.abs(np.asarray(eigenvalues, dtype=float))
    return float(np.mean(values <= relative * values.max()))


def ratio_beyond(eigenvalues: np.ndarray, relative: float) -> float:
    """The minimal ratio counted only over eigenvalues clearly away from zero (magnitude above
    ``relative`` × the largest): the sign pattern of the curved directions alone."""
    values = np.asarray(eigenvalues, dtype=float)
    clear = values[np.abs(values) > relative * np.abs(values).max()]
    return float(np.mean(clear > 0)) if clear.size else float("nan")
