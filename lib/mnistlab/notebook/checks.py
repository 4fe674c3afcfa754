"""The checks a student runs in a lab: one short call per exercise, a message that teaches.

Each check takes the student's function (or class) and the study's own data, compares it
with what mnistlab computes, and on a mismatch raises ``AssertionError`` saying what the
student's code gave, what was expected and, where a common slip explains the difference,
which slip.  On success it prints one line starting with ✓.  The labs' autograded test cells
(``mnistlab.pipeline.labs``) call these; the experiment notebooks' instructor solutions pass them
for every study of the experiment, so a check never names a paper.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Sequence

import numpy as np

from mnistlab.spec.params import mlp_weights, resolve_runs
from mnistlab.analysis.stats import spread
from mnistlab.spec.tasks import task

if TYPE_CHECKING:
    import keras
    import pandas as pd

    from mnistlab.notebook.study import Study

NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
TOLERANCE = 1e-6  # relative, for numbers the student computes in float64


def fail(message: str) -> NoReturn:
    """Stop the check with the student-facing message (an autograded cell then scores 0)."""
    raise AssertionError(message)


def passed(message: str) -> None:
    print(f"✓ {message}")


def _listed(values: Any, digits: int = 6) -> str:
    """``[0.973, 0.9712]``: plain numbers, whatever their NumPy type."""
    return "[" + ", ".join(f"{float(v):.{digits}g}" for v in values) + "]"


# --- building a network -------------------------------------------------------------------

def describe_network(inputs: int, hidden: Sequence[int], outputs: int) -> str:
    """``one hidden layer of 50 on 784 inputs with 10 outputs``, in words a student checks against."""
    count = NUMBERS[len(hidden)] if len(hidden) < len(NUMBERS) else str(len(hidden))
    if not hidden:
        layers = "no hidden layer"
    elif len(set(hidden)) == 1:
        layers = f"{count} hidden layer{'s' * (len(hidden) > 1)} of {hidden[0]}"
    else:
        layers = f"{count} hidden layers of {', '.join(map(str, hidden[:-1]))} and {hidden[-1]}"
    return f"{layers} on {inputs} inputs with {outputs} outputs"


def network(build: Callable[..., "keras.Model"], study: "Study") -> None:
    """Every model of the study, built by ``build(hidden, activation)``, has the layers and
    the parameter count of the network mnistlab trains for it."""
    seen = set()
    for run in resolve_runs(study.params):
        activations = set(run["activation"])
        key = (tuple(run["hidden"]), run["task"], tuple(activations))
        if key in seen or len(activations) > 1:
            continue  # one activation for every layer is what build() is asked to handle
        seen.add(key)
        spec = task(run["task"])
        activation = next(iter(activations), "relu")
        model = build(list(run["hidden"]), activation)
        architecture(model, spec.inputs, run["hidden"], spec.outputs, activation,
                     spec.output_activation, call=f"build_network({list(run['hidden'])}, {activation!r})")
    passed(f"{len(seen)} network{'s' * (len(seen) != 1)}: layers, activations and parameter counts "
           "match the networks this study trains")


def architecture(model: Any, inputs: int, hidden: Sequence[int], outputs: int,
                 activation: str | None = None, output_activation: str | None = None,
                 call: str = "your model") -> None:
    """A dense network ``inputs → hidden… → outputs``: input shape, Dense layers, activations,
    then the parameter count; the first difference found is the message."""
    import keras

    if not isinstance(model, keras.Model):
        fail(f"{call} returned {type(model).__name__}, not a Keras model: return the "
             "keras.Sequential you built")
    try:
        shape = tuple(model.inputs[0].shape[1:])
    except (AttributeError, IndexError, ValueError):
        fail(f"{call} is not built yet, so it has no weights to count: start the layer list "
             f"with keras.Input(shape=({inputs},))")
    if shape != (inputs,):
        fail(f"{call} takes inputs of shape {shape}; mnistlab feeds flat vectors of {inputs} "
             f"pixels: start with keras.Input(shape=({inputs},))")
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if len(dense) != len(hidden) + 1:
        fail(f"{call} has {len(dense)} Dense layer(s); {describe_network(inputs, hidden, outputs)} "
             f"needs {len(hidden) + 1}: one per hidden layer, then the output layer")
    for index, (layer, units) in enumerate(zip(dense, [*hidden, outputs]), 1):
        if layer.units != units:
            fail(f"Dense layer {index} of {call} has {layer.units} units; it should have {units}")
        wanted = output_activation if index == len(dense) else activation
        used = layer.get_config()["activation"]
        if wanted and used != wanted:
            role = "the output layer" if index == len(dense) else f"hidden layer {index}"
            fail(f"{role} of {call} uses activation {used!r}; it should use {wanted!r}")
    parameters(model.count_params(), inputs, hidden, outputs, call)


def parameters(count: int, inputs: int, hidden: Sequence[int], outputs: int,
               call: str = "your model") -> None:
    """``count`` weights and biases, as a dense network ``inputs → hidden… → outputs`` has."""
    expected = mlp_weights(inputs, list(hidden), outputs)
    if count != expected:
        sizes = [inputs, *hidden, outputs]
        hint = ""
        if count == expected - sum(sizes[1:]):
            hint = " (exactly the biases are missing: keep use_bias=True)"
        fail(f"{call} has {count:,} parameters; {describe_network(inputs, hidden, outputs)} has "
             f"{expected:,}: each Dense layer has (inputs + 1) × units{hint}")


# --- early stopping -----------------------------------------------------------------------

def _stop_epoch(callback: Any, losses: Sequence[float]) -> int | None:
    """Drive a callback with one epoch's logs at a time, as ``fit`` would: the epoch (from 1)
    after which it stopped training, or None if it let every epoch run."""
    import keras

    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    model.stop_training = False
    callback.set_model(model)
    callback.on_train_begin({})
    for epoch, loss in enumerate(losses):
        callback.on_epoch_end(epoch, {"loss": float(loss)})
        if model.stop_training:
            return epoch + 1
    return None


def _after(epoch: int | None) -> str:
    return f"stops training after epoch {epoch}" if epoch else "lets every epoch run"


SYNTHETIC_LOSSES = [  # (losses, patience): plateaus, ties and late improvements
    ([0.50, 0.40, 0.41, 0.30], 1), ([0.50, 0.40, 0.41, 0.30], 2), ([0.5, 0.5, 0.4], 1),
    ([0.9, 0.8, 0.7, 0.6], 1), ([0.5, 0.6, 0.7, 0.8, 0.3], 3), ([0.5, 0.4, 0.45, 0.42, 0.41, 0.1], 3),
]


def early_stopping(callback_class: type, results: "pd.DataFrame") -> None:
    """``callback_class(patience)`` stops when Keras's ``EarlyStopping(monitor="loss",
    patience=...)`` does: on sample loss curves, then on every run of the study that used it."""
    import keras

    for losses, patience in SYNTHETIC_LOSSES:
        expected = _stop_epoch(keras.callbacks.EarlyStopping(monitor="loss", patience=patience), losses)
        got = _stop_epoch(callback_class(patience), losses)
        if got != expected:
            fail(f"training losses {losses} with patience {patience}: Keras's EarlyStopping(monitor="
                 f"'loss', patience={patience}) {_after(expected)}; yours {_after(got)}. "
                 "Count the epochs since the best loss so far; an equal loss is no improvement")
    checked = 0
    for _, row in results.iterrows():
        rule = row.get("early_stopping")
        if not isinstance(rule, dict) or rule.get("monitor") != "loss":
            continue
        losses = row["history"]["loss"]
        expected = _stop_epoch(keras.callbacks.EarlyStopping(**rule), losses)
        got = _stop_epoch(callback_class(rule["patience"]), losses)
        if got != expected:
            trained = (f"was stopped after epoch {row['epochs_run']}" if expected
                       else f"ran all its {row['epochs_run']} epochs")
            fail(f"run {row['name']!r} seed {row['seed']} {trained} (patience "
                 f"{rule['patience']}); given its losses {_listed(losses, 4)}, yours "
                 f"{_after(got)}")
        checked += 1
    passed(f"your callback stops like Keras's EarlyStopping on {len(SYNTHETIC_LOSSES)} sample "
           f"curves and on the recorded losses of the {checked} runs of this study that use "
           "early stopping on the training loss")


# --- intervals ----------------------------------------------------------------------------

VERDICT = {True: "inside (reproduced)", False: "outside (not reproduced)"}
SYNTHETIC_VALUES = [[0.9730, 0.9712, 0.9745], [0.1, 0.3], [0.97, 0.98, 0.975, 0.971, 0.969],
                    [5.0, 5.0, 5.0]]


def _t(degrees: int) -> float:
    """Student's t quantile of a two-sided 95% interval."""
    from scipy import stats

    return float(stats.t.ppf(0.975, degrees))


