"""The checks of the exercises added to activation, width, batch_size, optimizer, function_fit
and dynamics: each passes the instructor's answer, fails a wrong one, and names the slip.

Small and quick: sample data and the params files, no training (the labs' own runs are
checked end to end by tests/test_labs.py).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mnistlab.notebook import checks
from mnistlab.notebook.study import open_study

from .conftest import REPO


def _study(experiment: str):
    return open_study(sorted((REPO / "params" / experiment).glob("*.yaml"))[0], "quick")


def _count(inputs, hidden, outputs):
    sizes = [inputs, *hidden, outputs]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


# --- activation -----------------------------------------------------------------------------

def _activation(name, x):
    return {"sigmoid": lambda: 1 / (1 + np.exp(-x)), "tanh": lambda: np.tanh(x),
            "relu": lambda: np.maximum(x, 0.0)}[name]()


def test_activation_slopes_written_on_x_instead_of_the_activation_are_named():
    study = _study("activation")

    def right(name, x):
        a = _activation(name, x)
        return {"sigmoid": a * (1 - a), "tanh": 1 - a ** 2, "relu": (x > 0).astype(float)}[name]

    checks.activations(_activation, right, study)

    def on_x(name, x):
        return x * (1 - x) if name == "sigmoid" else right(name, x)

    with pytest.raises(AssertionError, match="derivative of sigmoid.*compute a = sigmoid\\(x\\) first"):
        checks.activations(_activation, on_x, study)
    with pytest.raises(AssertionError, match="not its slope"):
        checks.activations(_activation, _activation, study)


# --- parameter counts, plateaus ---------------------------------------------------------------

def _runs(widths, accuracies, task="digits"):
    return pd.DataFrame({"name": [str(w) for w in widths], "hidden": [[w] for w in widths],
                         "task": task, "parameters": [_count(784, [w], 10) for w in widths],
                         "hidden_units": widths, "test_accuracy": accuracies, "group": "g"})


def test_parameter_counts_name_missing_biases_and_the_missing_output_layer():
    results = _runs([32, 64, 64], [0.9, 0.91, 0.92])
    checks.parameter_counts(_count, results)
    with pytest.raises(AssertionError, match="without the biases"):
        checks.parameter_counts(lambda i, h, o: sum(a * b for a, b in zip([i, *h, o], [*h, o])), results)
    with pytest.raises(AssertionError, match="output layer is missing"):
        checks.parameter_counts(lambda i, h, o: _count(i, h[:-1], h[-1]), results)


def test_a_plateau_is_the_smallest_width_close_to_the_best_mean():
    def right(widths, values, tolerance):
        means = pd.Series(values).groupby(widths).mean()
        return float(means[means >= means.max() - tolerance].index.min())

    results = _runs([16, 16, 64, 64, 256, 256], [0.95, 0.95, 0.970, 0.972, 0.973, 0.974])
    checks.plateau(right, results)
    best = lambda widths, values, tolerance: float(pd.Series(values).groupby(widths).mean().idxmax())
    with pytest.raises(AssertionError, match="That is the best width"):
        checks.plateau(best, results)
    lucky = lambda widths, values, tolerance: float(widths[int(np.argmax(values))])
    with pytest.raises(AssertionError, match="Average each width's seeds first"):
        checks.plateau(lucky, results)


# --- batch size -------------------------------------------------------------------------------

def test_updates_and_epochs_round_up():
    results = pd.DataFrame({"batch_size": [10, 128, 1024], "steps_per_epoch": [480, 38, 5]})
    checks.updates_per_epoch(lambda n, b: math.ceil(n / b), results, 4800)
    with pytest.raises(AssertionError, match="The last, smaller batch is an update too"):
        checks.updates_per_epoch(lambda n, b: n // b, results, 4800)
    epochs = lambda u, n, b: math.ceil(u / math.ceil(n / b))
    checks.epochs_for_updates(epochs, results, 4800)
    with pytest.raises(AssertionError, match="fall short of the updates: round up"):
        checks.epochs_for_updates(lambda u, n, b: u // math.ceil(n / b), results, 4800)


# --- optimizer --------------------------------------------------------------------------------

def _sgd(w, g, velocity, learning_rate, momentum):
    velocity = momentum * velocity - learning_rate * g
    return w + velocity, velocity


def _adam(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    return w - learning_rate * (m / (1 - beta_1 ** t)) / (np.sqrt(v / (1 - beta_2 ** t)) + epsilon), m, v


def test_sgd_and_adam_steps_are_checked_against_keras():
    study = _study("optimizer")
    checks.sgd_momentum(_sgd, study)
    with pytest.raises(AssertionError, match="That is plain SGD"):
        checks.sgd_momentum(lambda w, g, v, lr, momentum: (w - lr * g, v), study)
    checks.adam(_adam, study)

    def uncorrected(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v

    with pytest.raises(AssertionError, match="bias corrections"):
        checks.adam(uncorrected, study)


# --- function_fit and dynamics ----------------------------------------------------------------

def _probed(**arrays):
    return [(pd.Series({"name": "model1", "seed": 0, "batch_size": 100}), arrays)]


def test_minimal_ratio_names_zero_and_negative_counting():
    probes = _probed(critical_eigenvalues=np.array([3.0, 0.0, 0.0, -1.0, 2.0]))
    checks.minimal_ratio(lambda e: float(np.mean(e > 0)), probes)
    with pytest.raises(AssertionError, match="A zero eigenvalue is not positive"):
        checks.minimal_ratio(lambda e: float(np.mean(e >= 0)), probes)
    with pytest.raises(AssertionError, match="share of negative eigenvalues"):
        checks.minimal_ratio(lambda e: float(np.mean(e < 0)), probes)


def test_weight_pca_names_uncentred_coordinates_and_unsquared_shares():
    rng = np.random.default_rng(0)
    probes = _probed(weights=np.cumsum(rng.normal(0, 1, (6, 9)), axis=0),
                     steps_per_epoch=np.array([10, 10]))

    def right(snapshots):
        centred = snapshots - snapshots.mean(axis=0)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        return -(centred @ vt[:2].T), s[:2] ** 2 / np.sum(s ** 2)  # a flipped sign is fine

    checks.weight_pca(right, probes)

    def uncentred(snapshots):
        _, s, vt = np.linalg.svd(snapshots, full_matrices=False)
        return snapshots @ vt[:2].T, s[:2] ** 2 / np.sum(s ** 2)

    with pytest.raises(AssertionError, match="not centred"):
        checks.weight_pca(uncentred, probes)

    def unsquared(snapshots):
        coordinates, _ = right(snapshots)
        s = np.linalg.svd(snapshots - snapshots.mean(axis=0), compute_uv=False)
        return coordinates, s[:2] / s.sum()

    with pytest.raises(AssertionError, match="squared singular values"):
        checks.weight_pca(unsquared, probes)
    checks.recorded_steps(lambda n, b: math.ceil(n / b), probes, 950)
    with pytest.raises(AssertionError, match="round up"):
        checks.recorded_steps(lambda n, b: n // b, probes, 950)


# --- what a student sees ------------------------------------------------------------------------

def test_a_failed_check_shows_the_student_one_message_and_no_library_frames(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()  # a kernel's shell exists before the lab imports checks
    shell.run_cell("import importlib\nfrom mnistlab.notebook import checks\nimportlib.reload(checks);")
    capsys.readouterr()
    shell.run_cell("checks.parameters(12345, 784, [50], 10)")
    shown = capsys.readouterr().out
    assert "your model has 12,345 parameters" in shown
    assert "checks.py" not in shown and "def fail" not in shown, shown
