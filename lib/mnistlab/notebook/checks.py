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
from types import TracebackType
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


def _without_library_frames(trace: TracebackType | None) -> TracebackType | None:
    """The traceback less this module's frames: the student's cell line, then the message."""
    if trace is None:
        return None
    rest = _without_library_frames(trace.tb_next)
    if trace.tb_frame.f_code.co_filename == __file__:
        return rest
    return TracebackType(rest, trace.tb_frame, trace.tb_lasti, trace.tb_lineno)


def _show_failures_briefly() -> None:
    """In IPython (a student's JupyterLab, a grading kernel), a failed check shows its
    teaching line under the student's own code instead of 15–25 frames of this module.
    IPython keeps the frame an exception is raised in, even one marked hidden, so the
    frames are taken out of the traceback it prints."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def brief(shell: Any, kind: type, error: BaseException, trace: TracebackType | None,
              tb_offset: int | None = None) -> None:
        shell.showtraceback((kind, error, _without_library_frames(trace)), tb_offset=tb_offset)

    shell.set_custom_exc((AssertionError,), brief)


_show_failures_briefly()


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

def _pairs(study: "Study", setting: str) -> list[tuple[str, str]]:
    """Pairs of configurations that differ in ``setting`` and nothing else: each against the
    first of its kind."""
    import json

    by_rest: dict[str, list[dict]] = {}
    for run in resolve_runs(study.params):
        rest = {k: v for k, v in run.items() if k not in ("name", "label", "group", setting)}
        by_rest.setdefault(json.dumps(rest, sort_keys=True), []).append(run)
    return [(other["name"], runs[0]["name"]) for runs in by_rest.values() for other in runs[1:]
            if other[setting] != runs[0][setting]]


def paired_difference(function: Callable[[Any, Any], tuple[float, float]],
                      results: "pd.DataFrame", study: "Study", metric: str = "test_accuracy",
                      setting: str = "loss") -> None:
    """``function(a, b)`` returns the mean and 95% CI half-width of a − b paired by seed (a, b:
    Series indexed by seed): on sample runs listed in different seed orders, then on every
    pair of this study's configurations that differ only in ``setting``."""
    import pandas as pd

    rng = np.random.default_rng(2)
    base = rng.normal(0.97, 0.01, 5)  # seed effects shared by both sides
    cases = [("sample a", "sample b", pd.Series(base + 0.002 + rng.normal(0, 1e-3, 5), index=range(5)),
              pd.Series(base, index=range(5))[::-1])]
    for left, right in _pairs(study, setting):
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
           f"({len(cases) - 1} of them this study's configurations that differ only in the {setting})")


# --- activation functions -----------------------------------------------------------------

def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = {  # name: (function, derivative), in float64
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(float)),
}
SAMPLE_X = np.array([-6.0, -2.5, -1.0, -0.1, 0.0, 0.1, 0.5, 1.0, 3.0, 6.0])


def _derivative_hint(name: str, got: np.ndarray, x: np.ndarray) -> str:
    """Name the slip behind a wrong derivative, if it is a common one."""
    function = ACTIVATIONS[name][0]
    if name in ("sigmoid", "tanh"):
        of_input = x * (1 - x) if name == "sigmoid" else 1 - x ** 2
        if np.allclose(got, of_input):
            return (f" You applied the {name} form of the derivative to x itself; it is written in "
                    f"terms of the activation's value, so compute a = {name}(x) first.")
    if np.allclose(got, function(x)):
        return " That is the function itself, not its slope."
    return ""


def activations(function: Callable[[str, np.ndarray], Any],
                derivative: Callable[[str, np.ndarray], Any], study: "Study") -> None:
    """``function(name, x)`` and ``derivative(name, x)`` give sigmoid, tanh and relu and
    their slopes, element-wise, on sample inputs."""
    x = SAMPLE_X.copy()
    for name, (expected_f, expected_d) in ACTIVATIONS.items():
        got = np.asarray(function(name, x.copy()), dtype=float)
        if got.shape != x.shape or not np.allclose(got, expected_f(x), rtol=1e-6, atol=1e-9):
            fail(f"{name}(x) at x = {_listed(x, 3)}: yours gives {_listed(np.ravel(got), 4)}; "
                 f"expected {_listed(expected_f(x), 4)}")
        slope = np.asarray(derivative(name, x.copy()), dtype=float)
        if slope.shape != x.shape or not np.allclose(slope, expected_d(x), rtol=1e-6, atol=1e-9):
            fail(f"the derivative of {name} at x = {_listed(x, 3)}: yours gives "
                 f"{_listed(np.ravel(slope), 4)}; expected {_listed(expected_d(x), 4)}."
                 + _derivative_hint(name, slope, x))
    used = sorted({a for run in resolve_runs(study.params) for a in run["activation"]})
    passed(f"sigmoid, tanh and relu and their slopes match; this study trains {', '.join(used)}. "
           "Note where each slope is nearly 0: that is where a layer stops learning")


