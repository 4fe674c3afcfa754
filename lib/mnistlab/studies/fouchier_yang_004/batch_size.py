"""Study 004 (Fouchier & Yang), Section V.A / Figure 2: what batch size does to one neuron.

Its params switch this on with ``analyses: ["004.figure2_claims"]``.  Each sentence of
Section V.A that says something measurable is tested on our runs with the statistic that
decides it printed beside the verdict, so the verdicts change when the numbers do.  The
study's own words, its Figure 2 panel layout (accuracy panels a, c, e, g, i for the five
smallest batch sizes) and its published table (``figure2m``) are named here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mnistlab.present import style
from mnistlab.studies import Analyses, require

if TYPE_CHECKING:
    import pandas as pd

    from mnistlab.notebook.study import Study


ANALYSES = Analyses("004")

ALPHA = 0.05
DIVERGING_PANELS = 5      # Figures 2(a), (c), (e), (g), (i): the five smallest batch sizes
AROUND = 1.0              # "around 95%": within this many percentage points
SAME_PER_UPDATE = 0.25    # "the weights update is far from enough": val losses at equal
                          # updates within this relative difference of each other
PUBLISHED_TABLE = "figure2m"
PER_100 = 100 * 100       # slope per epoch of a fraction -> percentage points per 100 epochs


@ANALYSES.add("004.figure2_claims")
def figure2_claims(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Every claim of Section V.A against our runs: one table row per claim, then details."""
    from mnistlab.analysis import curves

    require(study, results, levels={"batch_size": 2},
            curves=["loss", "accuracy", "val_loss", "val_accuracy"])
    if "val_loss_roughness" not in results:
        rows = study.training_rows()
        results = curves.with_statistics(results, rows)
    table = claims(study, results)
    supported = int((table["verdict"] == "supported").sum())
    return [
        "### Section V.A's claims, tested",
        "Each statement of the study about Figure 2 is decided by the statistic shown beside it "
        "(means ± 95% CI over seeds; Spearman's ρ over all runs; a trend counts at p < "
        f"{ALPHA}). Batch sizes are ours where the study names none (see *Assumptions*).",
        _html_table(table),
        f"**{supported} of {len(table)} claims are supported** by these runs; the others are "
        "qualified in the table.",
        "#### Training and validation accuracy in the second half of training",
        "Slopes of a least-squares line over the second half of the epochs, in percentage "
        "points per 100 epochs (mean ± 95% CI over seeds). A widening gap with a falling "
        "validation accuracy is what the study calls over-fitting.",
        _divergence_table(results),
    ]


def claims(study: "Study", results: "pd.DataFrame") -> "pd.DataFrame":
    """One row per claim: the study's words, what we measured, and the verdict it implies.
    ``results`` must carry the columns of ``curves.with_statistics``."""
    import pandas as pd

    checks = [_divergence(results), _overfits_sooner(results), _quick_accuracy(results),
              _largest_ends_near(study, results), _largest_not_converged(results),
              _too_few_updates(results), _smoother(results), _test_like_validation(results),
              _recommendation(results)]
    table = pd.DataFrame([{"claim (Section V.A)": c["claim"], "what we measured": c["evidence"],
                           "verdict": c["verdict"]} for c in checks])
    table.index = range(1, len(table) + 1)
    return table


def _html_table(frame: "pd.DataFrame") -> Any:
    """A left-aligned table whose long cells wrap (the claims are sentences)."""
    from IPython.display import HTML

    body = frame.to_html(escape=True, border=0)
    return HTML('<div class="claims"><style>.claims td{white-space:normal !important;'
                'text-align:left !important;vertical-align:top}</style>' + body + "</div>")


def _by_batch(results: "pd.DataFrame", metric: str) -> "pd.DataFrame":
    from mnistlab.analysis.stats import summarise

    return summarise(results, ["batch_size"], [metric]).sort_values("batch_size") \
        .set_index("batch_size")


def _trend(results: "pd.DataFrame", metric: str, sign: int) -> tuple[bool, str]:
    """Whether ``metric`` moves with batch size in the direction ``sign``, and the statistic."""
    from mnistlab.analysis.stats import spearman

    if results[metric].nunique() < 2:
        return False, f"no trend: the same value in all {len(results)} runs"
    rho, p_value = spearman(results["batch_size"], results[metric])
    holds = bool(p_value < ALPHA and rho * sign > 0)
    return holds, f"Spearman ρ = {rho:+.2f}, p = {p_value:.2g} over {len(results)} runs"


