"""Study 002 (Abhinav): ~600-parameter networks fitting sin(5πx)/(5πx), and MNIST dynamics.

Its params switch these on: ``002.equal_size``, ``002.fit_claims`` and ``002.minimal_ratio``
(experiment ``function_fit``), ``002.model_pairs`` and ``002.dynamics`` (experiment
``dynamics``).  They rely on the study's configuration names (``model1``, ``model2``,
``model3``, the controls ``model1_300`` and ``model3_tanh``, the dynamics run ``gd_relu``),
named here and nowhere else.  The study publishes no measured numbers, only claims read off
unlabelled plots; each claim is put to our runs with the statistic that decides it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mnistlab.studies import Analyses, require

if TYPE_CHECKING:
    import pandas as pd

    from mnistlab.notebook.study import Study


ANALYSES = Analyses("002")

SHALLOW, DEEP, SIGMOID, TANH_TWIN, AS_WRITTEN = "model1", "model2", "model3", "model3_tanh", "model1_300"
MNIST_1, MNIST_2, MNIST_3, DYNAMICS = "model1", "model2", "model3", "gd_relu"
FLAT = 1e-6  # |λ| ≤ FLAT · max|λ|: flat to the precision of a float32 Hessian
CURVED = 1e-4  # |λ| > CURVED · max|λ|: clearly curved (the Newton steps' cutoff)
CHECKPOINTS = (1000, 5000)  # iterations at which the fit's loss is read off


def _runs(results: "pd.DataFrame", name: str) -> "pd.DataFrame":
    return results[results["name"] == name]


def _log_mse(results: "pd.DataFrame", name: str, metric: str = "test_loss") -> "pd.Series":
    import numpy as np

    runs = _runs(results, name)
    return np.log10(runs.set_index("seed")[metric].astype(float))


def _geometric(values: "pd.Series") -> str:
    """A log10 sample as its geometric mean ×/÷ the 95% CI factor of that mean."""
    from mnistlab.analysis.stats import spread

    s = spread(values)
    return f"{10 ** s.mean:.2e} ×/÷ {10 ** s.ci:.2g}" if s.n > 1 else f"{10 ** s.mean:.2e}"


def _ratio(difference) -> str:
    """A difference of log10 means as the ratio of geometric means with its 95% CI."""
    low, high = 10 ** (difference.mean - difference.ci), 10 ** (difference.mean + difference.ci)
    return f"{10 ** difference.mean:.3g} (95% CI {low:.3g}–{high:.3g})"


# The comparisons of ``equal_size``: (a, b, paired by seed, what it tests), a against b.
FIT_COMPARISONS = {
    "depth": (DEEP, SHALLOW, False, "Depth, equal size (the study's Model 1 against Model 2)"),
    "written": (DEEP, AS_WRITTEN, False,
                "Depth against the 300-unit network as written (901 parameters)"),
    "activation": (TANH_TWIN, SIGMOID, True, "tanh against sigmoid, same 60-8-6 network and same "
                   "initial weights (paired by seed)"),
    "study": (DEEP, SIGMOID, False, "The study's own comparison, Model 2 (50-10-4, tanh) against "
              "Model 3 (60-8-6, sigmoid), which changes the layer sizes as well as the activation"),
}


def _compare_fit(results: "pd.DataFrame", a: str, b: str, paired: bool) -> tuple[str, bool | None]:
    """How ``a``'s test MSE compares with ``b``'s: a sentence and whether ``a`` is
    significantly better (True), worse (False) or neither (None)."""
    from mnistlab.analysis.stats import ALPHA, paired_by_seed, welch_difference

    la, lb = _log_mse(results, a), _log_mse(results, b)
    difference = paired_by_seed(la, lb) if paired else welch_difference(la, lb)
    test = "paired t-test over seeds" if paired else "Welch t-test on log10 MSE"
    label = {n: _runs(results, n)["label"].iloc[0] for n in (a, b)}
    where = (f"test MSE ratio {label[a]} / {label[b]} = {_ratio(difference)}, {test} "
             f"p = {difference.p_value:.2g}, {difference.n_a} and {difference.n_b} runs")
    if difference.p_value < ALPHA:
        better = difference.mean < 0
        return (f"**{label[a] if better else label[b]}** fits significantly better ({where}).",
                better)
    return f"no significant difference between {label[a]} and {label[b]} ({where}).", None


@ANALYSES.add("002.equal_size")
def equal_size(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Does depth fit better at an equal parameter count, and does tanh beat sigmoid?"""
    import pandas as pd

    from mnistlab.analysis.derived import weights_without_biases
    from mnistlab.analysis.stats import spread

    require(study, results, any_configuration=[(a, b) for a, b, _, _ in FIT_COMPARISONS.values()])
    rows = []
    for name, runs in results.groupby("name", sort=False):
        first = runs.iloc[0]
        log_test, log_train = _log_mse(results, name), _log_mse(results, name, "train_loss")
        rows.append({"configuration": first["label"],
                     "weights without biases": weights_without_biases(1, list(first["hidden"]), 1),
                     "parameters": int(first["parameters"]),
                     "test MSE (geometric mean ×/÷ CI)": _geometric(log_test),
                     "last-epoch training MSE": _geometric(log_train),
                     "seeds": spread(log_test).n})
    table = pd.DataFrame(rows).set_index("configuration")
    ran = set(results["name"])
    lines, better = [], {}
    for key, (a, b, paired, heading) in FIT_COMPARISONS.items():
        if {a, b} <= ran:  # a variant may keep only some of the five networks
            sentence, better[key] = _compare_fit(results, a, b, paired=paired)
            lines.append(f"- **{heading}:** {sentence}")
    concluded = []
    if "depth" in better:
        concluded.append("that more layers fit better (supported here "
                         + ("" if better["depth"] else "**not** ") + "at the 5% level)")
    if "activation" in better:
        concluded.append("that Model 3 fits worse because of its sigmoid activation (the paired "
                         "control " + ("supports" if better["activation"] else
                                       "does **not** support") + " the activation as the cause)")
    if concluded:
        lines.append("- The study concludes " + " and ".join(concluded) + ".")
    return [
        "### Depth at an equal parameter count, and tanh against sigmoid",
        f"Fit quality is the mean squared error on the {study.settings['test_samples'] or 'test'} "
        "test points, which lie between the training points (interpolation over the whole "
        "interval). MSEs span orders of magnitude across seeds, "
        "so they are compared on a log scale: geometric means, and ratios of geometric means "
        "with their 95% confidence interval.",
        table,
        "\n".join(lines),
    ]


