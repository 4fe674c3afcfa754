"""Study 004 (Fouchier & Yang), optimizer experiment: which reading of the unstated settings
reproduces which row of Table III, how many epochs each row implies, and adamax's lower loss
at lower accuracy.

Its params switch these on with ``analyses: [004.readings, 004.epochs, 004.test_epochs,
004.adamax_loss]``.  They read the published tables of ``004_fouchier_yang_optimizer.yaml``
(one per reading, the same Table III rows beside each) and the runs' validation and test
curves; Table III's column names
(``accuracy``, ``loss``) and row keys (``adam``, ``adamax``) are named here and nowhere else.
Other 004 experiments keep their analyses in this module too; these functions are
self-contained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mnistlab.studies import Analyses, require

if TYPE_CHECKING:
    import pandas as pd

    from mnistlab.notebook.study import Study


ANALYSES = Analyses("004")

ACCURACY, LOSS = "accuracy", "loss"            # Table III's compared columns
ONE_LENGTH = 5                                  # epochs: implied lengths this close are "one"


def _readings(study: "Study") -> list[str]:
    return [name for name, table in study.published.items() if table.compare is not None]


def _cell(row: "pd.Series") -> str:
    """``96.95 ± 0.10 ✓``: mean ± CI, and the mark of the number's verdict, as the
    published table above shows it."""
    from mnistlab.present.tables import MARKS

    if row["n"] == 0:
        return "–"
    digits = int(row["digits"])
    mark = MARKS[row["verdict"]]
    ci = f" ± {row['ci']:.{digits}f}" if row["n"] > 1 else ""
    return f"{row['mean']:.{digits}f}{ci} {mark}"


@ANALYSES.add("004.readings")
def readings(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Per Table III row and reading: our accuracy and loss with ✓ when the published value
    is inside the 95% prediction interval for a single run, then which readings reproduce
    which rows."""
    import pandas as pd

    require(study, results, rows=())
    agreement = study.agreement(results)
    names = _readings(study)
    ran = set(agreement.loc[agreement["n"] > 0, "row"])  # a variant may keep only some rows
    keys = [key for key in dict.fromkeys(agreement[agreement["table"] == names[0]]["row"])
            if key in ran]
    table = pd.DataFrame(index=pd.Index(keys, name="optimizer"))
    verdicts, scores = [], {}
    for name in names:
        part = agreement[agreement["table"] == name].set_index(["row", "column"])
        for column in (ACCURACY, LOSS):
            table[(_label(study, name), column)] = [
                _cell(part.loc[(key, column)]) if (key, column) in part.index else "–"
                for key in keys]
        scores[name] = {key: [bool(part.loc[(key, c), "inside_pi"] == 1) for c in (ACCURACY, LOSS)]
                        for key in keys if part.loc[(key, ACCURACY), "n"] > 1}
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    for key in keys:
        both = [n for n in names if scores[n].get(key) == [True, True]]
        accuracy_only = [n for n in names if scores[n].get(key) == [True, False]]
        loss_only = [n for n in names if scores[n].get(key) == [False, True]]
        parts = []
        if both:
            parts.append("accuracy and loss: " + ", ".join(_name(study, n) for n in both))
        if accuracy_only:
            parts.append("accuracy only: " + ", ".join(_name(study, n) for n in accuracy_only))
        if loss_only:
            parts.append("loss only: " + ", ".join(_name(study, n) for n in loss_only))
        verdicts.append(f"- **{key}**: " + ("; ".join(parts) if parts else
                                            "no reading reproduces either number") + ".")
    totals = [f"{_name(study, n)}: {sum(v == [True, True] for v in scores[n].values())} of "
              f"{len(scores[n])} rows in both numbers, {sum(v[0] for v in scores[n].values())} in "
              f"accuracy, {sum(v[1] for v in scores[n].values())} in loss"
              for n in names if scores[n]]
    return [
        "### Which reading reproduces which row",
        "Each cell: our mean ± 95% CI after the last epoch; ✓ when the published value lies "
        "inside our 95% prediction interval for a single run (what one of our runs could have "
        "given), ✗ otherwise; accuracy in %.",
        table,
        "Readings that reproduce each published row:\n\n" + "\n".join(verdicts),
        "Rows reproduced per reading: " + "; ".join(totals) + ".",
    ]


