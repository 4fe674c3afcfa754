"""Study 001 (Chu, loss variants): the basic model's loss of 35.08, and CCE against SCCE.

Its params switch these on with ``analyses: [001.input_scaling, 001.loss_pairing,
001.twin_deltas]``; they
rely on the study's own configuration groups (``basic``/``ablation``, ``figure4``/``figure5``)
and published tables (``basic``, ``figure4``, ``figure5``), named here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mnistlab.core.markup import text
from mnistlab.studies import Analyses, require

if TYPE_CHECKING:
    import pandas as pd

    from mnistlab.notebook.study import Study


ANALYSES = Analyses("001")

CATEGORICAL, SPARSE = "figure4", "figure5"
LOSS_TOLERANCE, ACCURACY_TOLERANCE = 0.5, 0.03  # relative loss gap, absolute accuracy gap


@ANALYSES.add("001.input_scaling")
def input_scaling(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Which input-scaling hypothesis reproduces the basic model's published pair?"""
    from mnistlab.present import style
    from mnistlab.analysis.stats import summarise

    require(study, results, any_group=["basic", "ablation"], published=["basic"])
    basic = results[results["group"].isin(["basic", "ablation"])]
    summary = summarise(basic, ["label"], ["test_loss", "test_accuracy"])
    target = study.published["basic"].frame.iloc[0]
    table = style.summary_table(summary, "label", {"test_loss": 3, "test_accuracy": 4})
    return [
        "### The basic model and its loss of 35.08",
        "The study blames the high loss on labels that were not one-hot encoded, but the sparse "
        "loss takes integer labels, so that cannot be it. Our hypothesis: the network was trained "
        "on pixels scaled to [0, 1] but evaluated on raw 0–255 pixels (or trained and evaluated "
        "raw). Scaling the inputs by 255 scales the logits, so most predictions keep their class "
        "(accuracy stays high) while the wrong ones become extremely confident (the loss explodes).",
        table,
        "\n".join(_scaling_verdict(row, target) for _, row in summary.iterrows()),
    ]


def _scaling_verdict(row: "pd.Series", target: "pd.Series") -> str:
    import numpy as np

    loss_gap = abs(row["test_loss_mean"] - target["loss"]) / target["loss"]
    accuracy_gap = abs(row["test_accuracy_mean"] - target["accuracy"])
    verdict = ("reproduces" if loss_gap < LOSS_TOLERANCE and accuracy_gap < ACCURACY_TOLERANCE
               else "does not reproduce")
    diverged = row["seeds"] - row["test_loss_n"]
    loss = (f"{row['test_loss_mean']:.3g}" if np.isnan(row["test_loss_ci"])
            else f"{row['test_loss_mean']:.3g} ± {row['test_loss_ci']:.2g}")
    if diverged:
        loss += (f" (training diverged to a NaN loss in {diverged} of {row['seeds']} runs; "
                 "this is the mean of the others)")
    return (f"- **{text(row['label'])}**: loss {loss}, accuracy {row['test_accuracy_mean']:.3f} ± "
            f"{row['test_accuracy_ci']:.3f}: {verdict} the published loss {target['loss']} with "
            f"accuracy {target['accuracy']} (criterion: loss within {LOSS_TOLERANCE:.0%}, accuracy "
            f"within {ACCURACY_TOLERANCE}).")


