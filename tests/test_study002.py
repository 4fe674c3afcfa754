"""Study 002's additions: the function task and its data, the regression kind of run, the
networks' sizes, the dynamics probes (step loss, predictions, critical point and minimal
ratio), the weight PCA and the two-group statistics.  Tiny data and quick settings."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as scipy_stats

from mnistlab.analysis.derived import weights_without_biases
from mnistlab.analysis.dynamics import band, layer_slices, near_zero_share, ratio_beyond, weight_pca
from mnistlab.train.models import build_model
from mnistlab.core.errors import ParamsError
from mnistlab.spec.params import load_params, mlp_weights
from mnistlab.train.probes import CriticalPoint, minimal_ratio
from mnistlab.spec.sources import sinc_5pi
from mnistlab.analysis.stats import paired_by_seed, welch_difference
from mnistlab.spec.tasks import TASKS
from mnistlab.train.training import prepare_arrays, train_run

from .conftest import REPO

FUNCTION_FIT = REPO / "params/function_fit/002_abhinav.yaml"


def _fit(**overrides):
    run = {"kind": "regression", "name": "f", "label": "f", "group": "main", "task": "sinc_5pi",
           "hidden": [8, 4], "activation": ["tanh", "tanh"], "dropout": 0.0,
           "loss": "mean_squared_error", "optimizer": {"name": "adam", "learning_rate": 0.01},
           "batch_size": 64, "epochs": 3, "passes_per_epoch": 40, "train_inputs": "unit",
           "test_inputs": "unit"}
    run.update(overrides)
    return run


@pytest.fixture(scope="module")
def points():
    return prepare_arrays("sinc_5pi", "unit", "unit", 64, 50, 0.0)


def test_the_function_is_finite_at_its_removable_point_and_right_elsewhere():
    x = np.array([0.0, 1e-9, 0.1, 0.2, 0.37])
    y = sinc_5pi(x)
    assert y[0] == 1.0 and y[1] == pytest.approx(1.0)
    np.testing.assert_allclose(y[2:], np.sin(5 * np.pi * x[2:]) / (5 * np.pi * x[2:]), rtol=1e-12)


def test_function_points_cover_the_interval_and_test_between_them(points):
    x, y = points.x_train[:, 0], points.y_train[:, 0]
    assert points.x_train.shape == (64, 1) and points.x_train.dtype == np.float32
    np.testing.assert_allclose(np.sort(x), np.linspace(0, 1, 64), atol=1e-7)
    assert not np.all(np.diff(x) > 0), "a fixed shuffle, so a probe's first rows span [0, 1]"
    assert x[:16].min() < 0.25 and x[:16].max() > 0.75
    assert y[np.argmin(x)] == 1.0, "x = 0 is a training point with its limit value"
    test = points.x_test[:, 0]
    assert len(test) == 50 and test.min() > 0 and test.max() < 1
    assert np.min(np.abs(test[:, None] - np.linspace(0, 1, 64)[None, :])) > 1e-4
    np.testing.assert_allclose(points.y_test[:, 0], sinc_5pi(test.astype("float64")), atol=1e-6)


def test_each_task_names_its_own_data_source_and_digest():
    assert TASKS["sinc_5pi"].source is not TASKS["digits"].source
    assert TASKS["digits"].source is TASKS["zero_vs_rest"].source
    assert TASKS["sinc_5pi"].source.digest() != ""


def test_regression_run_trains_its_loss_falls_and_reports_no_accuracy(points):
    run = _fit(probes={"sample": 64, "loss": "step", "grad_norm": "step", "predictions": True})
    result = train_run(run, seed=0, arrays=points)
    assert result["epochs_run"] == 3 and set(result["history"]) == {"loss"}
    assert "train_accuracy" not in result and result["test_loss"] < 0.05
    losses = result["probes"]["loss_step"]
    assert len(losses) == 3 * 40 * 1, "64 points at batch 64: one step per pass, 40 passes"
    assert losses[-1] < losses[0] / 3
    # Keras's epoch loss is the mean of that epoch's step losses (equal batches)
    np.testing.assert_allclose(result["history"]["loss"], losses.reshape(3, -1).mean(axis=1),
                               rtol=1e-4)
    assert result["probes"]["steps_per_epoch"].tolist() == [40] * 3
    probes = result["probes"]
    assert probes["predictions"].shape == probes["targets"].shape == (64, 1)
    assert np.mean((probes["predictions"] - probes["targets"]) ** 2) < 0.05


def test_passes_per_epoch_only_regroups_the_logging(points):
    grouped = train_run(_fit(batch_size=32, passes_per_epoch=5, epochs=2), seed=4, arrays=points)
    single = train_run(_fit(batch_size=32, passes_per_epoch=1, epochs=10), seed=4, arrays=points)
    assert grouped["test_loss"] == pytest.approx(single["test_loss"], rel=1e-5)
    np.testing.assert_allclose(grouped["history"]["loss"],
                               np.mean(np.reshape(single["history"]["loss"], (2, 5)), axis=1),
                               rtol=1e-5)


@pytest.mark.parametrize("hidden, with_biases, without", [
    ([220], 661, 440), ([300], 901, 600), ([50, 10, 4], 659, 594), ([60, 8, 6], 669, 594)])
def test_function_networks_sizes(hidden, with_biases, without):
    assert mlp_weights(1, hidden, 1) == with_biases
    assert weights_without_biases(1, hidden, 1) == without
    run = _fit(hidden=hidden, activation=["tanh"] * len(hidden))
    assert build_model(run).count_params() == with_biases


@pytest.mark.parametrize("hidden, with_biases, stated", [
    ([128], 101770, 101632), ([107, 64, 64, 64, 16], 100437, 100112), ([128, 64], 109386, 109184)])
def test_mnist_models_sizes_match_the_studys_products_without_biases(hidden, with_biases, stated):
    assert mlp_weights(784, hidden, 10) == with_biases
    assert weights_without_biases(784, hidden, 10) == stated


def test_random_normal_kernels_have_their_spread_and_differ_by_layer():
    run = {"kind": "mlp", "task": "digits", "hidden": [64, 64, 64], "activation": ["tanh"] * 3,
           "kernel_initializer": {"name": "random_normal", "stddev": 1.0}}
    keras.utils.set_random_seed(0)
    kernels = [layer.kernel.numpy() for layer in build_model(run).layers]
    assert np.std(kernels[0]) == pytest.approx(1.0, rel=0.02)
    assert not np.allclose(kernels[1], kernels[2]), "one initializer per layer"


def test_minimal_ratio_of_hand_made_spectra():
    assert minimal_ratio(np.array([-1.0, 0.0, 2.0, 3.0])) == 0.5
    assert minimal_ratio(np.array([0.1, 5.0])) == 1.0
    assert minimal_ratio(np.array([-2.0, -1e-9])) == 0.0
    with pytest.raises(ValueError):
        minimal_ratio(np.array([]))
    spectrum = np.array([-1e-9, 1e-9, 2e-9, -0.5, 1.0, 10.0])
    assert near_zero_share(spectrum, 1e-6) == 0.5
    assert ratio_beyond(spectrum, 1e-6) == pytest.approx(2 / 3)


def test_critical_point_of_a_quadratic_loss_is_reached_in_one_newton_step():
    """A linear model under MSE has a quadratic loss: one Newton step lands on its minimum,
    where the Hessian (2·E[x xᵀ] over [x, 1]) is positive definite: minimal ratio 1."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2)).astype("float32")
    y = (x @ np.array([[1.5], [-2.0]]) + 0.3 + 0.1 * rng.normal(size=(40, 1))).astype("float32")
    probe = CriticalPoint({"sample": 40, "critical": {"steps": 2, "cutoff": 1e-4}}, x, y,
                          "mean_squared_error", 1)
    probe.set_model(model)
    before = [w.numpy().copy() for w in model.trainable_variables]
    probe.on_train_end()
    arrays = probe.arrays()
    assert arrays["critical_grad_norm"][0] > 1.0
    assert arrays["critical_grad_norm"][-1] < 1e-4 * arrays["critical_grad_norm"][0]
    design = np.hstack([x, np.ones((40, 1))]).astype("float64")
    solution = np.linalg.lstsq(design, y.astype("float64"), rcond=None)[0]
    residual = float(np.mean((design @ solution - y) ** 2))
    assert float(arrays["critical_loss"]) == pytest.approx(residual, rel=1e-3)
    np.testing.assert_allclose(np.sort(arrays["critical_eigenvalues"]),
                               np.linalg.eigvalsh(2 * design.T @ design / 40), rtol=1e-3)
    assert float(arrays["minimal_ratio"]) == 1.0
    for kept, weight in zip(before, model.trainable_variables):
        np.testing.assert_array_equal(kept, weight.numpy())  # trained weights restored