def _label(study: "Study", table: str) -> str:
    """A reading as every table, figure and sentence of the report names it: its published
    table's title ("Table III, reading A (today's defaults)")."""
    return study.published[table].title


def _name(study: "Study", table: str) -> str:
    return f"*{_label(study, table)}*"


def mean_curves(study: "Study", results: "pd.DataFrame") -> "pd.DataFrame":
    """Mean over seeds of each published row's validation curves, per reading: columns
    reading, row, epoch, accuracy, loss."""
    curves, _ = study.curves(results, [ACCURACY, LOSS])
    return (curves.groupby(["hue", "panel", "epoch", "metric"], sort=False)["value"].mean()
            .unstack("metric").reset_index().rename(columns={"hue": "reading", "panel": "row"}))


def crossings(values: "pd.Series", target: float) -> list[int]:
    """1-based epochs at which a curve reaches ``target``: each epoch that lies on the other
    side of it from the epoch before, or exactly on it."""
    import numpy as np

    side = np.sign(np.asarray(values, dtype=float) - target)
    return [i + 1 for i in range(len(side))
            if side[i] == 0 or (i > 0 and side[i] != side[i - 1])]


def reaching_epochs(values: "pd.Series", target: float, rising: bool) -> list[int]:
    """Epochs at which a curve that should rise (accuracy) or fall (loss) to ``target`` is on
    or past it: ``crossings``, with epoch 1 first when the curve starts past the target.
    The table cell and the sentence of each row both read this one list."""
    import numpy as np

    at = crossings(values, target)
    first = float(np.asarray(values, dtype=float)[0])
    if (first > target if rising else first < target) and (not at or at[0] != 1):
        at = [1, *at]
    return at


