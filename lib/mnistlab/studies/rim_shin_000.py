"""Study 000 (Rim & Shin, depth): the one claim its conclusion makes, tested on our runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mnistlab.studies import Analyses, require

if TYPE_CHECKING:
    import pandas as pd

    from mnistlab.notebook.study import Study


ANALYSES = Analyses("000")


@ANALYSES.add("000.depth_claim")
def depth_claim(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """"An increase in the number of hidden layers does not always guarantee an improvement in
    performance": supported when no deeper network beats a shallower one significantly, i.e.
    test accuracy does not rise significantly with depth."""
    from mnistlab.analysis.stats import spearman, summarise
    from mnistlab.present import style

    runs = results.assign(hidden_layers=results["hidden"].map(len))
    require(study, runs, levels={"hidden_layers": 2})
    rho, p_value = spearman(runs["hidden_layers"], runs["test_accuracy"])
    summary = summarise(runs, ["hidden_layers"], ["test_accuracy"])
    best = summary.loc[summary["test_accuracy_mean"].idxmax()]
    significant = p_value < 0.05
    if significant and rho > 0:
        verdict = "is **not supported** here: test accuracy rises with depth"
    elif significant:
        verdict = "is **supported** here: test accuracy falls with depth"
    else:
        verdict = ("is **supported** here: test accuracy shows no significant trend with "
                   "depth")
    return [
        "### The study's conclusion",
        f"The study concludes that more hidden layers do not always improve performance. This "
        f"{verdict} (Spearman ρ = {rho:+.2f}, p = {p_value:.2g} over {len(runs)} runs); the best "
        f"mean test accuracy is at {style.count(int(best['hidden_layers']), 'hidden layer')}, "
        f"{best['test_accuracy_mean']:.4f} ± {best['test_accuracy_ci']:.4f} (95% CI of the mean).",
    ]


@ANALYSES.add("000.time_trend")
def time_trend(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Table 1's training times against ours: both trends with depth, each worded by its test.

    Ours is CPU time (robust to other work on the machine); the published one is wall time
    on an unnamed machine, so only the direction and strength of the trend compare."""
    from mnistlab.present.conclusions import trend

    runs = results.assign(hidden_layers=results["hidden"].map(len))
    require(study, runs, levels={"hidden_layers": 2}, published=["table1"])
    published = study.published["table1"].frame
    return [
        "### Training time and depth",
        "- Published (Table 1, one run per depth, wall time): "
        + trend(published, "hidden_layers", "training_time_s", "depth", "training time"),
        "- Ours (every seed, CPU time of the training loop): "
        + trend(runs, "hidden_layers", "train_cpu_s", "depth", "training time")
        + " Early stopping ends each run at a different epoch, so the time per epoch is "
        "the cleaner figure: "
        + trend(runs.assign(per_epoch=runs["train_cpu_s"] / runs["epochs_run"]),
                "hidden_layers", "per_epoch", "depth", "CPU time per epoch"),
    ]
