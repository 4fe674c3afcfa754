"""Statistics of learning curves: where each run's curves end, where they were best, how
many optimizer updates they took and how rough they are.

An experiment that changes *how* a model is updated (the batch size, say) is judged by its
curves more than by its final scores, and a claim such as "the curves are smoother" needs a
number, not a look at a figure.  ``with_statistics`` adds one column per statistic to the
results frame (one row per run), so the tables, the figures and the study's claims all read
the same numbers.  Nothing here names a study.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd


TAIL = 0.5  # the later part of training over which roughness and drifts are measured
LAST = 0.1  # the last part of training over which "still improving" is measured


def training_rows(rows: int, validation_split: float) -> int:
    """How many of a run's ``rows`` it trained on: less the validation rows, cut as
    ``prepare_arrays`` and Keras cut them.  ``rows`` comes from the task's source
    (``Study.training_rows``)."""
    return int(rows * (1 - validation_split))


def tail(values: Sequence[float], fraction: float = TAIL) -> np.ndarray:
    """The last ``fraction`` of a curve (at least three epochs when there are three)."""
    data = np.asarray(values, dtype=float)
    keep = max(3, math.ceil(len(data) * fraction))
    return data[-keep:]


def roughness(values: Sequence[float], fraction: float = TAIL) -> float:
    """Mean |x[t+1] − 2·x[t] + x[t−1]| over the last ``fraction`` of the epochs.

    Why the second difference: a curve that still falls steadily has large epoch-to-epoch
    changes yet is smooth; the second difference is near zero for any straight or gently
    bending stretch and large for a zig-zag.  Measured late in training, where the early
    steep bend of slowly trained runs is over.  NaN for fewer than three epochs.
    """
    part = tail(values, fraction)
    return float(np.mean(np.abs(np.diff(part, 2)))) if len(part) >= 3 else float("nan")


def reversals(values: Sequence[float]) -> float:
    """Fraction of epochs at which the curve turns (rise after a fall or the reverse).

    Scale-free: about 2/3 for noise around a level, 0 for a monotone curve, one turn for
    a curve that falls and then rises.
    """
    steps = np.sign(np.diff(np.asarray(values, dtype=float)))
    steps = steps[steps != 0]
    return float(np.mean(steps[1:] != steps[:-1])) if len(steps) >= 2 else float("nan")


def slope(values: Sequence[float], fraction: float = TAIL) -> float:
    """Least-squares change per epoch over the last ``fraction`` of the epochs."""
    part = tail(values, fraction)
    if len(part) < 2:
        return float("nan")
    return float(np.polyfit(np.arange(len(part)), part, 1)[0])


def last_change(values: Sequence[float], fraction: float = LAST) -> float:
    """Relative change over the last ``fraction`` of the epochs (at least one epoch):
    negative while a loss is still falling at the end."""
    data = np.asarray(values, dtype=float)
    if len(data) < 2:
        return float("nan")
    back = min(len(data) - 1, max(1, round(len(data) * fraction)))
    return float(data[-1] / data[-1 - back] - 1)


# The columns ``with_statistics`` adds (the keys of ``run_statistics``): published files may
# compare with them when their runs keep a validation split.
CURVE_STATISTICS = ("val_loss", "val_accuracy", "first_val_accuracy", "best_val_epoch",
                    "steps_per_epoch", "updates", "updates_to_best", "val_loss_roughness",
                    "val_accuracy_roughness", "val_loss_reversals", "gap_slope",
                    "val_accuracy_slope", "val_loss_last_change")


def run_statistics(history: dict[str, list[float]], batch_size: int, rows: int
                   ) -> dict[str, float]:
    """Every statistic of one run's epoch logs (which must hold validation curves)."""
    missing = [k for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k not in history]
    if missing:
        raise ValueError(f"curve statistics need the epoch logs {missing}: set "
                         "data.validation_split > 0 in the params file")
    val_loss = np.asarray(history["val_loss"], dtype=float)
    steps = math.ceil(rows / batch_size)
    best = int(np.nanargmin(val_loss)) + 1 if np.isfinite(val_loss).any() else len(val_loss)
    gap = np.asarray(history["accuracy"]) - np.asarray(history["val_accuracy"])
    return {
        "val_loss": float(val_loss[-1]),
        "val_accuracy": float(history["val_accuracy"][-1]),
        "first_val_accuracy": float(history["val_accuracy"][0]),
        "best_val_epoch": best,
        "steps_per_epoch": steps,
        "updates": steps * len(val_loss),
        "updates_to_best": steps * best,
        "val_loss_roughness": roughness(val_loss),
        "val_accuracy_roughness": roughness(history["val_accuracy"]),
        "val_loss_reversals": reversals(val_loss),
        "gap_slope": slope(gap),
        "val_accuracy_slope": slope(history["val_accuracy"]),
        "val_loss_last_change": last_change(val_loss),
    }


def with_statistics(results: pd.DataFrame, rows: int) -> pd.DataFrame:
    """``results`` with one more column per statistic of ``run_statistics``; ``rows`` is the
    number of training images (``training_rows``), which sets the updates per epoch."""
    extra = pd.DataFrame([run_statistics(r["history"], int(r["batch_size"]), rows)
                          for _, r in results.iterrows()], index=results.index)
    out = pd.concat([results.drop(columns=extra.columns, errors="ignore"), extra], axis=1)
    out.attrs.update(results.attrs)  # where the runs live: the scorecard's agreement goes there
    return out


def stacked(histories: Sequence[dict[str, list[float]]], key: str) -> np.ndarray:
    """Runs × epochs of one epoch log, shorter runs (early stopping) padded with NaN; runs
    that did not log ``key`` are left out."""
    curves = [np.asarray(h[key], dtype=float) for h in histories if key in h]
    if not curves:
        return np.empty((0, 0))
    out = np.full((len(curves), max(len(c) for c in curves)), np.nan)
    for row, curve in zip(out, curves):
        row[:len(curve)] = curve
    return out


def epoch_spans(inside: Sequence[bool]) -> list[tuple[int, int]]:
    """The runs of consecutive True in a per-epoch mask, as 1-based (first, last) epochs:
    [F, T, T, F, T] gives [(2, 3), (5, 5)]."""
    spans: list[tuple[int, int]] = []
    for epoch, flag in enumerate(inside, 1):
        if not flag:
            continue
        if spans and spans[-1][1] == epoch - 1:
            spans[-1] = (spans[-1][0], epoch)
        else:
            spans.append((epoch, epoch))
    return spans


def central_epoch(inside: Sequence[bool]) -> int | None:
    """The middle epoch (1-based, rounded down) of the longest run of True in a per-epoch mask,
    the earliest such run on a tie; None when there is none.  A training length read off a
    scan is taken here, away from the edges where one more or one less epoch changes it."""
    spans = epoch_spans(inside)
    if not spans:
        return None
    first, last = max(spans, key=lambda span: (span[1] - span[0], -span[0]))
    return (first + last) // 2
