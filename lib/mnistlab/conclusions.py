"""Conclusions written from the measured data, so the text changes when the numbers do."""

from __future__ import annotations

import pandas as pd
from scipy import stats

from .compare import within_interval


def _trend(results: pd.DataFrame, x: str, y: str) -> tuple[float, float]:
    rho, p_value = stats.spearmanr(results[x], results[y])
    return float(rho), float(p_value)


def depth(results: pd.DataFrame, summary: pd.DataFrame, published_test: pd.DataFrame) -> str:
    """Markdown: best depth, the depth–accuracy trend, time per epoch, and agreement with Table 2."""
    best = summary.loc[summary["test_accuracy_mean"].idxmax()]
    worst = summary.loc[summary["test_accuracy_mean"].idxmin()]
    rho, p_value = _trend(results, "hidden_layers", "test_accuracy")
    per_epoch = results.assign(epoch_s=results["train_time_s"] / results["epochs_run"])
    time_rho, _ = _trend(per_epoch, "hidden_layers", "epoch_s")
    inside = within_interval(summary, published_test, "hidden_layers", "hidden_layers",
                             "test_accuracy", "accuracy")
    merged = summary.merge(published_test, on="hidden_layers")
    gap = (merged["test_accuracy_mean"] - merged["accuracy"]).mean()
    direction = ("falls" if rho < 0 else "rises") if p_value < 0.05 else "shows no significant trend"
    return "\n".join([
        f"- Highest mean test accuracy: **{int(best['hidden_layers'])} hidden layer(s)**, "
        f"{best['test_accuracy_mean']:.4f} ± {best['test_accuracy_ci']:.4f}; lowest: "
        f"{int(worst['hidden_layers'])} layer(s), {worst['test_accuracy_mean']:.4f} ± "
        f"{worst['test_accuracy_ci']:.4f}.",
        f"- Across all {len(results)} runs, test accuracy {direction} with depth "
        f"(Spearman ρ = {rho:+.2f}, p = {p_value:.3g}). "
        + ("More layers did not buy accuracy here, as the study concluded."
           if rho <= 0 or p_value >= 0.05 else "Here deeper networks did better, unlike the study."),
        f"- Time per epoch grows with depth (Spearman ρ = {time_rho:+.2f}); total training time also "
        "depends on how many epochs early stopping allows.",
        f"- The published test accuracy lies inside our 95% interval for {int(inside.sum())} of "
        f"{len(inside)} depths; on average we measure {gap:+.4f} relative to the published value.",
    ])