def _verdict(holds: bool, partly: bool = False) -> str:
    return "supported" if holds else "partly supported" if partly else "not supported"


def _divergence(results: "pd.DataFrame") -> dict[str, str]:
    sizes = sorted(results["batch_size"].unique())[:DIVERGING_PANELS]
    gap, val = _by_batch(results, "gap_slope"), _by_batch(results, "val_accuracy_slope")
    widening = [b for b in sizes if gap.loc[b, "gap_slope_mean"] - gap.loc[b, "gap_slope_ci"] > 0]
    falling = [b for b in sizes
               if val.loc[b, "val_accuracy_slope_mean"] + val.loc[b, "val_accuracy_slope_ci"] < 0]
    return {
        "claim": "Training and validation accuracy diverge (Fig. 2 a, c, e, g, i): training "
                 "accuracy gets higher while validation accuracy gets slightly lower.",
        "evidence": f"In the second half of training the train−validation gap widens "
                    f"significantly for {len(widening)} of the {len(sizes)} smallest batch sizes "
                    f"({_listing(widening)}), and validation accuracy falls significantly for "
                    f"{len(falling)} ({_listing(falling)}); see the slopes below.",
        "verdict": _verdict(len(widening) == len(falling) == len(sizes),
                            bool(widening or falling)),
    }


def _overfits_sooner(results: "pd.DataFrame") -> dict[str, str]:
    holds, statistic = _trend(results, "best_val_epoch", +1)
    best = _by_batch(results, "best_val_epoch")["best_val_epoch_mean"]
    return {
        "claim": "With smaller batches there are more weight updates, so over-fitting shows "
                 "sooner.",
        "evidence": "Validation loss is lowest (after it, over-fitting) at epoch "
                    + ", ".join(f"{m:.0f} (batch {b})" for b, m in best.items())
                    + (": later with larger batches" if holds else
                       ": not significantly later with larger batches") + f" ({statistic}).",
        "verdict": _verdict(holds),
    }


def _quick_accuracy(results: "pd.DataFrame") -> dict[str, str]:
    holds, statistic = _trend(results, "first_val_accuracy", -1)
    first = _by_batch(results, "first_val_accuracy")
    return {
        "claim": "With a small batch size we easily and quickly get high accuracy, compared "
                 "with a very big batch size.",
        "evidence": "Validation accuracy after the first epoch: "
                    + ", ".join(f"{style.mean_ci(r['first_val_accuracy_mean'], r['first_val_accuracy_ci'], 2, 100)}% "
                                f"(batch {b})" for b, r in first.iterrows())
                    + (": lower with larger batches" if holds else
                       ": not significantly lower with larger batches") + f" ({statistic}).",
        "verdict": _verdict(holds),
    }


def _largest_ends_near(study: "Study", results: "pd.DataFrame") -> dict[str, str]:
    from mnistlab.analysis.compare import agreement

    largest = int(results["batch_size"].max())
    table = study.published.get(PUBLISHED_TABLE)
    row = agreement(results, table).iloc[0] if table is not None else None
    if row is not None and row["n"] == 0:  # a variant without the study's whole-split size
        largest = int(row["row"])
    claim = (f"The final accuracy with batch size {largest:,} (the whole training split) is "
             "only around 95%.")
    if row is None:
        return {"claim": claim, "evidence": "No published value to compare (the study's "
                f"published file has no table {PUBLISHED_TABLE!r}).", "verdict": "not judged"}
    if row["n"] < 2:
        return {"claim": claim, "evidence": f"Fewer than two runs of batch {row['row']}.",
                "verdict": "not judged"}
    near = abs(row["delta"]) <= AROUND
    side = "below" if row["delta"] > 0 else "above"  # the published value, from our mean
    return {
        "claim": claim,
        "evidence": f"Validation accuracy after the last epoch {row['mean']:.2f}% ± "
                    f"{row['ci']:.2f} (95% PI for one run [{row['pi_low']:.2f}, "
                    f"{row['pi_high']:.2f}]); the study's ≈{row['published']:g}% is "
                    + ("inside that interval" if row["inside_pi"] else
                       f"outside it, {abs(row['delta']):.2f} points {side} our mean")
                    + f", {'within' if near else 'more than'} ±{AROUND:g} point of it.",
        "verdict": "supported" if row["inside_pi"] else
                   "supported (within ±1 point, not inside the PI)" if near else "not supported",
    }