@ANALYSES.add("001.loss_pairing")
def loss_pairing(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Is sparse categorical cross-entropy really better? Each Figure 5 run against its
    Figure 4 twin: same seed, so same initial weights, data order and dropout masks."""
    import pandas as pd

    from mnistlab.present import style
    from mnistlab.analysis.stats import paired_difference
    from mnistlab.core.errors import MissingRuns

    require(study, results, groups=[CATEGORICAL, SPARSE], published=[CATEGORICAL, SPARSE])
    labels = {group: list(dict.fromkeys(results.loc[results["group"] == group, "label"]))
              for group in (CATEGORICAL, SPARSE)}
    if not set(labels[CATEGORICAL]) & set(labels[SPARSE]):
        raise MissingRuns(f"a {CATEGORICAL} configuration and its {SPARSE} twin (the same label), "
                          f"which this study does not run (its {CATEGORICAL} labels: "
                          f"{'; '.join(labels[CATEGORICAL])}; its {SPARSE} labels: "
                          f"{'; '.join(labels[SPARSE])})")

    accuracy = paired_difference(results, "group", SPARSE, CATEGORICAL, "test_accuracy")
    loss = paired_difference(results, "group", SPARSE, CATEGORICAL, "test_loss")
    table = accuracy.merge(loss, on="label", suffixes=(" accuracy", " loss")).set_index("label")
    table = pd.DataFrame({
        "Δ accuracy (mean ± 95% CI)": [style.mean_ci(m, c, 4) for m, c in
                                       zip(table["mean accuracy"], table["ci accuracy"])],
        "Δ loss (mean ± 95% CI)": [style.mean_ci(m, c, 4) for m, c in
                                   zip(table["mean loss"], table["ci loss"])],
        "interval excludes 0": [", ".join(name for name, excluded in
                                          (("accuracy", a), ("loss", b)) if excluded) or "neither"
                                for a, b in zip(table["excludes_zero accuracy"],
                                                table["excludes_zero loss"])],
        "seeds": table["seeds accuracy"]}, index=pd.Index(table.index, name="model"))
    return [
        "### Is sparse really better? The paired difference",
        "Same seed means same initial weights, same data order and same dropout masks, so the "
        "only thing that differs between a Figure 4 run and its Figure 5 twin is the loss "
        "function. Sparse minus categorical, mean ± 95% CI over seeds:",
        table,
        _equivalence(loss, accuracy, results, study),
    ]


def _equivalence(paired_loss: "pd.DataFrame", paired_accuracy: "pd.DataFrame",
                 results: "pd.DataFrame", study: "Study") -> str:
    """Markdown: the paired differences beside the published gaps and the seed-to-seed spread."""
    published_gap = (study.published[SPARSE].frame.set_index("description")["accuracy"]
                     - study.published[CATEGORICAL].frame.set_index("description")["accuracy"])
    seed_spread = results[results["group"] == CATEGORICAL].groupby("label")["test_accuracy"]\
        .std().mean()
    real_loss = paired_loss[paired_loss["excludes_zero"]]
    real_acc = paired_accuracy[paired_accuracy["excludes_zero"]]
    largest = paired_accuracy.loc[paired_accuracy["mean"].abs().idxmax()]
    better = int((paired_accuracy["mean"] > 0).sum())
    runs = {group: results[results["group"] == group].set_index(["label", "seed"])
            for group in (CATEGORICAL, SPARSE)}
    seed_gap = {metric: float((runs[SPARSE][metric] - runs[CATEGORICAL][metric]).abs().max())
                for metric in ("test_loss", "test_accuracy")}
    return "\n".join([
        "- For one-hot labels, categorical and sparse categorical cross-entropy are the same "
        "function: −log p(true class). Any difference can only come from arithmetic order.",
        f"- Seed for seed, the two losses' runs differ by at most {seed_gap['test_loss']:.2g} in "
        f"test loss and {seed_gap['test_accuracy']:.2g} in test accuracy"
        + (": compiled with the rest of the training step, both reduce to the same arithmetic."
           if max(seed_gap.values()) < 1e-6 else "."),
        f"- Test accuracy is higher with sparse for {better} of {len(paired_accuracy)} variants; "
        f"the largest mean difference is {largest['mean']:+.4f} ± {largest['ci']:.4f} "
        f"({text(largest['label'])}).",
        f"- The 95% interval of the paired difference excludes zero for {len(real_acc)} of "
        f"{len(paired_accuracy)} variants in accuracy and {len(real_loss)} of {len(paired_loss)} "
        "in loss" + (f" ({text(', '.join(real_acc['label']))})" if len(real_acc) else "") + "."
        + (" With this many comparisons a few such intervals are expected by chance alone."
           if len(real_acc) + len(real_loss) else ""),
        "- The study's claim that sparse categorical cross-entropy \"saw much more improvement\" "
        + ("is not supported by these runs." if len(real_acc) <= 1 else "needs a closer look: "
           f"{len(real_acc)} variants differ beyond their interval."),
        f"- The published accuracy gaps between Figure 5 and Figure 4 range from "
        f"{published_gap.min():+.3f} to {published_gap.max():+.3f} (mean {published_gap.mean():+.4f}); "
        f"the same model's test accuracy moves by {seed_spread:.4f} (standard deviation) from one "
        "seed to the next here. Single runs per cell, as in the study, cannot tell such gaps from "
        "seed noise.",
    ])


@ANALYSES.add("001.twin_deltas")
def twin_deltas(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Figures 4 and 5 print the same ten settings under two names of one loss function, each
    with its loss difference from its own baseline run: the study's two single runs of one
    setting, set beside each other and beside our interval for Figure 5's differences."""
    import pandas as pd

    from mnistlab.analysis.compare import agreement_of

    require(study, results, groups=[CATEGORICAL, SPARSE], published=[CATEGORICAL, SPARSE])
    frames = {group: study.published[group].frame.set_index("description")
              for group in (CATEGORICAL, SPARSE)}
    agreement = agreement_of(results, study.published)
    ours = agreement[(agreement["table"] == SPARSE) & (agreement["column"] == "loss_delta")] \
        .set_index("row")
    shared = [key for key in frames[SPARSE].index if key in frames[CATEGORICAL].index
              and pd.notna(frames[SPARSE].at[key, "loss_delta"])]
    if not shared or ours.empty:
        return []
    rows = []
    for key in shared:
        four, five = (float(frames[g].at[key, "loss_delta"]) for g in (CATEGORICAL, SPARSE))
        row = ours.loc[key] if key in ours.index and ours.at[key, "n"] > 0 else None
        rows.append({"setting": text(key), "Figure 4 loss +/-": f"{four:+.3f}",
                     "Figure 5 loss +/-": f"{five:+.3f}",
                     "Figure 5 − Figure 4": f"{five - four:+.3f}",
                     "ours, one run's interval": "–" if row is None else
                     f"{row['mean']:+.4f} [{row['pi_low']:+.4f}, {row['pi_high']:+.4f}]",
                     "Figure 5 verdict": "–" if row is None else row["verdict"].replace("_", " "),
                     "_gap": five - four, "_far": row is not None and row["verdict"] == "far"})
    table = pd.DataFrame(rows).set_index("setting")
    base = {g: float(frames[g].at["Baseline", "loss"]) for g in (CATEGORICAL, SPARSE)}
    far = table[table["_far"]]
    shift = float(table["_gap"].mean())
    sentence = (
        f"Categorical and sparse categorical cross-entropy are one function on these labels "
        f"(section above), so each row is one setting run twice by the study. Its two printed "
        f"loss differences disagree by up to {table['_gap'].abs().max():.3f}, and Figure 5's are "
        f"{abs(shift):.4f} {'lower' if shift < 0 else 'higher'} on average: its baseline run "
        f"prints {base[SPARSE]:.3f} against Figure 4's {base[CATEGORICAL]:.3f}, and every "
        "difference in Figure 5 is taken from that one run.")
    if len(far):
        sentence += (f" The far Figure 5 difference{'s' if len(far) > 1 else ''} ("
                     + "; ".join(f"{k}: {table.loc[k, 'Figure 5 loss +/-']}" for k in far.index)
                     + f") {'are' if len(far) > 1 else 'is'} not repeated by the study's own "
                     f"Figure 4 twin{'s' if len(far) > 1 else ''} ("
                     + "; ".join(table.loc[k, "Figure 4 loss +/-"] for k in far.index)
                     + "): the study's two runs of one setting disagree that much, so we read "
                     "them as its run-to-run noise around Figure 5's baseline, not as an effect "
                     "of the setting.")
    return ["### Figure 5's loss differences beside Figure 4's",
            "Each setting's loss difference from its figure's baseline, as Figures 4 and 5 print "
            "them, and ours for Figure 5 with the interval of a difference of two independent "
            "single runs (how the published differences are judged):",
            table.drop(columns=["_gap", "_far"]), sentence]
