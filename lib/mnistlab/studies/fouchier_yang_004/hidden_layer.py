"""Study 004 (Fouchier & Yang), Section V.B: what its text claims about Table I (activations),
Table II (widths) and their validation curves (Figures 3 and 4), tested on our runs.

The params switch these on with ``analyses: [004.activation_claims, 004.hidden_layer_curves,
004.training_length]`` (activation) and ``[004.width_claims, 004.hidden_layer_curves,
004.training_length]`` (width).  They rely on the study's configuration groups ("Table I",
"Table II", "best network", and "longer" for the runs trained to 150 epochs with test curves), its run names (relu,
sigmoid, tanh; 16...128) and the text's "around 99.75%", named here and nowhere else.  Every
verdict is chosen by a statistic printed beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mnistlab.studies import Analyses, require

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mnistlab.notebook.study import Study


ANALYSES = Analyses("004")

TABLE1, TABLE2, BEST = "Table I", "Table II", "best network"
PUBLISHED_ROWS = {TABLE1: ("table1", "activation_function"), TABLE2: ("table2", "neuron_numbers")}
ACTIVATION_PUBLISHED = "004_fouchier_yang_activation.yaml"
CLAIMED_VAL_ACCURACY = 0.9975  # "all of them have almost the same accuracy ... at around 99.75%"
NEAR = 0.001  # "around": within 0.1 percentage point, about what one reads off their plots
SMOOTHNESS_ORDER = ("sigmoid", "tanh", "relu")  # "sigmoid ... most smooth, tanh ... median, relu ... least"
TAIL = 0.5  # roughness is measured over the last half of the epochs, past the early steep fall
ALPHA = 0.05


def _pp(value: float, signed: bool = False, digits: int = 3) -> str:
    """A fraction as percentage points."""
    return f"{100 * value:{'+' if signed else ''}.{digits}f}"


def _curves(runs: "pd.DataFrame", key: str) -> "np.ndarray":
    """Runs × epochs of one epoch log (runs of one setting share their epoch count here)."""
    import numpy as np

    return np.array([row[key] for row in runs["history"]], dtype=float)


def _versus(runs: "pd.DataFrame", reference: str, metric: str) -> "pd.DataFrame":
    """``reference`` − each other setting (by name), paired by seed, with the Holm-adjusted
    p-value of the whole family of pairs."""
    import pandas as pd

    from mnistlab.analysis.stats import pairwise_differences

    pairs = pairwise_differences(runs, "name", metric)
    rows = []
    for _, row in pairs.iterrows():
        if reference not in (row["first"], row["second"]):
            continue
        sign = 1 if row["first"] == reference else -1
        rows.append({"other": row["second"] if sign == 1 else row["first"],
                     "mean": sign * row["mean"], "ci": row["ci"], "seeds": row["seeds"],
                     "p_holm": row["p_holm"]})
    return pd.DataFrame(rows)


@ANALYSES.add("004.activation_claims")
def activation_claims(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """"The network using relu activation function has the highest accuracy on the test set"
    (Table I), and "sigmoid has the most smooth [loss] curve, tanh has the median, while relu
    has the least smooth" (Figure 3): both tested on the seed-paired runs."""
    import pandas as pd

    from mnistlab.analysis.stats import pairwise_differences, spread

    require(study, results, groups=[TABLE1], published=["table1"])
    runs = results[results["group"] == TABLE1]
    require(study, runs, configurations=["relu"], levels={"name": 2}, curves=["val_loss"])
    means = runs.groupby("name", sort=False)["test_accuracy"].mean().sort_values(ascending=False)
    versus = _versus(runs, "relu", "test_accuracy")
    beyond = versus[versus["p_holm"] < ALPHA]
    top = means.index[0]
    if top != "relu" and float(versus.loc[versus["other"] == top, "p_holm"].iloc[0]) < ALPHA:
        verdict = (f"is **not supported**: {top} beats it beyond seed noise ({_pp(means.iloc[0])}% "
                   f"against relu's {_pp(means['relu'])}%)")
    elif top != "relu":
        verdict = (f"is **not resolved**: {top}'s mean is as high ({_pp(means.iloc[0])}% against "
                   f"relu's {_pp(means['relu'])}%, a difference within seed noise)")
    elif len(beyond) == len(versus):
        others = ("both others" if len(versus) == 2 else "the other" if len(versus) == 1
                  else f"all {len(versus)} others")  # a variant may keep fewer activations
        verdict = f"is **supported**: relu's mean is highest and beyond seed noise against {others}"
    else:
        verdict = ("is **not resolved**: relu's mean is highest, but not beyond seed noise against "
                   + ", ".join(versus.loc[versus["p_holm"] >= ALPHA, "other"]))
    relu_lines = "\n".join(
        f"- relu − {row['other']}: {_pp(row['mean'], True)} ± {_pp(row['ci'])} percentage points "
        f"(95% CI, {row['seeds']} seeds; Holm p = {row['p_holm']:.2g})"
        for _, row in versus.iterrows())

    from mnistlab.analysis.curves import roughness

    rough = runs.assign(roughness=runs["history"].map(lambda h: roughness(h["val_loss"], TAIL)))
    table = pd.DataFrame([{"activation": name, **_seed_spread(group["roughness"], spread)}
                          for name, group in rough.groupby("name", sort=False)]).set_index("activation")
    order = tuple(table["mean"].sort_values().index)
    pairs = pairwise_differences(rough, "name", "roughness")
    claimed = [name for name in SMOOTHNESS_ORDER if name in table.index]
    steps = list(zip(claimed, claimed[1:]))
    resolved = [_less(pairs, a, b) for a, b in steps]
    ends = (f" Between the two ends, {claimed[0]} is smoother than {claimed[-1]} "
            f"{'beyond' if _less(pairs, claimed[0], claimed[-1]) else 'within'} seed noise."
            if len(claimed) > 2 else "")
    if order != tuple(claimed):
        smooth = (f"is **not supported**: smoothest to roughest we measure {' < '.join(order)}, "
                  f"against the study's {' < '.join(claimed)}")
    elif all(resolved):
        smooth = "is **supported**: same order, each step beyond seed noise"
    else:
        smooth = ("has the study's order but is **not resolved**: "
                  + ", ".join(f"{a} < {b} {'beyond' if ok else 'within'} seed noise"
                              for (a, b), ok in zip(steps, resolved)))
    table = table.map(lambda v: f"{v:.2e}" if isinstance(v, float) else v)
    return [
        "### Is relu best on the test set?",
        f"Table I's accuracies span {_span(study, 'table1')} percentage points. The study's "
        f"conclusion that relu has the highest test accuracy {verdict}. Seed-paired differences "
        "(same seed: same initial weights and batches, only the activation differs):",
        relu_lines,
        "### Which validation-loss curve is smoothest?",
        "Roughness of a validation-loss curve = mean |second difference| between epochs over "
        f"the last {TAIL:.0%} of training (zero for a steady rise or fall), per run; mean ± 95% CI "
        "over seeds:",
        table,
        f"The study's ranking (smoothest first: {', '.join(SMOOTHNESS_ORDER)}) {smooth}.{ends} "
        "Roughness is in loss units, so a curve at a higher loss level tends to zig-zag more in "
        "absolute terms.",
    ]