@ANALYSES.add("004.epochs")
def epochs(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """How many epochs would each row need? The epochs at which our mean validation curve
    reaches the published test accuracy and loss, per reading, beside the test − validation
    gap at the last epoch (validation is the stand-in for test at earlier epochs)."""
    import numpy as np
    import pandas as pd

    from mnistlab.analysis.compare import compared_runs
    from mnistlab.analysis.stats import spread

    require(study, results, rows=(), curves=["val_accuracy", "val_loss"])
    mean = mean_curves(study, results)
    if mean.empty:
        return ["### Epochs implied by each row", "No validation curves to read."]
    lines, implied = [], {}
    for name in _readings(study):
        published = study.published[name].frame.set_index(study.published[name].compare.key)
        label = _label(study, name)
        for key, curve in mean[mean["reading"] == label].groupby("row", sort=False):
            if key not in published.index:  # a run the study published nothing for
                continue
            target_acc = float(published.loc[key, ACCURACY]) / 100
            target_loss = float(published.loc[key, LOSS])
            acc_at = reaching_epochs(curve[ACCURACY], target_acc, rising=True)
            loss_at = reaching_epochs(curve[LOSS], target_loss, rising=False)
            best = int(np.argmin(np.abs(curve[LOSS].to_numpy() - target_loss))) + 1
            implied.setdefault(label, {})[key] = acc_at[0] if acc_at else None
            lines.append({"reading": label, "optimizer": key,
                          "published accuracy / loss": f"{100 * target_acc:.2f} / {target_loss:.2f}",
                          "val. accuracy reaches it at epoch": _epochs(acc_at, 100 * curve[ACCURACY],
                                                                        100 * target_acc),
                          "val. loss reaches it at epoch": _epochs(loss_at, curve[LOSS], target_loss),
                          "loss nearest at epoch": f"{best} ({curve[LOSS].iloc[best - 1]:.3f})"})
    table = pd.DataFrame(lines).set_index(["reading", "optimizer"])
    text = []
    for name in _readings(study):
        runs = compared_runs(results, study.published[name])
        last = runs["history"].map(lambda h: h["val_accuracy"][-1] if "val_accuracy" in h
                                   else np.nan)
        gap = spread(100 * (runs["test_accuracy"] - last))
        if gap.n > 1:
            text.append(f"- {_name(study, name)}: test minus validation accuracy at the last "
                        f"epoch {gap.mean:+.2f} ± {gap.ci:.2f} points (mean ± 95% CI, {gap.n} "
                        "runs)" + ("." if gap.mean - gap.ci <= 0 <= gap.mean + gap.ci else
                                   ": the test set is " + ("easier" if gap.mean > 0 else "harder")
                                   + " than the validation rows, so a validation curve reaches a "
                                   "published test value a little " + ("late." if gap.mean > 0
                                                                       else "early.")))
    for label, rows in implied.items():
        reached = {k: v for k, v in rows.items() if v is not None}
        never = [k for k, v in rows.items() if v is None]
        if not reached:
            continue
        low, high = min(reached.values()), max(reached.values())
        first = min(reached, key=reached.get)
        last = max(reached, key=reached.get)
        one = high - low <= ONE_LENGTH and not never
        span = (f"at epoch {low} ({first})" if len(reached) == 1 else
                f"at epoch {low} for every row it reaches" if low == high else
                f"between epoch {low} ({first}) and epoch {high} ({last})")
        text.append(
            f"- *{label}*: validation accuracy first reaches the published test accuracy {span}"
            + (f"; never within {int(mean['epoch'].max())} epochs for {', '.join(never)}"
               if never else "")
            + (f". One training length (within {ONE_LENGTH} epochs) fits every row's accuracy."
               if one else f". No single training length (within {ONE_LENGTH} epochs) fits "
               "every row's accuracy."))
    return [
        "### Epochs implied by each row",
        "The study does not say how long it trained. Reading our mean validation curves at "
        "every epoch, this is when each curve reaches the published test value (the first epoch "
        "on or past it; a later number means it crossed back). A row whose accuracy and loss are "
        "reached at about the same epoch is explained by training that long.",
        table,
        "\n".join(text),
    ]


def _epochs(at: list[int], curve: "pd.Series", target: float) -> str:
    """``3, 27``; ``1 (past it from the start)``; or, for a curve that never reaches the
    target, which side it stays on."""
    if at:
        start = " (past it from the start)" if at[0] == 1 else ""
        return ", ".join(str(e) for e in at[:4]) + (" …" if len(at) > 4 else "") + start
    side = "above" if curve.iloc[-1] > target else "below"
    return f"never: {side} throughout (last {curve.iloc[-1]:.3g})"


@ANALYSES.add("004.adamax_loss")
def adamax_loss(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Adamax prints a lower loss (0.08) at a lower accuracy (96.86) than adam (0.20, 96.91).
    Paired by seed, per reading with both: adamax − adam in test accuracy and loss, and each
    one's validation-loss minimum, to show whether over-training adam explains it."""
    import pandas as pd

    from mnistlab.analysis.compare import compared_runs
    from mnistlab.analysis.stats import paired_difference, spread

    require(study, results, rows=("adam", "adamax"), curves=["val_loss"])
    rows, notes = [], []
    for name in _readings(study):
        runs = compared_runs(results, study.published[name])
        pair = runs[runs["row"].isin(["adam", "adamax"])].assign(pair="adamax − adam")
        if set(pair["row"]) != {"adam", "adamax"}:
            continue
        label = _label(study, name)
        differences = {metric: paired_difference(pair, "row", "adamax", "adam", metric, on="pair")
                       .iloc[0] for metric in ("test_accuracy", "test_loss")}
        for key in ("adam", "adamax"):
            own = pair[pair["row"] == key]
            minimum = spread(own["history"].map(lambda h: min(h["val_loss"])))
            at = spread(own["history"].map(lambda h: h["val_loss"].index(min(h["val_loss"])) + 1))
            final = spread(own["history"].map(lambda h: h["val_loss"][-1]))
            rows.append({"reading": label, "optimizer": key,
                         "lowest val. loss": f"{minimum.mean:.3f} ± {minimum.ci:.3f}",
                         "at epoch": (f"{at.mean:.0f} (every seed)" if at.sd == 0
                                      else f"{at.mean:.1f} ± {at.ci:.1f}"),
                         "last val. loss": f"{final.mean:.3f} ± {final.ci:.3f}",
                         "rise after the lowest": f"{final.mean - minimum.mean:+.3f}"})
        acc, loss = differences["test_accuracy"], differences["test_loss"]
        lower_loss = loss["excludes_zero"] and loss["mean"] < 0
        lower_acc = acc["excludes_zero"] and acc["mean"] < 0
        notes.append(
            f"- *{label}*: adamax − adam, paired by seed: test accuracy {100 * acc['mean']:+.2f} ± "
            f"{100 * acc['ci']:.2f} points, test loss {loss['mean']:+.3f} ± {loss['ci']:.3f}. "
            + ("Adamax has the lower loss " + ("and the lower accuracy: the published pattern."
                                              if lower_acc else "without a lower accuracy.")
               if lower_loss else "Adamax's loss is not lower than adam's here."))
    return [
        "### Adamax: lower loss, lower accuracy",
        "Cross-entropy keeps falling as long as confident answers get more confident, and rises "
        "again when the few wrong answers become confident too; accuracy barely moves. A loss "
        "that rises after its lowest point while accuracy holds is over-training, and it makes a "
        "lower loss at a lower accuracy possible.",
        pd.DataFrame(rows).set_index(["reading", "optimizer"]),
        "\n".join(notes),
    ]


@ANALYSES.add("004.test_epochs")
def test_epochs(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Does one training length explain Table III? Every run scored the test set after each
    epoch (``test_curve``), so each row's published pair is set against our single-run
    intervals epoch by epoch (``compare.inside_by_epoch``), per reading: at which epochs each
    row fits, and whether one length fits every row."""
    import pandas as pd

    from mnistlab.analysis.compare import inside_by_epoch
    from mnistlab.present import style

    require(study, results, rows=(), curves=["test_accuracy", "test_loss"])
    rows, text = [], []
    for name in _readings(study):
        inside = inside_by_epoch(results, study.published[name])
        if inside.empty:
            continue
        label = _label(study, name)
        both = {}
        for key in dict.fromkeys(inside.index.get_level_values("row")):
            both[key] = inside.loc[key].all()
            rows.append({"reading": label, "optimizer": key,
                         "accuracy inside at epochs": style.epochs(inside.loc[(key, ACCURACY)]),
                         "loss inside at epochs": style.epochs(inside.loc[(key, LOSS)]),
                         "both at epochs": style.epochs(both[key])})
        fits = pd.DataFrame(both).sum(axis=1)
        never = [key for key, mask in both.items() if not mask.any()]
        if int(fits.max()) == len(both):
            verdict = (f"every row's pair falls inside together "
                       f"{style.after_epochs(fits == len(both))}: one training length explains "
                       "the table")
        elif int(fits.max()) == 0:
            verdict = f"no row's pair falls inside together at any of the {inside.shape[1]} epochs"
        else:
            verdict = (f"no single training length fits every row: at most {int(fits.max())} of "
                       f"{len(both)} rows at once, {style.after_epochs(fits == fits.max())}"
                       + (f"; {', '.join(never)} at none of the {inside.shape[1]} epochs"
                          if never else ""))
        text.append(f"- *{label}*: {verdict}.")
    if not rows:
        return ["### One training length for Table III?", "No published row has a test curve here."]
    return [
        "### One training length for Table III?",
        "Every run scored the test set after each epoch, so a published row can be set beside "
        "our runs of any length up to the last: at which epochs its accuracy, its loss, and both "
        "together are inside our 95% prediction interval for one run. If the study trained "
        "every optimizer for the same unstated number of epochs, one epoch fits every row.",
        pd.DataFrame(rows).set_index(["reading", "optimizer"]),
        "\n".join(text) + "\n\nRows that fit only at different epochs mean that no single reading "
        "of the training length reproduces Table III: the study would have trained its optimizers "
        "for different lengths, or its numbers differ from ours for another reason.",
    ]