def test_weight_pca_shares_axes_across_runs_and_finds_a_line():
    direction = np.arange(1, 7, dtype=float)
    runs = [np.outer(np.linspace(start, start + 1, 5), direction) for start in (0.0, 3.0)]
    projection = weight_pca(runs)
    assert [p.shape for p in projection.paths] == [(5, 2), (5, 2)]
    assert projection.explained[0] == pytest.approx(1.0)
    first, second = projection.paths
    steps = np.diff(first[:, 0])
    assert np.allclose(steps, steps[0]) and np.allclose(first[:, 1], 0, atol=1e-9)
    # one shared axis: the second run is the first moved 3 units along it
    np.testing.assert_allclose(second[:, 0] - first[:, 0], 3 * np.linalg.norm(direction) * np.sign(steps[0]))
    with pytest.raises(ValueError):
        weight_pca([np.zeros((2, 3)), np.zeros((2, 4))])


def test_layer_slices_cover_the_flat_weights_in_keras_order():
    slices = layer_slices(784, [128], 10)
    assert slices[0] == slice(0, 785 * 128) and slices[-1].stop == mlp_weights(784, [128], 10)
    keras.utils.set_random_seed(0)
    model = build_model({"kind": "mlp", "task": "digits", "hidden": [5], "activation": ["relu"]})
    flat = np.concatenate([w.numpy().ravel() for w in model.trainable_variables])
    first = flat[layer_slices(784, [5], 10)[0]]
    np.testing.assert_array_equal(first[: 784 * 5], model.layers[0].kernel.numpy().ravel())