def _largest_not_converged(results: "pd.DataFrame") -> dict[str, str]:
    from mnistlab.analysis.curves import LAST
    from mnistlab.analysis.stats import spread

    largest = results[results["batch_size"] == results["batch_size"].max()]
    last = largest["best_val_epoch"] == largest["epochs_run"]
    change = spread(largest["val_loss_last_change"])
    still_falling = change.n > 1 and change.mean + change.ci < 0
    overall_best = results.groupby("batch_size")["val_loss"].mean().min()
    return {
        "claim": f"Batch size {int(largest['batch_size'].iloc[0]):,} did not converge before "
                 f"epoch {int(largest['epochs_run'].max())}.",
        "evidence": f"Its validation loss is lowest at the last epoch in {int(last.sum())} of "
                    f"{len(largest)} runs and still fell by {style.mean_ci(-change.mean, change.ci, 1, 100)}% "
                    f"over the last {style.count(max(1, round(largest['epochs_run'].max() * LAST)), 'epoch')}; it "
                    f"ends at {largest['val_loss'].mean():.3f}, {largest['val_loss'].mean() / overall_best:.1f}× "
                    "the lowest final validation loss of any batch size.",
        "verdict": _verdict(bool(last.all() and still_falling), bool(last.any() or still_falling)),
    }


def _too_few_updates(results: "pd.DataFrame") -> dict[str, str]:
    """"It is because the weights update is far from enough": if only the number of updates
    held the whole-split run back, smaller batches given the same number of updates (the
    epoch whose update count is nearest) reach the same validation loss."""
    import numpy as np

    size = results["batch_size"].max()
    largest = results[results["batch_size"] == size]
    budget = int(largest["updates"].min())
    reference = float(largest["val_loss"].mean())
    rows = []
    for batch, runs in results[results["batch_size"] < size].groupby("batch_size"):
        steps = int(runs["steps_per_epoch"].iloc[0])
        epoch = round(budget / steps)
        if epoch < 1 or epoch > runs["epochs_run"].min():
            continue
        loss = float(np.mean([h["val_loss"][epoch - 1] for h in runs["history"]]))
        rows.append((batch, epoch * steps, loss))
    claim = (f"Batch {size:,} falls short \"because the weights update is far from enough\" "
             "(too few updates).")
    if not rows:
        return {"claim": claim, "evidence": f"No smaller batch size made as few as {budget} "
                "updates at an epoch's end, so there is nothing to compare at equal updates.",
                "verdict": "not judged"}
    worst = max(abs(loss / reference - 1) for _, _, loss in rows)
    return {
        "claim": claim,
        "evidence": f"After its {budget:,} updates the whole-split run has validation loss "
                    f"{reference:.3f}; after about as many updates "
                    + ", ".join(f"batch {b} ({u:,} updates) has {loss:.3f}" for b, u, loss in rows)
                    + f": at most {worst:.0%} apart (criterion: within {SAME_PER_UPDATE:.0%}). "
                    + ("Per update, these batch sizes learn alike (figure above)." if
                       worst <= SAME_PER_UPDATE else "Per update, they do not learn alike."),
        "verdict": _verdict(worst <= SAME_PER_UPDATE),
    }