# --- parameter counts from the study's runs -----------------------------------------------

def parameter_counts(count: Callable[[int, list[int], int], int], results: "pd.DataFrame") -> None:
    """``count(inputs, hidden, outputs)`` gives every run's recorded parameter count."""
    seen = set()
    for _, row in results.iterrows():
        spec = task(row["task"])
        key = (spec.inputs, tuple(row["hidden"]), spec.outputs)
        if key in seen:
            continue
        seen.add(key)
        got = count(spec.inputs, list(row["hidden"]), spec.outputs)
        if got != row["parameters"]:
            sizes = [spec.inputs, *row["hidden"], spec.outputs]
            hint = ""
            if got == sum(a * b for a, b in zip(sizes, sizes[1:])):
                hint = " That is without the biases: each unit has one more weight."
            elif got == sum((a + 1) * b for a, b in zip(sizes[:-2], sizes[1:-1])):
                hint = " The output layer is missing: it has (last hidden + 1) × outputs weights."
            fail(f"run {row['name']!r} ({describe_network(spec.inputs, sizes[1:-1], spec.outputs)}) has "
                 f"{int(row['parameters']):,} parameters; yours counts {got!r}.{hint}")
    passed(f"your counts match the {len(seen)} network(s) this study trained")


# --- plateaus -------------------------------------------------------------------------------

def _plateau(widths: Sequence[float], values: Sequence[float], tolerance: float) -> float:
    means = _means(widths, values)
    best = max(means.values())
    return min(w for w, m in means.items() if m >= best - tolerance)


def _means(keys: Sequence[float], values: Sequence[float]) -> dict[float, float]:
    """Mean of ``values`` per key (per width), keys sorted."""
    groups: dict[float, list[float]] = {}
    for key, value in zip(keys, values):
        groups.setdefault(float(key), []).append(float(value))
    return {key: float(np.mean(groups[key])) for key in sorted(groups)}


def plateau(function: Callable[[list, list, float], float], results: "pd.DataFrame",
            setting: str = "hidden_units", metric: str = "test_accuracy") -> None:
    """``function(widths, accuracies, tolerance)`` is the smallest width whose mean accuracy
    over seeds is within ``tolerance`` of the best width's mean."""
    cases = [([8, 8, 16, 16], [0.80, 0.99, 0.90, 0.91], 0.005),  # one lucky seed at 8
             ([10, 10, 50, 50, 100, 100], [0.90, 0.92, 0.960, 0.962, 0.963, 0.965], 0.005),
             ([100, 10, 50, 100, 10, 50], [0.97, 0.95, 0.969, 0.975, 0.90, 0.968], 0.01)]
    for _, group in results.groupby("group", sort=False) if "group" in results else [(None, results)]:
        if group[setting].nunique() > 1:
            cases.append((list(group[setting]), list(group[metric]), 0.005))
    for widths, values, tolerance in cases:
        expected = _plateau(widths, values, tolerance)
        got = function(list(widths), list(values), tolerance)
        if float(got) != expected:
            means = _means(widths, values)
            hint = ""
            if float(got) == max(means, key=means.get):
                hint = " That is the best width; the plateau starts at the smallest one close to it."
            elif float(got) in {float(w) for w, v in zip(widths, values) if v == max(values)}:
                hint = " Average each width's seeds first: one lucky seed is not a plateau."
            fail(f"widths {list(widths)} with accuracies {_listed(values, 4)} (means per width "
                 f"{', '.join(f'{w:g}: {m:.4f}' for w, m in means.items())}), tolerance "
                 f"{tolerance:g}: the plateau starts at {expected:g}; yours says {got!r}.{hint}")
    passed(f"your plateau matches on {len(cases)} sets of runs ({len(cases) - 3} of them this "
           "study's)")


# --- updates per epoch --------------------------------------------------------------------

