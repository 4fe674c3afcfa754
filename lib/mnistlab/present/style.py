"""The house style of every report, written once: human labels, one number format, ✓/✗.

Fixed decimals matching the published precision, thousands separators, scientific notation
only where the magnitude needs it, and labels with units instead of column names.
"""

from __future__ import annotations

import ast
import math
from typing import Any

import pandas as pd

LABELS = {
    "train_loss": "training loss", "train_accuracy": "training accuracy",
    "test_loss": "test loss", "test_accuracy": "test accuracy",
    "val_loss": "validation loss", "val_accuracy": "validation accuracy",
    "train_time_s": "wall time (s)", "train_cpu_s": "CPU time (s)",
    "epoch_cpu_s": "CPU time per epoch (s)", "epochs_run": "epochs run",
    "hidden_layers": "hidden layers", "parameters": "parameters", "seeds": "seeds",
    "batch_size": "batch size", "loss": "loss", "accuracy": "accuracy", "label": "model",
    "epoch_s": "wall time per epoch (s)", "hidden_units": "hidden units",
}


def label(name: str) -> str:
    """``test_accuracy`` → ``test accuracy``; unknown names lose their underscores."""
    return LABELS.get(name, name.replace("_", " "))


def number(value: Any, digits: int = 4, signed: bool = False) -> str:
    """One number as a report shows it: ``–`` for missing, ✓/✗ for truth values, integers
    with thousands separators, fixed decimals unless the magnitude needs an exponent, which
    is written as a reader writes it (``5.96×10⁻⁸``, not ``5.96e-08``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    sign = "+" if signed else ""
    if isinstance(value, int):
        return f"{value:{sign},d}"
    value = float(value)
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if _needs_exponent(abs(value), digits):
        mantissa, exponent = f"{value:{sign}.2e}".split("e")
        return mantissa + _power(int(exponent))
    return f"{value:{sign},.{digits}f}"


def _needs_exponent(magnitude: float, digits: int) -> bool:
    """Too large for thousands separators to stay readable, or too small for ``digits``
    decimals to show a significant figure."""
    return magnitude >= 1e6 or 0 < magnitude < 0.5 * 10 ** -digits


def _power(exponent: int) -> str:
    """``×10⁻⁸``: the exponent in superscript digits."""
    return "×10" + str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def difference(value: Any, digits: int = 4) -> str:
    """A signed difference at the published precision: a mean equal to the published value
    up to float noise (4e-16) reads ``+0.0000``, never as an exponent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return number(round(float(value), digits) + 0.0, digits, signed=True)  # + 0.0: no "-0"