def _smoother(results: "pd.DataFrame") -> dict[str, str]:
    loss_holds, loss_stat = _trend(results, "val_loss_roughness", -1)
    acc_holds, acc_stat = _trend(results, "val_accuracy_roughness", -1)
    roughness = _by_batch(results, "val_loss_roughness")["val_loss_roughness_mean"]
    breaks = [f"{a}→{b}" for a, b in zip(roughness.index, roughness.index[1:])
              if roughness[b] > roughness[a]]
    return {
        "claim": "The bigger the batch size, the smoother the curves.",
        "evidence": "Roughness (mean |second difference| per epoch, second half of training) of "
                    "the validation loss "
                    + ("falls" if loss_holds else "does not fall significantly")
                    + f" with batch size ({loss_stat}"
                    + (f"; not monotone at {', '.join(breaks)}" if breaks else "; monotone in the means")
                    + f"), of the validation accuracy {'also' if acc_holds else 'not significantly'}"
                    f" ({acc_stat}).",
        "verdict": _verdict(loss_holds and acc_holds, loss_holds or acc_holds),
    }


def _test_like_validation(results: "pd.DataFrame") -> dict[str, str]:
    from mnistlab.analysis.stats import spearman

    rho_acc, p_acc = spearman(results["val_accuracy"], results["test_accuracy"])
    rho_loss, p_loss = spearman(results["val_loss"], results["test_loss"])
    gap = (results["test_accuracy"] - results["val_accuracy"]).groupby(results["batch_size"]).mean()
    holds = p_acc < ALPHA and rho_acc > 0 and p_loss < ALPHA and rho_loss > 0
    return {
        "claim": "Accuracy and loss on the test set behave very similarly (to validation).",
        "evidence": f"Across runs, test accuracy {_follows(rho_acc, p_acc)} validation accuracy "
                    f"(Spearman ρ = {rho_acc:+.2f}, p = {p_acc:.2g}) and test loss "
                    f"{_follows(rho_loss, p_loss)} validation loss (ρ = {rho_loss:+.2f}, "
                    f"p = {p_loss:.2g}); test minus validation accuracy is "
                    f"{100 * gap.min():+.2f} to {100 * gap.max():+.2f} points by batch size.",
        "verdict": _verdict(bool(holds)),
    }


def _recommendation(results: "pd.DataFrame") -> dict[str, str]:
    from mnistlab.analysis.stats import spread

    means = results.groupby("batch_size")["val_loss"].mean().sort_index()
    best, smallest, largest = means.idxmin(), means.index[0], means.index[-1]
    per_seed = results.pivot_table(index="seed", columns="batch_size", values="val_loss")
    beaten = []
    for other in (smallest, largest):
        if other == best:
            continue
        d = spread(per_seed[best] - per_seed[other])
        if d.n > 1 and d.mean + d.ci < 0:
            beaten.append(other)
    inside = best not in (smallest, largest)
    return {
        "claim": "Choose a relatively small batch size, but not too small, to avoid "
                 "over-fitting.",
        "evidence": f"The lowest final validation loss is at batch {best} ({means[best]:.4f}); "
                    + (f"it beats batch {' and '.join(str(b) for b in beaten)} seed for seed "
                       "(paired 95% CI below zero)" if beaten else
                       "no paired difference to the extremes excludes zero")
                    + f". Smallest batch {smallest}: {means[smallest]:.4f}; largest "
                    f"{largest}: {means[largest]:.4f}.",
        "verdict": _verdict(inside and len(beaten) == 2, inside),
    }


def _divergence_table(results: "pd.DataFrame") -> "pd.DataFrame":
    import pandas as pd

    gap, val = _by_batch(results, "gap_slope"), _by_batch(results, "val_accuracy_slope")
    train = results.assign(train_slope=results["gap_slope"] + results["val_accuracy_slope"])
    tr = _by_batch(train, "train_slope")
    return pd.DataFrame({
        "training accuracy": [style.mean_ci(m, c, 2, PER_100) for m, c in
                              zip(tr["train_slope_mean"], tr["train_slope_ci"])],
        "validation accuracy": [style.mean_ci(m, c, 2, PER_100) for m, c in
                                zip(val["val_accuracy_slope_mean"], val["val_accuracy_slope_ci"])],
        "gap (training − validation)": [style.mean_ci(m, c, 2, PER_100) for m, c in
                                        zip(gap["gap_slope_mean"], gap["gap_slope_ci"])],
    }, index=pd.Index(gap.index, name="batch size"))


def _follows(rho: float, p_value: float) -> str:
    return "follows" if p_value < ALPHA and rho > 0 else "does not significantly follow"


def _listing(sizes: list) -> str:
    return ", ".join(str(s) for s in sizes) or "none"
