"""Conclusions written from the measured data, so the text changes when the numbers do."""

from __future__ import annotations

import numpy as np
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


def loss_equivalence(paired_loss: pd.DataFrame, paired_accuracy: pd.DataFrame,
                     results: pd.DataFrame, figure4: pd.DataFrame, figure5: pd.DataFrame) -> str:
    """Markdown: is sparse categorical cross-entropy really better than categorical here?

    Set beside the paired differences: the published gaps between the two figures, and how
    much one model's accuracy moves from seed to seed.
    """
    published_gap = (figure5.set_index("description")["accuracy"]
                     - figure4.set_index("description")["accuracy"])
    seed_spread = results[results["group"] == "figure4"].groupby("label")["test_accuracy"].std().mean()
    real_loss = paired_loss[paired_loss["excludes_zero"]]
    real_acc = paired_accuracy[paired_accuracy["excludes_zero"]]
    largest = paired_accuracy.loc[paired_accuracy["mean"].abs().idxmax()]
    better = int((paired_accuracy["mean"] > 0).sum())
    runs = {group: results[results["group"] == group].set_index(["label", "seed"])
            for group in ("figure4", "figure5")}
    seed_gap = {metric: float((runs["figure5"][metric] - runs["figure4"][metric]).abs().max())
                for metric in ("test_loss", "test_accuracy")}
    return "\n".join([
        "- For one-hot labels, categorical and sparse categorical cross-entropy are the same "
        "function: −log p(true class). Any difference can only come from arithmetic order.",
        f"- Seed for seed, the two losses' runs differ by at most {seed_gap['test_loss']:.2g} in "
        f"test loss and {seed_gap['test_accuracy']:.2g} in test accuracy"
        + (": compiled with the rest of the training step, both reduce to the same arithmetic."
           if max(seed_gap.values()) < 1e-6 else "."),
        f"- Sparse minus categorical, paired by seed: test accuracy is higher with sparse for "
        f"{better} of {len(paired_accuracy)} variants; the largest mean difference is "
        f"{largest['mean']:+.4f} ± {largest['ci']:.4f} ({largest['label']}).",
        f"- The 95% interval of the paired difference excludes zero for {len(real_acc)} of "
        f"{len(paired_accuracy)} variants in accuracy and {len(real_loss)} of {len(paired_loss)} "
        "in loss" + (f" ({', '.join(real_acc['label'])})" if len(real_acc) else "") + "."
        + (" With this many comparisons a few such intervals are expected by chance alone."
           if len(real_acc) + len(real_loss) else ""),
        "- The study's claim that sparse categorical cross-entropy \"saw much more improvement\" "
        + ("is not supported by these runs." if len(real_acc) <= 1 else "needs a closer look."),
        f"- The published accuracy gaps between Figure 5 and Figure 4 range from "
        f"{published_gap.min():+.3f} to {published_gap.max():+.3f} (mean {published_gap.mean():+.4f}); "
        f"the same model's test accuracy moves by {seed_spread:.4f} (standard deviation) from one "
        "seed to the next here. Single runs per cell, as in the study, cannot tell such gaps from "
        "seed noise.",
    ])


def basic_ablation(summary: pd.DataFrame, published: pd.DataFrame) -> str:
    """Markdown: which input-scaling hypothesis reproduces the basic model's published pair?"""
    target = published.iloc[0]
    lines = []
    for _, row in summary.iterrows():
        loss_gap = abs(row["test_loss_mean"] - target["loss"]) / target["loss"]
        acc_gap = abs(row["test_accuracy_mean"] - target["accuracy"])
        verdict = "reproduces" if loss_gap < 0.5 and acc_gap < 0.03 else "does not reproduce"
        diverged = row["seeds"] - row["test_loss_n"]
        loss = (f"{row['test_loss_mean']:.3g}" if np.isnan(row["test_loss_ci"])
                else f"{row['test_loss_mean']:.3g} ± {row['test_loss_ci']:.2g}")
        if diverged:
            loss += (f" (training diverged to a NaN loss in {diverged} of {row['seeds']} runs; "
                     "this is the mean of the others)")
        lines.append(f"- **{row['label']}**: loss {loss}, accuracy "
                     f"{row['test_accuracy_mean']:.3f} ± {row['test_accuracy_ci']:.3f}: {verdict} "
                     f"the published loss {target['loss']} with accuracy {target['accuracy']} "
                     "(criterion: loss within 50%, accuracy within 0.03).")
    return "\n".join(lines)
