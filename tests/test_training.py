"""The fast trainer gives what the plain path gives, and its results are sane."""

from __future__ import annotations

import pytest

from mnistlab.sweep import run_key
from mnistlab.training import prepare_arrays, train_run


def _run(**overrides):
    run = {"name": "t", "hidden": [50], "activation": ["relu"], "dropout": 0.0,
           "loss": "sparse_categorical_crossentropy",
           "optimizer": {"name": "adam", "learning_rate": 0.001}, "batch_size": 32,
           "epochs": 3, "early_stopping": {"monitor": "loss", "patience": 1},
           "train_inputs": "unit", "test_inputs": "unit", "task": "digits"}
    run.update(overrides)
    return run


@pytest.fixture
def small(mnist_dir):
    # 1000 samples at batch 32 is 32 steps: not a multiple of the chunk sizes used below,
    # which is exactly where a multi-step loop could run past an epoch's end.
    return prepare_arrays("digits", "unit", "unit", 1000, 500, 0.0)


@pytest.mark.parametrize("chunk", [7, 256])
def test_steps_per_execution_does_not_change_the_numbers(small, chunk):
    plain = train_run(_run(), seed=3, arrays=small, steps_per_execution=1)
    fast = train_run(_run(), seed=3, arrays=small, steps_per_execution=chunk)
    assert fast["epochs_run"] == plain["epochs_run"] == 3
    assert fast["history"]["loss"] == pytest.approx(plain["history"]["loss"], rel=1e-5)
    assert fast["test_loss"] == pytest.approx(plain["test_loss"], rel=1e-5)


def test_early_stopping_stops_at_the_same_epoch_on_both_paths(small):
    # SGD with a huge learning rate makes the training loss rise, so patience 0 must stop early.
    diverging = _run(optimizer={"name": "sgd", "learning_rate": 5.0}, epochs=6,
                     early_stopping={"monitor": "loss", "patience": 0})
    plain = train_run(diverging, seed=1, arrays=small, steps_per_execution=1)
    fast = train_run(diverging, seed=1, arrays=small, steps_per_execution=256)
    assert plain["epochs_run"] == fast["epochs_run"] < 6
    assert fast["history"]["loss"] == pytest.approx(plain["history"]["loss"], rel=1e-5)


def test_seed_decides_the_result(small):
    first = train_run(_run(epochs=1), seed=0, arrays=small)
    again = train_run(_run(epochs=1), seed=0, arrays=small)
    other = train_run(_run(epochs=1), seed=1, arrays=small)
    assert first["test_loss"] == again["test_loss"] != other["test_loss"]


def test_one_epoch_on_4000_images_is_sane(mnist_dir):
    arrays = prepare_arrays("digits", "unit", "unit", 4000, 2000, 0.0)
    result = train_run(_run(epochs=1, early_stopping=None), seed=0, arrays=arrays)
    assert result["test_accuracy"] > 0.8, "a 784-50-10 net should pass 80% after one epoch"
    assert result["train_time_s"] > 0 and result["parameters"] == 39_760


def test_categorical_and_zero_vs_rest_tasks_train(mnist_dir):
    onehot = train_run(_run(loss="categorical_crossentropy", epochs=1), seed=0,
                       arrays=prepare_arrays("digits", "unit", "unit", 2000, 500, 0.0))
    binary = train_run(_run(hidden=[], activation=[], loss="binary_crossentropy", epochs=1,
                            task="zero_vs_rest"), seed=0,
                       arrays=prepare_arrays("zero_vs_rest", "unit", "unit", 2000, 500, 0.25))
    assert onehot["test_accuracy"] > 0.7
    assert binary["test_accuracy"] > 0.9 and "val_loss" in binary["history"]


def test_run_key_changes_with_settings_but_not_with_the_seed_list():
    base = run_key(_run(), 0, {"seeds": [0, 1], "max_epochs": None}, "data", "code")
    assert base == run_key(_run(), 0, {"seeds": [0, 1, 2], "max_epochs": None}, "data", "code")
    assert base != run_key(_run(batch_size=64), 0, {"seeds": [0], "max_epochs": None}, "data", "code")
    assert base != run_key(_run(), 1, {"seeds": [0], "max_epochs": None}, "data", "code")
    assert base != run_key(_run(), 0, {"seeds": [0], "max_epochs": None}, "other data", "code")
    assert base != run_key(_run(), 0, {"seeds": [0], "max_epochs": None}, "data", "new code")