@ANALYSES.add("002.fit_claims")
def fit_claims(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """The study's reading of its Figures 1-6: a near-linear Model 1, a loss that 'converges to 0
    very quickly' after ~1,000 iterations, and a gradient norm that goes to zero with it."""
    import numpy as np
    import pandas as pd

    from mnistlab.present.dynamics_plots import probed

    runs = probed(study.probes(results), "loss_step", "grad_norm_step", "inputs", "targets")
    if not runs:
        return ["The runs recorded no per-step loss and gradient norm: nothing to check."]
    x, y = runs[0][1]["inputs"][:, 0], runs[0][1]["targets"][:, 0]
    line = np.polyval(np.polyfit(x, y, 1), x)
    line_mse = float(np.mean((line - y) ** 2))
    rows = []
    for label in dict.fromkeys(row["label"] for row, _ in runs):
        mine = [a for row, a in runs if row["label"] == label]
        steps = len(mine[0]["loss_step"])
        row = {"configuration": label}
        for at in [c for c in CHECKPOINTS if c < steps] + [steps]:
            row[f"MSE at {at:,}"] = np.median([a["loss_step"][at - 1] for a in mine])
        row["MSE of the best straight line"] = line_mse
        first = np.median([a["grad_norm_step"][0] for a in mine])
        last = np.median([a["grad_norm_step"][-1] for a in mine])
        row["gradient norm, first → last update"] = f"{first:.2g} → {last:.2g}"
        row["last / first"] = last / first
        rows.append(row)
    table = pd.DataFrame(rows).set_index("configuration")
    mse_columns = [c for c in table.columns if c.startswith("MSE")]
    shown = table.copy()
    shown[mse_columns] = shown[mse_columns].map("{:.2e}".format)
    shown["last / first"] = shown["last / first"].map("{:.1e}".format)
    final = mse_columns[-2]
    linear = table.index[table[final] > line_mse / 2].tolist()
    early = table[mse_columns[0]] / table[final]
    return [
        "### The study's reading of its fits, checked",
        "Medians over seeds, read off the per-update loss and gradient norm each run recorded:",
        shown,
        "\n".join([
            f"- *\"The prediction line is more as of linear\"* (Model 1): the best straight line "
            f"through the target has MSE {line_mse:.3f}; "
            + (f"{', '.join(linear)} come within a factor 2 of it, so their fits are nearly "
               "straight lines." if linear else
               "every network ends at least two times below it, so none of the fits is a "
               "straight line; Model 1's is worse than the deep ones, but curved."),
            f"- *\"Iteration: 1000 (until the loss tends to zero)\"*: from iteration "
            f"{CHECKPOINTS[0]:,} to the last the median MSE still falls by a factor of "
            f"{_factor(early.min())} to {_factor(early.max())} depending on the network, so the loss had "
            "not stopped at 1,000 iterations: it falls quickly at first, then keeps falling "
            "slowly on a log scale (figure above).",
            "- *\"The gradient norm also reaches to zero as the loss does\"*: the last update's "
            f"gradient norm is {table['last / first'].min():.1e} to "
            f"{table['last / first'].max():.1e} of the first one's: it falls with the loss, "
            "by orders of magnitude, though never to zero.",
        ]),
    ]


def _factor(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


@ANALYSES.add("002.minimal_ratio")
def minimal_ratio(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Figure 14's "minimal ratio" at points of near-zero gradient, beside the share of flat
    directions and the signs of the curved ones, which decide what the ratio can mean."""
    import numpy as np
    import pandas as pd

    from mnistlab.analysis.dynamics import near_zero_share, ratio_beyond
    from mnistlab.present.dynamics_plots import probed
    from mnistlab.analysis.stats import ALPHA, spearman, spread

    runs = probed(study.probes(results), "critical_eigenvalues", "critical_grad_norm",
                  "minimal_ratio")
    if not runs:
        return ["No run recorded a critical point: add `critical` to the probes."]
    frame = pd.DataFrame([{
        "label": row["label"], "seed": row["seed"],
        "norm_before": float(a["critical_grad_norm"][0]),
        "norm_after": float(a["critical_grad_norm"][-1]),
        "loss": float(a["critical_loss"]), "ratio": float(a["minimal_ratio"]),
        "flat": near_zero_share(a["critical_eigenvalues"], FLAT),
        "curved": ratio_beyond(a["critical_eigenvalues"], CURVED),
        "lowest": float(a["critical_eigenvalues"][0] / np.abs(a["critical_eigenvalues"]).max())}
        for row, a in runs])
    rows = []
    for label, part in frame.groupby("label", sort=False):
        ratio = spread(part["ratio"])
        rows.append({"configuration": label,
                     "‖∇L‖ trained → critical": f"{part['norm_before'].median():.2g} → "
                                                f"{part['norm_after'].median():.2g}",
                     "loss there": f"{part['loss'].median():.2e}",
                     "minimal ratio": f"{ratio.mean:.3f} ± {ratio.ci:.3f}",
                     f"flat (|λ| ≤ {FLAT:g}·max)": f"{part['flat'].mean():.0%}",
                     f"positive among |λ| > {CURVED:g}·max": f"{part['curved'].mean():.3f}",
                     "lowest λ / max|λ|": f"{part['lowest'].median():.1e}",
                     "runs": len(part)})
    table = pd.DataFrame(rows).set_index("configuration")
    rho, p_value = spearman(frame["ratio"], np.log10(frame["loss"]))
    trend = (f"the minimal ratio {'rises' if rho > 0 else 'falls'} with the loss (Spearman "
             f"ρ = {rho:+.2f}, p = {p_value:.2g}, {len(frame)} runs)" if p_value < ALPHA else
             f"the minimal ratio shows no significant monotonic trend with the loss (Spearman "
             f"ρ = {rho:+.2f}, p = {p_value:.2g}, {len(frame)} runs)")
    shrunk = float((frame["norm_after"] / frame["norm_before"]).median())
    all_up = bool((frame["curved"] == 1).all())
    return [
        "### Minimal ratio: what the Hessian says at points of near-zero gradient",
        "How the points are found: training ends near, but not exactly at, a point where the "
        "gradient vanishes. From the trained weights we take Newton steps on the gradient: "
        "w ← w − H⁺∇L, with H the Hessian (H⁺ its pseudo-inverse over the directions that "
        "curve). This is the Gauss-Newton step for minimising the squared gradient norm ‖∇L‖², "
        "so it heads for the nearest point where the gradient vanishes, minimum or saddle "
        "alike; a step is kept only if it lowers the gradient norm. There the exact Hessian of "
        "the loss over every training point is computed (each second derivative, by "
        "differentiating the gradient) and its eigenvalues taken. The *minimal ratio* is the "
        "share of them that are positive: 1 at a strict local minimum, lower at a saddle. The "
        "trained weights are restored afterwards. Medians and means over seeds:",
        table,
        "\n".join([
            f"- The Newton steps shrank the gradient norm by a median factor of {1 / shrunk:.3g}.",
            f"- Most eigenvalues are nearly zero: on average {frame['flat'].mean():.0%} of them "
            f"lie within {FLAT:g} × the largest magnitude of zero, which is the rounding of a "
            "float32 Hessian. Those are directions in which the loss is flat, and their signs "
            "are rounding as much as curvature: a minimal ratio near 0.5 then says *flat*, not "
            "*saddle*.",
            (f"- Every eigenvalue larger than {CURVED:g} × the largest is positive in every run"
             f", and the most negative one is at most {abs(frame['lowest'].min()):.1e} of the "
             "largest: where the loss curves at all, it curves upwards. By the Hessian these "
             "points are minima with many flat directions, not saddles." if all_up else
             f"- Among eigenvalues larger than {CURVED:g} × the largest, on average "
             f"{1 - frame['curved'].mean():.1%} are negative (most negative: "
             f"{abs(frame['lowest'].min()):.1e} of the largest): some of these points curve "
             "downwards in a few directions, so they are saddles, or not yet critical."),
            f"- Against the loss (Figure 14): {trend}.",
        ]),
    ]


def _final(results: "pd.DataFrame", name: str, key: str) -> "pd.Series":
    runs = _runs(results, name)
    return runs.set_index("seed")["history"].map(lambda h: h[key][-1])


@ANALYSES.add("002.model_pairs")
def model_pairs(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Figures 7-10: Model 1 against Model 2 and against Model 3, loss and accuracy by epoch,
    and the study's reading of them (Model 1 beats 2 but 2 is catching up; 3 beats 1)."""
    import numpy as np
    import pandas as pd

    from mnistlab.present.dynamics_plots import epoch_curves
    from mnistlab.analysis.stats import ALPHA, spread, welch_difference

    require(study, results, configurations=[MNIST_1], any_configuration=[MNIST_2, MNIST_3],
            curves=["loss", "accuracy", "val_accuracy"])
    ran = set(results["name"])
    others = [(other, figures) for other, figures in ((MNIST_2, "7 and 8"), (MNIST_3, "9 and 10"))
              if other in ran]  # a variant may keep only one of the two
    models = [MNIST_1] + [other for other, _ in others]
    items: list[Any] = ["### Figures 7–10: Model 1 against Models 2 and 3",
                        "Loss and accuracy over each epoch's training batches, as the study "
                        "plots them: mean over seeds with its 95% band."]
    for other, figures in others:
        pair = results[results["name"].isin([MNIST_1, other])]
        items.append(epoch_curves(pair, ["loss", "accuracy"], ["training loss", "training accuracy"],
                                  title=f"Model 1 against Model {other[-1]} (Figures {figures})"))
    rows = []
    for name in models:
        runs = _runs(results, name)
        row = {"model": runs["label"].iloc[0]}
        for column, values in (("training loss", _final(results, name, "loss")),
                               ("validation accuracy", _final(results, name, "val_accuracy")),
                               ("test accuracy", runs.set_index("seed")["test_accuracy"])):
            s = spread(values)
            row[column] = f"{s.mean:.4f} ± {s.ci:.4f}"
        row["seeds"] = len(runs)
        rows.append(row)
    test = {n: _runs(results, n).set_index("seed")["test_accuracy"] for n in models}
    last = min(5, int(results["epochs_run"].min()))
    epochs = int(_runs(results, MNIST_1)["epochs_run"].iloc[0])
    claims = []
    if MNIST_2 in ran:
        one_two = welch_difference(test[MNIST_1], test[MNIST_2])
        slopes = {n: _runs(results, n)["history"].map(lambda h: np.polyfit(
            np.arange(last), np.asarray(h["val_accuracy"][-last:]), 1)[0]) for n in (MNIST_1, MNIST_2)}
        catch = welch_difference(slopes[MNIST_2], slopes[MNIST_1])
        gap = one_two.mean
        closing = (f" At that rate the gap of {gap:.3f} would close in about {gap / catch.mean:.0f} "
                   "more epochs (an extrapolation, not a measurement)." if catch.mean > 0 and gap > 0
                   else "")
        claims += [
            f"- *\"Model 1 shows a better improvement than Model 2\"*: Model 1's test accuracy "
            f"is {gap:+.4f} ± {one_two.ci:.4f} above Model 2's (Welch p = {one_two.p_value:.2g})"
            + (": supported." if gap > 0 and one_two.p_value < ALPHA else ": not supported."),
            f"- *\"Model 2 ... will surely surpass Model 1\"*: over the last {last} epochs Model 2's "
            f"validation accuracy changes by {catch.mean:+.4f} ± {catch.ci:.4f} per epoch "
            f"relative to Model 1's (Welch p = {catch.p_value:.2g})"
            + (", so it is catching up." if catch.mean > 0 and catch.p_value < ALPHA
               else ", so it is not measurably catching up.") + closing,
        ]
    if MNIST_3 in ran:
        one_three = welch_difference(test[MNIST_3], test[MNIST_1])
        claims.append(
            f"- *\"The model which out-performed Model 2 previously fails to impress when compared "
            f"with Model 3\"*: Model 3's test accuracy is {one_three.mean:+.4f} ± "
            f"{one_three.ci:.4f} against Model 1's (Welch p = {one_three.p_value:.2g})"
            + (": supported, Model 3 is better." if one_three.mean > 0 and one_three.p_value < ALPHA
               else ": not supported."))
    items += [
        f"Means ± 95% CI over seeds after the last epoch ({epochs}):",
        pd.DataFrame(rows).set_index("model"),
        "\n".join(claims),
    ]
    return items


@ANALYSES.add("002.dynamics")
def dynamics(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Figures 11-13 in numbers: where the weight paths go, and whether the gradient norm
    goes to zero with the loss as the study says."""
    import numpy as np
    import pandas as pd

    from mnistlab.present.dynamics_plots import probed
    from mnistlab.analysis.stats import spearman, spread

    require(study, results, configurations=[DYNAMICS])
    runs = [(row, a) for row, a in probed(study.probes(results), "grad_norm_step", "loss_step",
                                               "weights")
            if row["name"] == DYNAMICS]
    if not runs:
        return [f"No run of {DYNAMICS} recorded weights, losses and gradient norms."]
    per_epoch = int(runs[0][1]["steps_per_epoch"][0])
    rows = []
    for row, a in runs:
        norms, losses = a["grad_norm_step"], a["loss_step"]
        rho, _ = spearman(norms, losses)
        epochs = len(norms) // per_epoch
        at = (2 * epochs // 3) * per_epoch
        rows.append({"seed": row["seed"], "peak": norms.max(), "peak_step": int(norms.argmax()) + 1,
                     "last_epoch": float(norms[-per_epoch:].mean()),
                     "two_thirds": float(norms[at - per_epoch:at].mean()) if at else np.nan,
                     "rho": rho,
                     "loss_first": float(losses[:per_epoch].mean()),
                     "loss_last": float(losses[-per_epoch:].mean())})
    frame = pd.DataFrame(rows)
    weights = np.stack([a["weights"] for _, a in runs])  # runs × snapshots × weights
    start = _mean_distance(weights[:, 0])
    end = _mean_distance(weights[:, -1])
    travelled = np.linalg.norm(weights[:, -1] - weights[:, 0], axis=1)
    rho = spread(frame["rho"])
    drop = spread(frame["last_epoch"] / frame["peak"])
    late = spread(frame["last_epoch"] / frame["two_thirds"])
    epochs = int(runs[0][0]["epochs_run"])
    return [
        "### Figures 11–13 in numbers",
        "\n".join([
            f"- **Gradient norm (Figure 12):** it peaks at update {int(frame['peak_step'].median())} "
            f"(median over {len(frame)} runs), then falls; in the last epoch it averages "
            f"{drop.mean:.2f} ± {drop.ci:.2f} of its peak"
            + (f", and {late.mean:.2f} ± {late.ci:.2f} of what it was in epoch "
               f"{2 * epochs // 3}: "
               + ("it has levelled off" if abs(late.mean - 1) < 0.2 else "it is still falling")
               if late.n else "")
            + ". Each update's gradient comes from one mini-batch, so it stays noisy and does "
            "not reach zero, while the loss keeps falling (from "
            f"{frame['loss_first'].median():.3f} in the first epoch to "
            f"{frame['loss_last'].median():.3f} in the last).",
            f"- **Loss and gradient norm together (Figures 12–13):** the per-update loss and "
            f"gradient norm have Spearman ρ = {rho.mean:+.2f} ± {rho.ci:.2f} (mean over runs): "
            + ("they do move together, as the study says"
               if rho.mean - rho.ci > 0.3 else "they do not move in step")
            + (f", though the gradient norm first rises (to update "
               f"{int(frame['peak_step'].median())}) while the loss falls fastest."
               if frame["peak_step"].median() > 1 else "."),
            f"- **Weight paths (Figure 11):** the runs start {start:.1f} apart in weight space "
            f"(mean distance between seeds' initial weights) and end {end:.1f} apart, having "
            f"each moved {np.median(travelled):.1f} (median), "
            f"{np.median(travelled) / start:.0%} of the distance between starts. "
            + ("They end no closer together than they started: each seed settles in its own "
               "region, as the separate paths of the PCA show." if end >= 0.9 * start else
               "They end closer together than they started."),
        ]),
    ]


def _mean_distance(points: Any) -> float:
    import numpy as np

    count = len(points)
    return float(np.mean([np.linalg.norm(points[i] - points[j])
                          for i in range(count) for j in range(i + 1, count)]))