def _seed_spread(values: "pd.Series", spread: Any) -> dict[str, float]:
    """Mean, 95% CI half-width and the number of seeds, as table columns."""
    s = spread(values)
    return {"mean": s.mean, "95% CI": s.ci, "seeds": s.n}


def _less(pairs: "pd.DataFrame", low: str, high: str) -> bool:
    """Is ``low`` below ``high`` beyond seed noise (Holm-adjusted paired t-test)?"""
    row = pairs[((pairs["first"] == low) & (pairs["second"] == high))
                | ((pairs["first"] == high) & (pairs["second"] == low))]
    if row.empty:
        return False
    row = row.iloc[0]
    below = row["mean"] < 0 if row["first"] == low else row["mean"] > 0
    return bool(below and row["p_holm"] < ALPHA)


def _span(study: "Study", table: str) -> str:
    frame = study.published[table].frame
    return f"{frame['accuracy'].max() - frame['accuracy'].min():.2f}"


@ANALYSES.add("004.width_claims")
def width_claims(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """"The more the neurons, the slightly higher the accuracy value, at 0.1%", "the more the
    neurons, the slower the training" (Table II, Figure 4), the 64-unit network that Tables I
    and II print twice, and the best multiclass network of Section V.C."""
    from mnistlab.analysis.stats import spearman, spread

    require(study, results, groups=[TABLE2], published=["table2"])
    runs = results[results["group"] == TABLE2]
    runs = runs.assign(units=runs["hidden"].map(sum),
                       epoch_s=runs["train_time_s"] / runs["epochs_run"])
    require(study, runs, levels={"units": 2})
    rho, p_value = spearman(runs["units"], runs["test_accuracy"])
    narrow, wide = runs["units"].min(), runs["units"].max()
    by_seed = runs.pivot_table(index="seed", columns="units", values="test_accuracy")
    gain = spread(by_seed[wide] - by_seed[narrow])
    published = study.published["table2"].frame.set_index("neuron_numbers")["accuracy"]
    rises = p_value < ALPHA and rho > 0
    accuracy = (f"is **supported**: test accuracy rises with width (Spearman ρ = {rho:+.2f}, "
                f"p = {p_value:.2g}, {len(runs)} runs)" if rises else
                f"is **not supported** by these runs: no significant rise of test accuracy with "
                f"width (Spearman ρ = {rho:+.2f}, p = {p_value:.2g}, {len(runs)} runs)")
    t_rho, t_p = spearman(runs["units"], runs["epoch_s"])
    slower = ("rises" if t_p < ALPHA and t_rho > 0 else
              "falls" if t_p < ALPHA else "shows no significant trend")
    widths = sorted(by_seed.columns)
    steps = []
    for low, high in zip(widths, widths[1:]):
        step = spread(by_seed[high] - by_seed[low])
        steps.append(f"{low} → {high}: {_pp(step.mean, True)} ± {_pp(step.ci)}")
    printed = published.get(wide, float("nan")) - published.get(narrow, float("nan"))
    items = [
        "### Does accuracy rise with width?",
        f"The study's \"the more the neurons, the slightly higher the accuracy value, at 0.1%\" "
        f"{accuracy}. From {narrow} to {wide} units our test accuracy changes by "
        f"{_pp(gain.mean, True)} ± {_pp(gain.ci)} percentage points (seed-paired, 95% CI, "
        f"{gain.n} seeds), against the text's 0.1 and the {printed:+.2f} Table II prints. "
        f"Doubling by doubling (points, seed-paired 95% CI): {'; '.join(steps)}.",
        f"- \"The more the neurons, the slower the training\": time per epoch on this machine "
        f"{slower} with width (Spearman ρ = {t_rho:+.2f}, p = {t_p:.2g}).",
    ]
    items += _printed_twice(study, runs)
    items += _best_network(study, results)
    return items


def _printed_twice(study: "Study", runs: "pd.DataFrame") -> list[str]:
    """Table I's relu row and Table II's 64-unit row are one setting printed twice: is their gap
    what two runs of one setting give?"""
    import numpy as np
    from scipy import stats

    from mnistlab.core.paths import project_root
    from mnistlab.spec.published import load_published

    other = study.params_path.parent.parent / "published" / ACTIVATION_PUBLISHED
    if not other.is_file():
        other = project_root() / "params" / "published" / ACTIVATION_PUBLISHED
    ours = runs.loc[runs["units"] == 64, "test_accuracy"].dropna()
    if not other.is_file() or len(ours) < 2:
        return []
    relu = load_published(other)["table1"].frame.set_index("activation_function").loc["relu", "accuracy"]
    sixty_four = study.published["table2"].frame.set_index("neuron_numbers").loc[64, "accuracy"]
    # Seed noise pooled over Table II's widths: five runs of one setting estimate it poorly.
    groups = runs.groupby("units")["test_accuracy"]
    df = int((groups.count() - 1).clip(lower=0).sum())
    sd = float(np.sqrt((groups.var(ddof=1) * (groups.count() - 1)).sum() / df))
    # Two independent runs of one setting differ by a normal variable of sd s·√2; with s
    # estimated on df degrees of freedom, its 95% range is ± t(df)·s·√2.
    two_runs = float(stats.t.ppf(0.975, df) * sd * np.sqrt(2))
    gap = abs(relu - sixty_four) / 100
    differences = study.published["table2"].frame["accuracy"].diff().abs().dropna() / 100
    inside = int((differences <= two_runs).sum())
    return [
        "### One network, printed twice",
        f"Table I's relu row and Table II's 64-unit row are the same network (64 relu units, "
        f"batch 30, Adam), printed as {relu:.2f}% and {sixty_four:.2f}%. Our {len(ours)} runs of "
        f"it range from {_pp(ours.min(), digits=2)}% to {_pp(ours.max(), digits=2)}%. Pooled over "
        f"Table II's widths ({df} degrees of freedom) one run's test accuracy varies with the seed "
        f"by {_pp(sd)} points (standard deviation), so two single runs of one setting differ by up "
        f"to ±{_pp(two_runs)} points (95%). The printed gap of {100 * gap:.2f} points is "
        f"{'within' if gap <= two_runs else 'beyond'} that, and {inside} of the "
        f"{len(differences)} steps between Table II's neighbouring rows (single runs too) are "
        "within it."
        + (f" The 64-unit row's own {len(ours)} runs spread unusually little (standard deviation "
           f"{_pp(float(ours.std(ddof=1)))} points), which makes its prediction interval in the "
           "table above narrow: a published value outside it says more about that small sample "
           "than about the study." if float(ours.std(ddof=1)) < sd / 2 else ""),
    ]


def _best_network(study: "Study", results: "pd.DataFrame") -> list[str]:
    """Where the best multiclass network's validation accuracy peaked, against its 80 epochs."""
    import numpy as np

    runs = results[results["group"] == BEST]
    if runs.empty or "val_accuracy" not in runs["history"].iloc[0]:
        return []
    curve = np.nanmean(_curves(runs, "val_accuracy"), axis=0)
    loss = np.nanmean(_curves(runs, "val_loss"), axis=0)
    best = int(np.nanargmax(curve))
    low = int(np.nanargmin(loss))
    published = float(study.published["best"].frame["accuracy"].iloc[0])
    above = int((runs["test_accuracy"] >= published).sum())
    return [
        "### The best multiclass network",
        f"Mean over seeds, its validation accuracy peaks at epoch {best + 1} ({curve[best]:.4f}) "
        f"and ends at {curve[-1]:.4f} after {len(curve)}; its validation loss is lowest at epoch "
        f"{low + 1} ({loss[low]:.4f}) and ends at {loss[-1]:.4f}. {above} of our {len(runs)} runs "
        f"reach the published {published}, which the study picked as the best of a search "
        "(\"after several combinations of the parameters\"), a selection that favours a lucky run.",
    ]


@ANALYSES.add("004.hidden_layer_curves")
def hidden_layer_curves(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Figures 3 and 4 in numbers: "all of them have almost the same accuracy on the validation
    set at around 99.75%", and "the loss all increased as the epoch number increased ... but the
    accuracies remain stable"."""
    import numpy as np
    import pandas as pd

    from mnistlab.analysis.stats import spread

    require(study, results, any_group=[TABLE1, TABLE2])
    runs = results[results["group"].isin([TABLE1, TABLE2])]
    require(study, runs, curves=["val_loss", "val_accuracy"])
    rows = []
    for (group, name), part in runs.groupby(["group", "name"], sort=False):
        loss, accuracy = _curves(part, "val_loss"), _curves(part, "val_accuracy")
        low = int(np.nanargmin(np.nanmean(loss, axis=0)))
        final = spread(accuracy[:, -1])
        rise = spread(loss[:, -1] - loss[:, low])
        drift = spread(accuracy[:, -1] - accuracy[:, low])
        rows.append({"table": group, "setting": name, "epochs": loss.shape[1],
                     "final": final, "low_epoch": low + 1, "low": float(np.nanmean(loss[:, low])),
                     "end": float(np.nanmean(loss[:, -1])), "rise": rise, "drift": drift})
    table = pd.DataFrame([{
        "table": r["table"], "setting": r["setting"],
        "final val accuracy (%)": f"{_pp(r['final'].mean)} ± {_pp(r['final'].ci)}",
        "val loss lowest at epoch": r["low_epoch"],
        "val loss there → at the end": f"{r['low']:.4f} → {r['end']:.4f}",
        "rise (paired)": f"{r['rise'].mean:+.4f} ± {r['rise'].ci:.4f}",
        "val accuracy change there → end (points)": f"{_pp(r['drift'].mean, True)} ± {_pp(r['drift'].ci)}",
    } for r in rows]).set_index(["table", "setting"])
    near = [r for r in rows if abs(r["final"].mean - CLAIMED_VAL_ACCURACY) <= NEAR]
    lows = [r["final"].mean for r in rows]
    risen = [r for r in rows if r["rise"].n > 1 and r["rise"].mean > r["rise"].ci]
    stable = [r for r in rows if abs(r["drift"].mean) <= NEAR or abs(r["drift"].mean) <= r["drift"].ci]
    return [
        "### Figures 3 and 4 in numbers",
        "Per setting, over seeds (mean ± 95% CI): the validation accuracy after the last epoch; "
        "the epoch at which the mean validation loss is lowest; the validation loss there and "
        "at the end; its rise from there to the end, paired by run; and the validation "
        "accuracy's change over the same epochs.",
        table,
        "\n".join([
            f"- \"Around 99.75%\" (read as within {_pp(NEAR, digits=1)} points): {len(near)} of "
            f"{len(rows)} settings end there; final validation accuracies range from "
            f"{_pp(min(lows))}% to {_pp(max(lows))}%.",
            f"- \"The loss all increased as the epoch number increased\": for {len(risen)} of "
            f"{len(rows)} settings the validation loss at the end is above its minimum by more "
            "than the 95% interval of the paired rise, i.e. over-fitting, as the study says"
            + (f" (not for {', '.join(str(r['setting']) for r in rows if r not in risen)})."
               if len(risen) < len(rows) else "."),
            f"- \"But the accuracies remain stable\": over the same epochs the validation accuracy "
            f"moves by less than {_pp(NEAR, digits=1)} points or within its interval for "
            f"{len(stable)} of {len(rows)} settings.",
        ]),
        *_loss_levels(study, runs),
    ]


def _loss_levels(study: "Study", runs: "pd.DataFrame") -> list[Any]:
    """The published test losses against ours, and how many more epochs of the validation
    loss's late rise would close the gap: a clue to the study's unstated epoch count."""
    import numpy as np
    import pandas as pd

    from mnistlab.analysis import curves
    from mnistlab.analysis.stats import spread

    rows = []
    for (group, name), part in runs.groupby(["group", "name"], sort=False):
        table, key = PUBLISHED_ROWS[group]
        frame = study.published[table].frame if table in study.published else None
        match = frame[frame[key].astype(str) == str(name)] if frame is not None else []
        if len(match) == 0:
            continue
        published = float(match["loss"].iloc[0])
        test = spread(part["test_loss"])
        slope = spread([curves.slope(h["val_loss"], TAIL) for h in part["history"]])
        rising = slope.n > 1 and slope.mean > slope.ci
        more = (published - test.mean) / slope.mean if rising and published > test.mean else np.nan
        rows.append({"setting": name, "published test loss": published,
                     "our test loss": f"{test.mean:.4f} ± {test.ci:.4f}",
                     "val loss slope, last half (per epoch)": f"{slope.mean:+.1e} ± {slope.ci:.1e}",
                     "epochs more at that slope": "–" if np.isnan(more) else f"{more:.0f}",
                     "_above": published > test.mean + test.pi, "_rising": rising, "_more": more})
    if not rows:
        return []
    frame = pd.DataFrame(rows).set_index("setting")
    above, rising = int(frame["_above"].sum()), int(frame["_rising"].sum())
    more = frame["_more"].dropna()
    text = (f"{above} of {len(frame)} published test losses lie above our 95% prediction interval "
            f"for one run, and our validation loss still rises over the last {TAIL:.0%} of "
            f"training for {rising} of {len(frame)} settings (slope's 95% CI above zero).")
    if len(more):
        text += (f" At those slopes, closing the gap would take about {more.min():.0f} to "
                 f"{more.max():.0f} more epochs (a linear extrapolation, a rough guide only)")
        text += (": the study, whose epoch count is not stated, probably trained for longer than "
                 "we did." if above == len(frame) and rising == len(frame) else ".")
    return ["### Why are our test losses lower than the published ones?",
            frame.drop(columns=["_above", "_rising", "_more"]), text]


@ANALYSES.add("004.training_length")
def training_length(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """How long did the study train? Tables I and II's published test scores against our test
    curves of the same networks trained to 150 epochs (group ``longer``), epoch by epoch: at
    which training lengths each published pair, and the whole table, is what one of our runs
    gives (``compare.inside_by_epoch``)."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from mnistlab.analysis.compare import compared_runs, inside_by_epoch
    from mnistlab.analysis.curves import central_epoch
    from mnistlab.present import plots, style

    require(study, results, groups=[LONGER])
    require(study, results[results["group"] == LONGER], curves=["test_loss"])
    name, table = _longer_table(study)
    inside = inside_by_epoch(results, table)
    heading = "### How long did the study train? Test scores epoch by epoch"
    if inside.empty:
        return [heading, "No published row has a test curve here."]
    runs = compared_runs(results, table)
    last = int(runs["epochs_run"].min())
    rows = []
    for key in dict.fromkeys(inside.index.get_level_values("row")):
        mask = inside.loc[key]
        rows.append({"setting": key,
                     **{f"{column} inside at epochs": style.epochs(mask.loc[column])
                        for column in mask.index},
                     "both at epochs": style.epochs(mask.all())})
    together = inside.all()
    most = inside.sum()
    reading = {c.epoch for c in table.compare.columns.values() if c.epoch is not None}
    at = reading.pop() if len(reading) == 1 else None
    whole = (f"All {len(inside)} of Table {_roman(table)}'s published numbers fall inside our "
             f"intervals together {style.after_epochs(together)}."
             if together.any() else
             f"At no epoch do all {len(inside)} published numbers fall inside together; the "
             f"most at once is {int(most.max())} of {len(inside)}, "
             f"{style.after_epochs(most == most.max())}.")
    best = central_epoch(list(most == most.max()))
    whole += f" The middle of the longest such span is epoch {best}."
    if at is not None:
        whole += (f" The reading *{table.reading.name}* (its table above) judges the numbers "
                  f"after epoch {at}")
        whole += (f", which these {last}-epoch runs do not reach." if at > last else
                  ": that epoch." if at == best else
                  f", where {int(most.get(at, 0))} are inside.")
    whole += _same_start(results)
    curves, marks = study.curves(results, [ACCURACY, LOSS], tables=[name], source="test")
    curves = curves.assign(hue=f"our runs (group {LONGER}): mean, 95% CI")
    figure = plots.curve_panels(curves, marks, per_row=2,
                                title=f"Test scores by epoch, trained {last} epochs")
    plt.close(figure)
    return [
        heading,
        f"The study does not say how many epochs it trained. Our runs of group *{LONGER}* are "
        f"this table's networks trained to {last} epochs, scoring the test set after every "
        "epoch. At each epoch a "
        "published number is inside or outside our 95% prediction interval for one run of "
        "that length; the figure draws the mean with its 95% CI band, the published values "
        "dashed.",
        figure,
        pd.DataFrame(rows).set_index("setting"),
        whole,
    ]


LONGER = "longer"  # the training-length reading's configuration group
ACCURACY, LOSS = "accuracy", "loss"  # the compared scores, as the epoch logs name them


def _longer_table(study: "Study") -> tuple[str, Any]:
    """The published table of the training-length reading (compared with group ``longer``)."""
    from mnistlab.core.errors import MissingRuns

    for name, table in study.published.items():
        if table.compare is not None and table.compare.group == LONGER:
            return name, table
    raise MissingRuns(f"a published table compared with the runs of group {LONGER}")


def _roman(table: Any) -> str:
    """"I" for table1's readings, "II" for table2's: as the study numbers them."""
    return {"table1": "I", "table2": "II"}.get(table.numbers, table.numbers)


def _same_start(results: "pd.DataFrame") -> str:
    """Whether each longer run, read after the shorter run's last epoch, scores exactly what
    that run scored (same network and seed: the same weights, epoch for epoch)."""
    def spec(run: "pd.Series") -> tuple:
        return (tuple(run["hidden"]), str(run["activation"]), run["seed"])

    shorter = {spec(run): run for _, run in results[results["group"].isin([TABLE1, TABLE2])]
               .iterrows()}
    pairs = [(run, shorter[spec(run)]) for _, run in results[results["group"] == LONGER].iterrows()
             if spec(run) in shorter]
    same = sum(run["history"]["test_loss"][short["epochs_run"] - 1] == short["test_loss"]
               for run, short in pairs if len(run["history"]["test_loss"]) >= short["epochs_run"])
    if not pairs:
        return ""
    return (f" Read after the shorter runs' last epoch, {same} of {len(pairs)} longer runs score "
            "exactly the test loss of the shorter run of the same network and seed: they are "
            "those runs, continued.")