def _interval_hint(low: float, high: float, values: np.ndarray) -> str:
    """Name the slip that gives the student's interval, if it is a common one."""
    n, mean = len(values), float(np.mean(values))
    half = (high - low) / 2
    sd, sd0 = float(np.std(values, ddof=1)), float(np.std(values))
    slips = {
        "the confidence interval of the mean (t·s/√n): a published value is one run, so it "
        "needs the wider interval for a single run, with √(1 + 1/n)": _t(n - 1) * sd / math.sqrt(n),
        "1.96 (the normal distribution); with a handful of seeds use Student's t with n − 1 "
        "degrees of freedom: scipy.stats.t.ppf(0.975, n - 1)": 1.96 * sd * math.sqrt(1 + 1 / n),
        "the population standard deviation (ddof=0); use the sample standard deviation, "
        "np.std(values, ddof=1)": _t(n - 1) * sd0 * math.sqrt(1 + 1 / n),
        "t with n degrees of freedom; it has n − 1": _t(n) * sd * math.sqrt(1 + 1 / n),
    }
    if not math.isclose((low + high) / 2, mean, rel_tol=TOLERANCE, abs_tol=1e-12):
        return f" It is not centred on the mean {mean:.6g}."
    for slip, width in slips.items():
        if math.isclose(half, width, rel_tol=1e-4):
            return f" That is {slip}."
    return ""


