"""K seeds stepped by one compiled call give exactly what K separate runs give, for every
kind of run a study trains together: classification with dropout and a partial batch,
early stopping where seeds stop at different epochs, a validation split, and a regression
with probes recorded inside the compiled epoch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnistlab.spec.params import load_params, resolve_runs
from mnistlab.train.training import prepare_arrays, train_run, train_runs

REPO = Path(__file__).resolve().parents[1]


def _run(**changes) -> dict:
    run = {"name": "t", "hidden": [50], "activation": ["relu"], "dropout": 0.0,
           "loss": "sparse_categorical_crossentropy",
           "optimizer": {"name": "adam", "learning_rate": 0.001}, "batch_size": 32, "epochs": 3,
           "early_stopping": None, "train_inputs": "unit", "test_inputs": "unit",
           "task": "digits"}
    return {**run, **changes}


def _same(together: dict, alone: dict) -> None:
    """Equal to the last bit: scores, history, and every probe array."""
    assert together["history"] == alone["history"]
    for name in ("epochs_run", "parameters", "train_loss", "test_loss"):
        assert together[name] == alone[name] or (np.isnan(together[name]) and np.isnan(alone[name])), name
    assert together["probes"].keys() == alone["probes"].keys()
    for name, array in alone["probes"].items():
        np.testing.assert_array_equal(together["probes"][name], array, err_msg=name)


def test_towers_with_dropout_and_a_partial_batch_are_bit_equal(mnist_dir):
    arrays = prepare_arrays("digits", "unit", "unit", 1000, 500, 0.0)
    run = _run(hidden=[64, 64], activation=["relu", "relu"], dropout=0.25,
               loss="categorical_crossentropy", batch_size=96, epochs=2)
    together = train_runs(run, [0, 1], arrays)
    for seed, result in zip([0, 1], together):
        _same(result, train_run(run, seed, arrays))
        assert result["seeds_together"] == 2


def test_a_tower_that_stops_early_leaves_the_group_with_its_weights(mnist_dir):
    arrays = prepare_arrays("digits", "unit", "unit", 3200, 1000, 0.0)
    run = _run(optimizer={"name": "sgd", "learning_rate": 5.0}, epochs=5,
               early_stopping={"monitor": "loss", "patience": 0})
    together = train_runs(run, [1, 2, 3], arrays)
    assert len({r["epochs_run"] for r in together}) > 1, "the seeds stop at different epochs"
    for seed, result in zip([1, 2, 3], together):
        _same(result, train_run(run, seed, arrays))


def test_towers_with_a_validation_split_score_each_model_every_epoch(mnist_dir):
    arrays = prepare_arrays("digits", "unit", "unit", 1200, 500, 0.2)
    run = _run(epochs=3, early_stopping={"monitor": "val_loss", "patience": 1})
    together = train_runs(run, [0, 1], arrays)
    assert "val_loss" in together[0]["history"]
    for seed, result in zip([0, 1], together):
        _same(result, train_run(run, seed, arrays))


def test_a_regression_with_probes_records_each_towers_own_arrays(mnist_dir):
    """Study 002's function fit as its params file resolves it (every probe it records,
    the critical-point search included), shortened."""
    params = load_params(REPO / "params" / "function_fit" / "002_abhinav.yaml")
    model2 = next(r for r in resolve_runs(params) if r["name"] == "model2")
    run = {**model2, "passes_per_epoch": 3, "epochs": 2}
    arrays = prepare_arrays(run["task"], "unit", "unit", 500, 500, 0.0)
    together = train_runs(run, [0, 1], arrays)
    assert {"loss_step", "grad_norm_step", "predictions", "minimal_ratio"} <= set(together[0]["probes"])
    assert not np.array_equal(together[0]["probes"]["loss_step"], together[1]["probes"]["loss_step"])
    for seed, result in zip([0, 1], together):
        _same(result, train_run(run, seed, arrays))


def test_the_plain_engine_trains_one_seed_at_a_time(mnist_dir):
    arrays = prepare_arrays("digits", "unit", "unit", 200, 100, 0.0)
    with pytest.raises(ValueError, match="one seed at a time"):
        train_runs(_run(epochs=1), [0, 1], arrays, engine="plain")


def test_a_test_curve_ends_at_the_runs_test_scores_and_starts_as_a_shorter_run(mnist_dir):
    """The training-length reading (004 Tables I-II) reads a longer run's test curve at an
    earlier epoch: that must be what a run stopped there scores, and its last point must be
    the run's own test score, for towers as for one seed."""
    arrays = prepare_arrays("digits", "unit", "unit", 1000, 500, 0.2)
    run = _run(epochs=4, test_curve=True, loss="categorical_crossentropy")
    together = train_runs(run, [0, 1], arrays)
    shorter = train_run({**run, "epochs": 2, "test_curve": False}, 1, arrays)
    for result in together:
        assert len(result["history"]["test_loss"]) == 4
        assert result["history"]["test_loss"][-1] == result["test_loss"]
        assert result["history"]["test_accuracy"][-1] == result["test_accuracy"]
    assert together[1]["history"]["test_loss"][1] == shorter["test_loss"]
    assert together[1]["history"]["test_accuracy"][1] == shorter["test_accuracy"]
    assert together[1]["history"]["val_loss"][:2] == shorter["history"]["val_loss"]
    with pytest.raises(ValueError, match="without a test curve"):
        train_runs(run, [0], arrays, engine="plain")