def mean_ci(mean: float, half: float, digits: int = 4, scale: float = 1.0) -> str:
    """``0.9731 ± 0.0012`` (× ``scale``: 100 for percentages); the interval is left out when
    there is none (one run).  Mean and half-width share one notation: when either needs an
    exponent both are written against the same power of ten, ``(5.96 ± 0.80)×10⁻⁸`` (a
    mean as an exponent beside a half-width in decimals hid that they are comparable)."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    mean = mean * scale
    if half is None or (isinstance(half, float) and math.isnan(half)):
        return number(mean, digits)
    half = half * scale
    if not (math.isfinite(mean) and math.isfinite(half)):
        return f"{number(mean, digits)} ± {number(half, digits)}"
    if _needs_exponent(max(abs(mean), abs(half)), digits):
        return _shared_exponent(mean, half)
    shown = round(mean, digits) + 0.0  # a mean too small to show: 0.0000, never -0.0000
    return f"{shown:,.{digits}f} ± {half:,.{_half_width_digits(half, digits)}f}"


def _shared_exponent(mean: float, half: float) -> str:
    """``(5.96 ± 0.80)×10⁻⁸``: the power of ten of the larger of the two, and as many
    decimals in both as give the half-width one significant figure (two at least)."""
    exponent = int(f"{max(abs(mean), abs(half)):.2e}".split("e")[1])
    mean, half = mean / 10 ** exponent, half / 10 ** exponent
    decimals = _half_width_digits(half, 2)
    return f"({mean:.{decimals}f} ± {half:.{decimals}f}){_power(exponent)}"


def runs_mean_ci(mean: float, half: float, runs: int, digits: int = 4) -> str:
    """``mean_ci`` that says when there is no interval because there was one run (or none)."""
    if runs == 0:
        return "–"
    if runs == 1:
        return number(mean, digits) + " (1 run)"
    return mean_ci(mean, half, digits)


def _half_width_digits(half: float, digits: int) -> int:
    """Enough decimals for one significant figure of a half-width narrower than the
    published precision (0.12 ± 0.004, not ± 3.80e-03), at most three more; one narrower
    still is zero at the published precision (0.50 ± 0.00, as an interval of exactly 0)."""
    if not 0 < abs(half) < 0.5 * 10 ** -digits:
        return digits
    needed = -math.floor(math.log10(abs(half) * 1.05))
    return needed if needed <= digits + 3 else digits


def summary_table(summary: pd.DataFrame, by: str | list[str], metrics: dict[str, int]) -> pd.DataFrame:
    """A ``stats.summarise`` frame as a reader sees it: one "mean ± 95% CI" column per metric
    (``metrics`` maps each to its decimals), human headings, the group(s) as the index.  The
    seeds column says how many runs gave a finite value when some diverged (a NaN loss): a
    row with no interval then says it is one run, not a precise one."""
    keys = [by] if isinstance(by, str) else list(by)
    shown = pd.DataFrame({
        f"{label(metric)} (mean ± 95% CI)": [
            runs_mean_ci(m, h, int(n), digits) for m, h, n in
            zip(summary[f"{metric}_mean"], summary[f"{metric}_ci"], summary[f"{metric}_n"])]
        for metric, digits in metrics.items()})
    index = summary[keys].map(lambda v: words(v) if isinstance(v, str) else v)
    shown.index = pd.MultiIndex.from_frame(index.rename(columns=label)) if len(keys) > 1 \
        else pd.Index(index[by if isinstance(by, str) else keys[0]], name=label(keys[0]))
    if "seeds" in summary:
        finite = summary[[f"{m}_n" for m in metrics]].min(axis=1)
        shown["seeds"] = [number(int(seeds)) if n == seeds else f"{int(n)} finite of {int(seeds)}"
                          for n, seeds in zip(finite, summary["seeds"])]
    return shown


def setting_text(text: str) -> str:
    """A setting written as a Python literal (``{'name': 'adam'}``) in reader's words; any
    other text as it is."""
    try:
        return setting(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        return text


def words(name: str) -> str:
    """A code name as a reader says it: ``sparse_categorical_crossentropy`` → ``sparse
    categorical cross-entropy``, ``learning_rate`` → ``learning rate``."""
    return str(name).replace("_", " ").replace("crossentropy", "cross-entropy")


def setting(value: Any) -> str:
    """A params value as a reader reads it: ``adam (learning rate 0.001)``, ``0.08333``,
    ``0, 1, 2``; a list of configurations is counted, since the settings table lists them."""
    if isinstance(value, dict):
        options = ", ".join(f"{words(k)} {setting(v)}" for k, v in value.items()
                            if k != "name" and v is not None)
        if "name" in value:
            return f"{words(value['name'])} ({options})" if options else words(value["name"])
        return options
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return f"{len(value)} configurations (listed under What varies)"
        return ", ".join(setting(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return words(value)
    return str(value)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 epoch``, ``3 epochs``: never "epoch(s)"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def epochs(mask: Any) -> str:
    """``5–12, 20``: the 1-based epochs where a per-epoch mask holds, or ``none``."""
    from mnistlab.analysis.curves import epoch_spans

    spans = epoch_spans(list(mask))
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" for a, b in spans) or "none"


def after_epochs(mask: Any) -> str:
    """``after epoch 3``, ``after epochs 3–5, 8``: when a per-epoch mask holds."""
    return f"after epoch{'s' if sum(bool(x) for x in mask) > 1 else ''} {epochs(mask)}"