def prediction_interval(function: Callable[[Any], tuple[float, float]],
                        results: "pd.DataFrame", metric: str = "test_accuracy",
                        more: Sequence[Sequence[float]] = ()) -> None:
    """``function(values)`` returns the 95% prediction interval for one more run,
    mean ± t·s·√(1 + 1/n): on sample values (and ``more``), then on every configuration of
    the study."""
    samples = [*SYNTHETIC_VALUES, *more]
    cases = [np.asarray(v, dtype=float) for v in samples]
    cases += [group[metric].to_numpy(dtype=float) for _, group in results.groupby("name", sort=False)
              if group[metric].notna().sum() > 1]
    for values in cases:
        values = values[np.isfinite(values)]
        s = spread(values)
        low, high = (float(x) for x in function(list(values)))
        expected = (s.mean - s.pi, s.mean + s.pi)
        if not all(math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-12)
                   for a, b in zip((low, high), expected)):
            fail(f"for the values {_listed(values)} your interval is [{low:.6g}, {high:.6g}]; "
                 f"mean ± t·s·√(1 + 1/n) = {s.mean:.6g} ± {_t(len(values) - 1):.4g} × {s.sd:.4g} × "
                 f"{math.sqrt(1 + 1 / len(values)):.4g} gives [{expected[0]:.6g}, {expected[1]:.6g}]."
                 + _interval_hint(low, high, values))
    passed(f"your prediction interval matches mnistlab's on {len(cases)} sets of values "
           f"({len(cases) - len(samples)} of them this study's {metric} per configuration)")