def updates_per_epoch(function: Callable[[int, int], int], results: "pd.DataFrame",
                      rows: int) -> None:
    """``function(samples, batch_size)`` is the number of optimizer updates in one epoch:
    every batch is one update, the last, smaller one too."""
    cases = [(60000, 32), (1000, 1000), (1000, 3), (48000, 10000), (10, 1)]
    cases += [(rows, int(b)) for b in sorted(results["batch_size"].unique())]
    for samples, batch in cases:
        got, expected = function(samples, batch), math.ceil(samples / batch)
        if got != expected:
            hint = ""
            if got == samples // batch:
                hint = " The last, smaller batch is an update too: round up."
            elif math.isclose(float(got), samples / batch):
                hint = " An update count is a whole number: round up."
            fail(f"{samples:,} training images in batches of {batch:,}: {expected:,} updates per "
                 f"epoch; yours says {got!r}.{hint}")
    recorded = results.get("steps_per_epoch")
    if recorded is not None:
        for batch, steps in zip(results["batch_size"], recorded):
            if function(rows, int(batch)) != steps:
                fail(f"the runs with batch size {batch} made {steps} updates per epoch on "
                     f"{rows:,} images; yours says {function(rows, int(batch))!r}")
    passed(f"your updates per epoch match on {len(cases)} cases, this study's "
           f"{results['batch_size'].nunique()} batch sizes on its {rows:,} training images among them")


def epochs_for_updates(function: Callable[[int, int, int], int], results: "pd.DataFrame",
                       rows: int) -> None:
    """``function(updates, samples, batch_size)`` is how many epochs a batch size needs to
    make at least ``updates`` optimizer updates."""
    batches = sorted(int(b) for b in results["batch_size"].unique())
    cases = [(1875, 60000, 32), (1875, 60000, 1024), (10, 1000, 1000), (7, 100, 30)]
    cases += [(math.ceil(rows / batches[0]), rows, b) for b in batches]
    for updates, samples, batch in cases:
        per_epoch = math.ceil(samples / batch)
        expected = math.ceil(updates / per_epoch)
        got = function(updates, samples, batch)
        if got != expected:
            hint = ""
            if got == updates // per_epoch:
                hint = " Rounded down, the runs fall short of the updates: round up."
            elif got == math.ceil(updates / (samples // batch or 1)):
                hint = " Count the last, smaller batch of each epoch as an update too."
            fail(f"{updates:,} updates with {samples:,} images in batches of {batch:,} "
                 f"({per_epoch:,} updates per epoch) take {expected:,} epochs; yours says {got!r}.{hint}")
    biggest = math.ceil(math.ceil(rows / batches[0]) / math.ceil(rows / batches[-1]))
    passed(f"your epochs match on {len(cases)} cases: to make as many updates as batch "
           f"{batches[0]} makes in one epoch, batch {batches[-1]} needs {biggest:,} epochs")


# --- optimizer steps ----------------------------------------------------------------------

def _keras_steps(optimizer: Any, start: np.ndarray, gradients: list[np.ndarray]) -> np.ndarray:
    import keras

    weights = keras.Variable(start.astype("float32"))
    for gradient in gradients:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient.astype("float32")), weights)])
    return np.asarray(keras.ops.convert_to_numpy(weights), dtype=float)


def _sample_steps(count: int = 3, seed: int = 3) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, 6), [rng.normal(0, 1, 6) for _ in range(count)]


def _optimizer_settings(study: "Study", name: str, defaults: dict[str, float]) -> list[dict]:
    """Every distinct setting of optimizer ``name`` this study trains with (Keras's defaults
    filled in), and the defaults themselves."""
    found = [dict(defaults)]
    for run in resolve_runs(study.params):
        if run["optimizer"]["name"] == name:
            setting = {**defaults, **{k: v for k, v in run["optimizer"].items() if k in defaults}}
            if setting not in found:
                found.append(setting)
    return found


