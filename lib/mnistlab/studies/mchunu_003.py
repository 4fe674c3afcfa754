"""Study 003 (Mchunu, SGD against Adam in PyTorch): are the text's statements reproduced, and
by which reading; and why a softmax applied twice keeps SGD below 50%.

Its params switch these on with ``analyses: [003.claims, 003.double_softmax]``.  They read the
published statements of ``003_mchunu.yaml`` (one table per reading, the same statements beside
each) and the runs of groups ``one_softmax``, ``double_softmax`` and ``keras_init``; the
sections (3.1-3.3), run names and the reading of the text's words are named here and nowhere
else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mnistlab.studies import Analyses, require

if TYPE_CHECKING:
    import pandas as pd

    from mnistlab.notebook.study import Study


ANALYSES = Analyses("003")

SLIGHTLY = 5.0  # percentage points: our reading of "slightly less than" / "a little bit above"


@dataclass(frozen=True)
class Statement:
    """A published sentence about one network's test accuracy (%): the bound it names
    (``bound_low ≤ x < bound_high``, the qualitative result) and the sentence as we read it
    in full (``low ≤ x < high``, and below another section's network when it says so)."""

    section: str
    column: str          # the published column holding the bound it names
    says: str
    bound_low: float
    bound_high: float
    low: float
    high: float
    below_section: str | None = None   # "and less than those of" another section's network

    @property
    def bound(self) -> str:
        return _range(self.bound_low, self.bound_high)

    @property
    def reading(self) -> str:
        return _range(self.low, self.high) + (f", and below {self.below_section} (paired by seed)"
                                              if self.below_section else "")


def _range(low: float, high: float) -> str:
    if low <= 0:
        return f"< {high:g}"
    return f"≥ {low:g}" if high > 100 else f"{low:g} to {high:g}"


TOP = 100.0001
STATEMENTS = (
    Statement("3.1", "accuracy_text", "slightly less than 50%", 0, 50, 50 - SLIGHTLY, 50),
    Statement("3.2", "accuracy_text", "above 95%", 95, TOP, 95, TOP),
    Statement("3.3", "accuracy_text", "below 50% and less than 3.1", 0, 50, 0, 50,
              below_section="3.1"),
    Statement("3.2", "accuracy_abstract", "a little bit above 90% (abstract)", 90, TOP,
              90, 90 + SLIGHTLY),
)


def judge(values: Any, low: float, high: float) -> dict[str, Any]:
    """How well runs with these accuracies (%) satisfy ``low ≤ x < high``: the mean and both
    95% intervals, how many runs satisfy it, the chance that one more run would (Student-t
    predictive distribution), and a verdict by our single-run interval, clipped to 0-100 %,
    as every published number is judged (``analysis.verdicts``): *holds* when all of it lies
    in the range, *fails* when none of it does, *undecided* otherwise."""
    import numpy as np
    from scipy import stats as st

    from mnistlab.analysis.stats import spread

    data = np.asarray(values, dtype=float)
    s = spread(data)
    inside = int(((data >= low) & (data < high)).sum())
    if s.n > 1 and s.sd > 0:
        scale = s.sd * math.sqrt(1 + 1 / s.n)
        chance = float(st.t.cdf((high - s.mean) / scale, s.n - 1)
                       - st.t.cdf((low - s.mean) / scale, s.n - 1))
    else:
        chance = float(low <= s.mean < high)
    first, last = max(s.mean - s.pi, 0.0), min(s.mean + s.pi, 100.0)
    if s.n < 2:
        verdict = "not judged"
    elif low <= first and last < high:
        verdict = "holds"
    elif last < low or first >= high:
        verdict = "fails"
    else:
        verdict = "undecided"
    return {"spread": s, "inside": inside, "chance": chance, "verdict": verdict}


def _below(paired: Any) -> tuple[str, str]:
    """"and less than those of 3.1": our difference to 3.1's network (mean ± CI, paired by
    seed) and its verdict for two single runs of the study, which share no seed (the
    independent-difference interval)."""
    from mnistlab.analysis.stats import independent_difference, spread

    diff = spread(paired["this"] - paired["other"])
    single = independent_difference(paired["this"], paired["other"])
    if single.n < 2:
        return f"{diff.mean:+.1f}", "not judged"
    verdict = ("holds" if single.mean + single.pi < 0 else
               "fails" if single.mean - single.pi >= 0 else "undecided")
    return f"{diff.mean:+.1f} ± {diff.ci:.1f}", verdict


def _accuracy_by_section(study: "Study", results: "pd.DataFrame", table: str) -> "pd.DataFrame":
    """Test accuracy (%) per seed (columns) for each published section (rows)."""
    from mnistlab.analysis.compare import compared_runs

    runs = compared_runs(results, study.published[table])
    return runs.pivot_table(index="row", columns="seed", values="test_accuracy") * 100


@ANALYSES.add("003.claims")
def claims(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Each statement of the text and abstract, judged under each reading of the code: the
    bound it names (the qualitative result, the verdict of the same cell of the published
    table above), and the sentence as we read it in full."""
    import pandas as pd

    from mnistlab.analysis.compare import agreement_of
    from mnistlab.analysis.verdicts import VERDICTS

    require(study, results, rows=())
    verdicts = agreement_of(results, study.published).set_index(["table", "row", "column"])
    rows, bounds, full = [], {}, {}
    for table, spec in study.published.items():
        if spec.compare is None:
            continue
        accuracy = _accuracy_by_section(study, results, table)
        reading = spec.title  # the reading's name everywhere in the report
        for statement in STATEMENTS:
            if statement.section not in accuracy.index:
                continue
            values = accuracy.loc[statement.section].dropna()
            result = judge(values, statement.low, statement.high)
            verdict, below, chance = result["verdict"], "–", result["chance"]
            if statement.below_section and statement.below_section in accuracy.index:
                paired = pd.DataFrame({"this": accuracy.loc[statement.section],
                                       "other": accuracy.loc[statement.below_section]}).dropna()
                below, below_verdict = _below(paired)
                # One run satisfies the sentence in full only if it is in range AND below 3.1.
                chance *= judge(paired["this"] - paired["other"], -math.inf, 0)["chance"]
                verdict = _both(verdict, below_verdict)
            elif statement.below_section:  # a variant without that section's network
                verdict = f"not judged (no runs of {statement.below_section})"
            key = (table, statement.section, statement.column)
            bound = VERDICTS[verdicts.loc[key, "verdict"]].label if key in verdicts.index \
                else "not judged"
            s = result["spread"]
            bounds.setdefault(reading, []).append((statement, bound))
            full.setdefault(reading, []).append((statement, verdict))
            rows.append({"reading": reading, "statement": statement.says,
                         "mean ± CI (%)": f"{s.mean:.1f} ± {s.ci:.1f}",
                         "95% PI (%)": f"[{max(s.mean - s.pi, 0):.1f}, "
                                       f"{min(s.mean + s.pi, 100):.1f}]",
                         "minus 3.1": below, "bound alone": bound,
                         "in full": verdict, "P(one run)": f"{chance:.2f}"})
    table = pd.DataFrame(rows).set_index(["reading", "statement"])
    readings = pd.DataFrame({"section": [s.section for s in STATEMENTS],
                             "statement": [s.says for s in STATEMENTS],
                             "bound alone": [s.bound for s in STATEMENTS],
                             "read in full as": [s.reading for s in STATEMENTS]}).set_index("section")
    summary = []
    for reading in bounds:
        kept = [s.says for s, v in bounds[reading] if v == "holds"]
        exact = [s.says for s, v in full[reading] if v == "holds"]
        summary.append(f"- *{reading}*: the bound of {len(kept)} of {len(bounds[reading])} "
                       f"statements holds, {len(exact)} of {len(full[reading])} hold in full"
                       + (f" ({'; '.join(exact)})" if exact else "") + ".")
    sections = {s.section for s in STATEMENTS if s.column == "accuracy_text"}
    complete = [r for r in bounds  # a variant may run only some sections' networks
                if {s.section for s, _ in bounds[r] if s.column == "accuracy_text"} == sections]
    qualitative = [r for r in complete if all(v == "holds" for s, v in bounds[r]
                                              if s.column == "accuracy_text")]
    summary.append("- The text's qualitative result (both SGD networks below 50%, Adam above "
                   "95%) is " + ("reproduced by " + (" and ".join(f"*{r}*" for r in qualitative)
                                                      if qualitative else "no reading")
                                 if complete else "not judged: no reading has runs of all of "
                                 f"sections {', '.join(sorted(sections))}") + ".")
    return [
        "### Which reading reproduces the text",
        "The study states bounds, not numbers, so each statement is judged as a statement, twice: "
        "by the bound it names alone (the qualitative result, as in the tables above), and in "
        "full as we read it, with \"slightly less than\" and \"a little bit above\" read as "
        f"within {SLIGHTLY:g} points of the bound. Both are judged by our 95% prediction "
        "interval for a single run (the study's is one run): *holds* when all of it satisfies "
        "the statement, *fails* when none of it does, *undecided* when it straddles a bound. "
        "*P(one run)*: the chance that a single run would satisfy the full reading, every clause "
        "of it, from the Student-t prediction for one more run. *minus 3.1*: our difference to "
        "section 3.1's network (mean ± CI, paired by seed), for the statement that compares "
        "them; the study's two networks are two independent runs, so that clause is judged by "
        "the interval of a difference of two independent runs.",
        readings,
        table,
        "\n".join(summary),
    ]


def _both(sentence: str, clause: str) -> str:
    """A sentence with two clauses holds when both hold and fails when either fails."""
    if "fails" in (sentence, clause):
        return "fails"
    if sentence == clause == "holds":
        return "holds"
    return "not judged" if "not judged" in (sentence, clause) else "undecided"


# Section 3.1's network: (initial weights, softmax count) -> run name.
FACTORIAL = {("pytorch", "once"): "sgd-512", ("pytorch", "twice"): "sgd-512-double",
             ("keras", "once"): "sgd-512-glorot", ("keras", "twice"): "sgd-512-glorot-double"}
ADAM_ONCE, ADAM_TWICE = "adam-512", "adam-512-double"


def gradient_ratio(study: "Study", seed: int = 0, rows: int = 2048) -> dict[str, float]:
    """At the initial weights of section 3.1's network: the norm of each weight matrix's
    gradient (keyed by its shape) with the softmax applied twice, divided by the norm with it
    applied once (the same weights, the first ``rows`` training images)."""
    import keras
    import tensorflow as tf

    from mnistlab.train.models import build_model
    from mnistlab.spec.params import resolve_runs
    from mnistlab.train.training import prepare_arrays

    run = next(r for r in resolve_runs(study.params) if r["name"] == FACTORIAL[("pytorch", "once")])
    arrays = prepare_arrays(run["task"], run["train_inputs"], run["test_inputs"],
                            study.settings["train_samples"], study.settings["test_samples"])
    x, y = arrays.x_train[:rows], arrays.y_train[:rows]
    keras.utils.set_random_seed(seed)
    model = build_model(run, seed=seed)
    loss = keras.losses.SparseCategoricalCrossentropy()
    norms = {}
    for name, twice in (("once", False), ("twice", True)):
        with tf.GradientTape() as tape:
            probabilities = model(x)
            if twice:
                probabilities = tf.nn.softmax(probabilities)
            value = loss(y, probabilities)
        grads = tape.gradient(value, model.trainable_variables)
        norms[name] = {"×".join(str(d) for d in v.shape): float(tf.norm(g))
                       for v, g in zip(model.trainable_variables, grads) if len(v.shape) == 2}
    return {shape: norms["twice"][shape] / norms["once"][shape] for shape in norms["once"]}


@ANALYSES.add("003.double_softmax")
def double_softmax(study: "Study", results: "pd.DataFrame") -> list[Any]:
    """Why softmax twice keeps SGD slow: the loss floor and the shrunken gradient, measured;
    and whether PyTorch's initial weights matter beside it (section 3.1, 2 × 2)."""
    import pandas as pd

    from mnistlab.analysis.stats import spread, welch_difference

    require(study, results, configurations=[FACTORIAL[("pytorch", "once")]])
    floor, start = math.log(1 + 9 / math.e), math.log(10)
    ratios = gradient_ratio(study)
    by_name = results.set_index("name")
    twice = results[results["extra_softmax"].fillna(False).astype(bool)] \
        if "extra_softmax" in results else results.iloc[0:0]
    final = {label: spread(runs["train_loss"]) for label, runs in twice.groupby("label", sort=False)}
    cells, effects = {}, []
    for (init, softmax), name in FACTORIAL.items():
        if name in by_name.index:
            cells[(init, softmax)] = 100 * by_name.loc[[name], "test_accuracy"].to_numpy()
    table = pd.DataFrame(
        {f"softmax {softmax}": [_mean_ci(cells.get((init, softmax))) for init in ("pytorch", "keras")]
         for softmax in ("once", "twice")},
        index=pd.Index(["PyTorch (U(±1/√fan-in))", "Keras (Glorot, zero biases)"],
                       name="initial weights"))
    for softmax in ("once", "twice"):
        if ("keras", softmax) in cells and ("pytorch", softmax) in cells:
            welch = welch_difference(cells[("keras", softmax)], cells[("pytorch", softmax)])
            d, h = welch.mean, welch.ci
            effects.append(f"- Keras's initial weights instead of PyTorch's, softmax {softmax}: "
                           f"{d:+.1f} ± {h:.1f} points of test accuracy (Welch 95% CI)"
                           + (": the initialisation matters." if abs(d) > h
                              else ": no difference the seeds can resolve."))
    for init in ("pytorch", "keras"):
        if (init, "twice") in cells and (init, "once") in cells:
            welch = welch_difference(cells[(init, "twice")], cells[(init, "once")])
            d, h = welch.mean, welch.ci
            effects.append(f"- Softmax twice instead of once, SGD, {init} initial weights: "
                           f"{d:+.1f} ± {h:.1f} points.")
    if {ADAM_ONCE, ADAM_TWICE} <= set(by_name.index):
        welch = welch_difference(100 * by_name.loc[[ADAM_TWICE], "test_accuracy"].to_numpy(),
                                 100 * by_name.loc[[ADAM_ONCE], "test_accuracy"].to_numpy())
        d, h = welch.mean, welch.ci
        effects.append(f"- Softmax twice instead of once, Adam (section 3.2): {d:+.1f} ± {h:.1f} "
                       "points" + (": no difference the seeds can resolve." if abs(d) <= h
                                   else "."))
    mechanism = [
        f"- With the softmax applied twice the loss sees probabilities p ∈ [0, 1] as logits, so "
        f"even a perfect one-hot p gives a loss of ln(1 + 9/e) = {floor:.3f}, against "
        f"ln 10 = {start:.3f} for uniform outputs: the loss can fall by only "
        f"{start - floor:.2f} nats instead of {start:.2f}.",
        "- The gradient reaching the logits is the softmax Jacobian (diag(p) − ppᵀ, entries about "
        "0.1 for ten near-uniform classes) times the usual error: measured at the initial "
        "weights of section 3.1's network, the weight gradients shrink to "
        + ", ".join(f"{r:.3f}× ({shape} weights)" for shape, r in ratios.items())
        + " of their size with one softmax. SGD's steps shrink by as much; Adam divides every "
        "step by a running estimate of the gradient's own size, so a uniform shrinkage cancels.",
    ]
    if final:
        mechanism.append(
            f"- Measured training loss after the last epoch with the softmax twice (floor "
            f"{floor:.3f}, start {start:.3f}; mean ± 95% CI): "
            + "; ".join(f"{label}: {f.mean:.3f} ± {f.ci:.3f}" for label, f in final.items()) + ".")
    return [
        "### Why softmax twice keeps SGD below 50%",
        "PyTorch's `nn.CrossEntropyLoss` takes logits and applies softmax itself; a network "
        "that already ends in `nn.Softmax` therefore has softmax applied twice. Accuracy is "
        "unaffected by the second softmax (it keeps the order), training is not.",
        "\n".join(mechanism),
        "**Does PyTorch's initialisation matter?** Section 3.1's network, test accuracy (%) "
        "mean ± 95% CI:",
        table,
        "\n".join(effects) if effects else "The initialisation runs are not in this params file.",
    ]


def _mean_ci(values: Any) -> str:
    """Accuracy in % over the seeds, at the study's one decimal."""
    from mnistlab.analysis.stats import spread
    from mnistlab.present import style

    if values is None:
        return "–"
    s = spread(values)
    return style.runs_mean_ci(s.mean, s.ci, s.n, 1)