def reproduced(function: Callable[[float, Any], bool], results: "pd.DataFrame",
               metric: str = "test_accuracy") -> None:
    """``function(published, values)`` is True exactly when the published single run lies
    inside the 95% prediction interval of ``values``: checked just inside and just outside
    each configuration's interval, and at its mean."""
    groups = [group[metric].dropna().to_numpy(dtype=float)
              for _, group in results.groupby("name", sort=False)]
    cases = [np.asarray(v) for v in SYNTHETIC_VALUES[:3]] + [g for g in groups
                                                              if len(g) > 1 and spread(g).pi > 0]
    for values in cases:
        s = spread(values)
        for published, inside in ((s.mean, True), (s.mean + 0.99 * s.pi, True),
                                  (s.mean - 0.99 * s.pi, True), (s.mean + 1.01 * s.pi, False),
                                  (s.mean - 1.01 * s.pi, False)):
            got = function(float(published), list(values))
            if bool(got) != inside:
                fail(f"published {published:.6g} against our runs {_listed(values)}: "
                     f"the 95% prediction interval is [{s.mean - s.pi:.6g}, {s.mean + s.pi:.6g}], "
                     f"so the published value is {VERDICT[inside]}; your function says {got!r}")
    passed(f"your verdicts match the prediction interval on {len(cases)} sets of runs")


# --- cross-entropy ------------------------------------------------------------------------