def sgd_momentum(function: Callable[..., tuple[Any, Any]], study: "Study") -> None:
    """``function(w, g, velocity, learning_rate, momentum)`` returns (new w, new velocity)
    as Keras's SGD does, over three steps from zero velocity."""
    import keras

    start, gradients = _sample_steps()
    settings = _optimizer_settings(study, "sgd", {"learning_rate": 0.01, "momentum": 0.0})
    settings += [{"learning_rate": 0.1, "momentum": 0.9}]
    for setting in settings:
        expected = _keras_steps(keras.optimizers.SGD(**setting), start, gradients)
        w, velocity = start.copy(), np.zeros_like(start)
        for gradient in gradients:
            w, velocity = (np.asarray(v, dtype=float) for v in function(
                w, gradient.copy(), velocity, setting["learning_rate"], setting["momentum"]))
        if not np.allclose(w, expected, rtol=1e-4, atol=1e-5):
            plain = start - setting["learning_rate"] * np.sum(gradients, axis=0)
            hint = ""
            if setting["momentum"] and np.allclose(w, plain, rtol=1e-4, atol=1e-5):
                hint = " That is plain SGD: the velocity must carry momentum × the last velocity."
            elif setting["momentum"] and np.allclose(w, 2 * start - expected, rtol=1e-3, atol=1e-4):
                hint = " The step goes the wrong way: velocity = momentum·v − lr·g, then w + velocity."
            fail(f"three steps of SGD(learning_rate={setting['learning_rate']:g}, momentum="
                 f"{setting['momentum']:g}) from w = {_listed(start, 3)}: Keras ends at "
                 f"{_listed(expected, 5)}; yours at {_listed(w, 5)}.{hint}")
    passed(f"your SGD step matches Keras's for {len(settings)} settings (this study's among them)")


ADAM = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


def adam(function: Callable[..., tuple[Any, Any, Any]], study: "Study") -> None:
    """``function(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon)`` returns (w, m, v)
    after Adam's step number ``t`` (from 1), as Keras's Adam does."""
    import keras

    start, gradients = _sample_steps(count=4, seed=4)
    settings = _optimizer_settings(study, "adam", ADAM) + [{**ADAM, "learning_rate": 0.1}]
    for setting in settings:
        expected = _keras_steps(keras.optimizers.Adam(**setting), start, gradients)
        w, m, v = start.copy(), np.zeros_like(start), np.zeros_like(start)
        for t, gradient in enumerate(gradients, 1):
            w, m, v = (np.asarray(x, dtype=float) for x in function(w, gradient.copy(), m, v, t,
                                                                   **setting))
        if not np.allclose(w, expected, rtol=1e-4, atol=1e-5):
            fail(f"four steps of Adam({', '.join(f'{k}={x:g}' for k, x in setting.items())}) from "
                 f"w = {_listed(start, 3)}: Keras ends at {_listed(expected, 5)}; yours at "
                 f"{_listed(w, 5)}. Check the bias corrections m / (1 − β₁ᵗ) and v / (1 − β₂ᵗ) "
                 "with t counted from 1, and that v averages g², not g")
    passed(f"your Adam step matches Keras's for {len(settings)} settings (this study's among "
           "them): early steps are about learning_rate long whatever the gradient's size")


# --- Hessian spectra and weight paths -----------------------------------------------------

def minimal_ratio(function: Callable[[np.ndarray], float],
                  probes: list[tuple[Any, dict[str, np.ndarray]]]) -> None:
    """``function(eigenvalues)`` is the share of positive eigenvalues, as recorded by every
    probed run of the study."""
    cases = [("sample", np.array([2.0, 1.0, 0.0, -1.0])), ("sample", np.array([3.0, 1e-9])),
             ("sample", np.array([-1.0, -2.0, 0.5]))]
    cases += [(f"run {row['name']!r} seed {row['seed']}", arrays["critical_eigenvalues"])
              for row, arrays in probes if "critical_eigenvalues" in arrays]
    for name, values in cases:
        expected, got = float(np.mean(values > 0)), float(function(values.copy()))
        if not math.isclose(got, expected, abs_tol=1e-12):
            hint = ""
            if math.isclose(got, float(np.mean(values >= 0))):
                hint = " A zero eigenvalue is not positive: it is a flat direction, count > 0."
            elif math.isclose(got, float(np.mean(values < 0))):
                hint = " That is the share of negative eigenvalues (the descent directions)."
            elif math.isclose(got, float(np.sum(values > 0))):
                hint = " That is a count; the ratio divides by the number of eigenvalues."
            fail(f"{name}: {len(values)} eigenvalues, {int(np.sum(values > 0))} of them positive: "
                 f"minimal ratio {expected:.6g}; yours {got:.6g}.{hint}")
    passed(f"your minimal ratio matches on {len(cases)} spectra ({len(cases) - 3} recorded by "
           "this study's runs): 1 would be a minimum; below 1 the point is a saddle")