def test_band_is_the_median_and_quartiles_per_step():
    median, low, high = band([np.array([1.0, 2.0, 9.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0])])
    np.testing.assert_allclose(median, [3, 4])
    np.testing.assert_allclose(low, [2, 3])
    np.testing.assert_allclose(high, [4, 5])


def test_welch_and_paired_differences_match_scipy():
    a, b = np.array([1.0, 2.0, 3.5, 2.5]), np.array([0.5, 0.7, 1.1])
    result = welch_difference(a, b)
    assert result.mean == pytest.approx(a.mean() - b.mean())
    assert result.p_value == pytest.approx(scipy_stats.ttest_ind(a, b, equal_var=False).pvalue)
    left = pd.Series([1.0, 2.0, 3.0, 4.0], index=[0, 1, 2, 3])
    right = pd.Series([0.5, 1.8, 2.1, 3.0, 9.0], index=[0, 1, 2, 3, 4])
    paired = paired_by_seed(left, right)
    assert paired.n_a == 4 and paired.mean == pytest.approx(0.65)
    assert paired.p_value == pytest.approx(scipy_stats.ttest_rel(left, right[:4]).pvalue)


def _variant(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load(FUNCTION_FIT.read_text())
    edit(raw)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda raw: raw["defaults"].update(loss="binary_crossentropy"),
     "key 'defaults.loss': value 'binary_crossentropy' is not allowed"),
    (lambda raw: raw["data"].update(task="digits"),
     "loss 'mean_squared_error' is not allowed for task digits"),
    (lambda raw: raw["defaults"].update(passes_per_epoch=0), "passes_per_epoch"),
    (lambda raw: raw["configurations"][0].update(hidden=[3000, 2]),
     "probes.hessian and probes.critical need a model of at most 5000 weights"),
    (lambda raw: raw["defaults"].update(kernel_initializer={"name": "glorot_uniform",
                                                            "stddev": 1.0}),
     "kernel_initializer.stddev"),
    (lambda raw: raw["defaults"]["probes"].update(critical={"steps": 0}), "critical.steps"),
], ids=["loss", "task", "passes", "hessian-size", "initializer", "newton-steps"])
def test_bad_study_002_settings_are_refused_where_written(tmp_path, edit, message):
    load_params(FUNCTION_FIT)
    with pytest.raises(ParamsError) as error:
        load_params(_variant(tmp_path, edit))
    assert message in str(error.value)