def _batch(rows: int = 8, classes: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Softmax probabilities of random logits, and integer labels: a fixed sample batch."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (rows, classes))
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    return probabilities / probabilities.sum(axis=1, keepdims=True), rng.integers(0, classes, rows)


def _per_example(name: str, got: Any, expected: np.ndarray) -> np.ndarray:
    got = np.asarray(got, dtype=float)
    if got.shape != expected.shape:
        hint = " (return one loss per example, not their mean)" if got.size == 1 else ""
        fail(f"your {name} returned shape {got.shape}; a batch of {len(expected)} examples needs "
             f"{expected.shape}: one loss per example{hint}")
    return got


def cross_entropies(categorical: Callable[[np.ndarray, np.ndarray], Any],
                    sparse: Callable[[np.ndarray, np.ndarray], Any],
                    rows: int = 8, classes: int = 10, seed: int = 0) -> None:
    """``categorical(one_hot, probabilities)`` and ``sparse(labels, probabilities)`` give
    Keras's per-example losses on a sample batch, and the same numbers as each other."""
    import keras

    probabilities, labels = _batch(rows, classes, seed)
    one_hot = np.eye(probabilities.shape[1])[labels]
    expected = np.asarray(keras.ops.convert_to_numpy(
        keras.losses.categorical_crossentropy(one_hot, probabilities)), dtype=float)
    for name, function, target in (("categorical cross-entropy", categorical, one_hot),
                                   ("sparse categorical cross-entropy", sparse, labels)):
        got = _per_example(name, function(target, probabilities.copy()), expected)
        wrong = np.flatnonzero(~np.isclose(got, expected, rtol=1e-5, atol=1e-7))
        if wrong.size:
            i = wrong[0]
            hint = ""
            if np.isclose(got[i], -expected[i], rtol=1e-5):
                hint = " Cross-entropy is −log p: mind the sign."
            elif np.isclose(got[i], expected[i] / np.log(10), rtol=1e-5):
                hint = " That is log base 10; use the natural log, np.log."
            fail(f"example {i} (label {labels[i]}, p(label) = {probabilities[i, labels[i]]:.4f}): "
                 f"your {name} gives {got[i]:.6g}; Keras's gives {expected[i]:.6g} = "
                 f"−log {probabilities[i, labels[i]]:.4f}.{hint}")
    passed("both of your cross-entropies give Keras's losses, example for example: for a "
           "one-hot label they are the same number, −log p(true class)")


def scaled_logits(function: Callable[[np.ndarray, np.ndarray, float], tuple[float, float]]) -> None:
    """``function(logits, labels, scale)`` returns (mean cross-entropy, accuracy) of
    softmax(scale · logits): Keras's numbers at every scale, finite even at huge scales."""
    import keras

    rng = np.random.default_rng(1)
    logits, labels = rng.normal(0, 1.5, (200, 10)), rng.integers(0, 10, 200)
    logits[np.arange(150), labels[:150]] += 3.0  # a network that is right three times in four
    for scale in (1.0, 0.1, 255.0, 1e4):
        expected_loss = float(np.mean(keras.ops.convert_to_numpy(
            keras.losses.sparse_categorical_crossentropy(labels, scale * logits, from_logits=True))))
        expected_accuracy = float(np.mean(np.argmax(logits, axis=1) == labels))
        loss, accuracy = (float(x) for x in function(logits.copy(), labels.copy(), scale))
        if not math.isfinite(loss):
            fail(f"at scale {scale:g} your loss is {loss}: exp(scale × logit) overflows. Subtract "
                 "each row's largest logit before exponentiating (or use scipy.special.log_softmax)")
        if not math.isclose(accuracy, expected_accuracy, abs_tol=1e-9):
            fail(f"at scale {scale:g} your accuracy is {accuracy:.4f}; it should be "
                 f"{expected_accuracy:.4f}: the share of rows whose largest logit is the label's")
        if not math.isclose(loss, expected_loss, rel_tol=1e-4, abs_tol=1e-6):
            fail(f"at scale {scale:g} your mean cross-entropy is {loss:.6g}; Keras's "
                 f"(from_logits=True) is {expected_loss:.6g}")
    passed("your loss and accuracy match Keras's at scales 0.1 to 10,000: scaling the logits "
           "keeps every prediction's class, so the accuracy, and makes the wrong predictions "
           "ever more confident, so their loss grows with the scale")


# --- paired differences -------------------------------------------------------------------

def _loss_pairs(study: "Study") -> list[tuple[str, str]]:
    """Pairs of configurations that differ in their loss function and nothing else."""
    import json

    by_rest: dict[str, list[dict]] = {}
    for run in resolve_runs(study.params):
        rest = {k: v for k, v in run.items() if k not in ("name", "label", "group", "loss")}
        by_rest.setdefault(json.dumps(rest, sort_keys=True), []).append(run)
    return [(runs[1]["name"], runs[0]["name"]) for runs in by_rest.values()
            if len(runs) == 2 and runs[0]["loss"] != runs[1]["loss"]]


def paired_difference(function: Callable[[Any, Any], tuple[float, float]],
                      results: "pd.DataFrame", study: "Study", metric: str = "test_accuracy") -> None:
    """``function(a, b)`` returns the mean and 95% CI half-width of a − b paired by seed (a, b:
    Series indexed by seed): on sample runs listed in different seed orders, then on every
    pair of this study's configurations that differ only in their loss."""
    import pandas as pd

    rng = np.random.default_rng(2)
    base = rng.normal(0.97, 0.01, 5)  # seed effects shared by both sides
    cases = [("sample a", "sample b", pd.Series(base + 0.002 + rng.normal(0, 1e-3, 5), index=range(5)),
              pd.Series(base, index=range(5))[::-1])]
    for left, right in _loss_pairs(study):
        a = results[results["name"] == left].set_index("seed")[metric]
        b = results[results["name"] == right].set_index("seed")[metric]
        if len(a.index.intersection(b.index)) > 1:
            cases.append((left, right, a, b))
    for left, right, a, b in cases:
        difference = (a - b).dropna()
        s = spread(difference)
        mean, half = (float(x) for x in function(a.copy(), b.copy()))
        if math.isclose(mean, s.mean, rel_tol=1e-6, abs_tol=1e-12) and \
                math.isclose(half, s.ci, rel_tol=1e-4, abs_tol=1e-12):
            continue
        unpaired = spread(a.to_numpy()).ci + spread(b.to_numpy()).ci
        hint = ""
        if math.isclose(mean, s.mean, rel_tol=1e-6, abs_tol=1e-12) and half >= 0.5 * unpaired:
            hint = (" Your interval is about as wide as the two runs' own spreads: subtract seed "
                    "by seed first (a − b aligns on the seed index), then take the interval of "
                    "the differences.")
        fail(f"{left} − {right}, paired by seed (differences by seed: "
             f"{', '.join(f'{k}: {v:+.6g}' for k, v in difference.items())}): your result is "
             f"{mean:+.6g} ± {half:.6g}; the mean of the differences ± t·s/√n is "
             f"{s.mean:+.6g} ± {s.ci:.6g}.{hint}")
    passed(f"your paired difference matches mnistlab's on {len(cases)} pair(s) "
           f"({len(cases) - 1} of them this study's configurations that differ only in the loss)")