def _trajectories(probes: list[tuple[Any, dict[str, np.ndarray]]]) -> list[np.ndarray | None]:
    """Each probed run's weight snapshots (None where it saved fewer than three: no path)."""
    return [arrays["weights"] if len(arrays.get("weights", ())) >= 3 else None
            for _, arrays in probes]


def weight_pca(function: Callable[[np.ndarray], tuple[Any, Any]],
               probes: list[tuple[Any, dict[str, np.ndarray]]]) -> None:
    """``function(snapshots)`` returns (coordinates of each snapshot on the first two
    principal components, their shares of the variance), as ``analysis.dynamics`` computes
    them; each component's sign is free."""
    from mnistlab.analysis.dynamics import weight_pca as reference

    rng = np.random.default_rng(5)
    cases = [("sample", np.cumsum(rng.normal(0, 1, (8, 5)), axis=0) + 10.0)]
    cases += [(f"the study's {len(t)} snapshots of {row['name']!r} seed {row['seed']}", t)
              for (row, _), t in zip(probes, _trajectories(probes)) if t is not None][:2]
    for name, snapshots in cases:
        expected = reference([snapshots])
        coordinates, shares = function(np.array(snapshots, dtype=float))
        coordinates, shares = np.asarray(coordinates, dtype=float), np.asarray(shares, dtype=float)
        want = expected.paths[0]
        if coordinates.shape != want.shape:
            fail(f"{name}: coordinates of shape {coordinates.shape}; expected {want.shape}, one "
                 "row per snapshot and one column per component (project onto Vt[:2].T)")
        signs = np.sign(np.sum(coordinates * want, axis=0))
        signs[signs == 0] = 1
        scale = max(float(np.abs(want).max()), 1e-12)
        if not np.allclose(coordinates * signs, want, atol=1e-6 * scale):
            raw = np.array(snapshots, dtype=float)
            hint = ""
            if abs(float(np.mean(coordinates[:, 0])) / scale) > 1e-3:
                hint = " Your coordinates are not centred: subtract the mean snapshot first."
            elif np.allclose(np.abs(coordinates), np.abs(np.linalg.svd(raw - raw.mean(0))[0][:, :2]),
                             atol=1e-6):
                hint = " Those are U's columns; the coordinates are U·S (or centred @ Vt[:2].T)."
            fail(f"{name}: your coordinates differ from the projection on the first two "
                 f"principal components (first snapshot: yours {_listed(coordinates[0], 5)}, "
                 f"expected ±{_listed(want[0], 5)}).{hint}")
        if not np.allclose(shares, expected.explained, rtol=1e-6, atol=1e-9):
            hint = " Shares of variance use the squared singular values." \
                if np.allclose(shares, _singular_shares(snapshots), rtol=1e-6) else ""
            fail(f"{name}: your shares of variance {_listed(shares, 5)}; expected "
                 f"{_listed(expected.explained, 5)}.{hint}")
    passed(f"your PCA matches on {len(cases)} trajectories ({len(cases) - 1} of them this "
           "study's): the first component carries most of the path")


def _singular_shares(snapshots: np.ndarray) -> np.ndarray:
    centred = np.asarray(snapshots, dtype=float) - np.mean(snapshots, axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    return singular[:2] / singular.sum()


def recorded_steps(function: Callable[[int, int], int],
                   probes: list[tuple[Any, dict[str, np.ndarray]]], rows: int) -> None:
    """``function(samples, batch_size)`` gives the updates per epoch every probed run
    recorded (``steps_per_epoch``) on its ``rows`` training images."""
    checked = 0
    for row, arrays in probes:
        if "steps_per_epoch" not in arrays:
            continue
        recorded, batch = int(arrays["steps_per_epoch"][0]), int(row["batch_size"])
        got = function(rows, batch)
        if got != recorded:
            hint = " The last, smaller batch is an update too: round up." \
                if got == rows // batch else ""
            fail(f"run {row['name']!r} seed {row['seed']} trained on {rows:,} images in batches "
                 f"of {batch:,} and recorded {recorded:,} updates per epoch; yours says {got!r}.{hint}")
        checked += 1
    if not checked:
        fail("no run of this study recorded its updates per epoch (the steps_per_epoch probe)")
    passed(f"your updates per epoch match the {checked} probed run(s) of this study")
