"""The fast trainer gives what the plain path gives, and its results are sane."""

from __future__ import annotations

import pytest

from mnistlab.train.sweep import run_key
from mnistlab.train.training import epoch_orders, prepare_arrays, train_run


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
    # 1000 samples at batch 32 (or 96) leave a partial last batch, as fit() makes one.
    return prepare_arrays("digits", "unit", "unit", 1000, 500, 0.0)


@pytest.mark.parametrize("overrides", [
    {},
    # Dropout masks are drawn by Keras outside XLA and fed in: a wrong or misordered mask
    # would move the loss by far more than the tolerance.
    {"hidden": [64, 32], "activation": ["relu", "relu"], "dropout": 0.25,
     "loss": "categorical_crossentropy", "batch_size": 96},
], ids=["xla", "dropout"])
def test_compiled_engine_gives_what_plain_fit_gives(small, overrides):
    plain = train_run(_run(**overrides), seed=3, arrays=small, engine="plain")
    fast = train_run(_run(**overrides), seed=3, arrays=small, engine="compiled")
    assert fast["epochs_run"] == plain["epochs_run"] == 3
    for key in ("loss", "accuracy"):
        assert fast["history"][key] == pytest.approx(plain["history"][key], rel=1e-5)
    assert fast["test_loss"] == pytest.approx(plain["test_loss"], rel=1e-5)


def test_validation_curves_match_plain_fit(mnist_dir):
    arrays = prepare_arrays("zero_vs_rest", "unit", "unit", 2000, 500, 0.25)
    run = _run(hidden=[], activation=[], loss="binary_crossentropy", task="zero_vs_rest",
               early_stopping=None)
    plain = train_run(run, seed=0, arrays=arrays, engine="plain")
    fast = train_run(run, seed=0, arrays=arrays, engine="compiled")
    assert set(fast["history"]) == set(plain["history"]) == {"loss", "accuracy", "val_loss",
                                                             "val_accuracy"}
    for key, values in plain["history"].items():
        assert fast["history"][key] == pytest.approx(values, rel=1e-5), key


def test_early_stopping_stops_at_the_same_epoch_on_both_engines(small):
    # SGD with a huge learning rate makes the training loss rise, so patience 0 must stop early.
    diverging = _run(optimizer={"name": "sgd", "learning_rate": 5.0}, epochs=6,
                     early_stopping={"monitor": "loss", "patience": 0})
    plain = train_run(diverging, seed=1, arrays=small, engine="plain")
    fast = train_run(diverging, seed=1, arrays=small, engine="compiled")
    assert plain["epochs_run"] == fast["epochs_run"] < 6
    # Diverging training amplifies XLA's last-bit differences, hence the looser tolerance.
    assert fast["history"]["loss"] == pytest.approx(plain["history"]["loss"], rel=1e-3)


def test_every_epoch_is_one_permutation_of_the_rows():
    orders = epoch_orders(10, seed=4)
    first, second = next(orders), next(orders)
    assert sorted(first) == sorted(second) == list(range(10))
    assert list(first) != list(second)
    assert list(next(epoch_orders(10, seed=4))) == list(first)


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


def test_a_batch_larger_than_the_data_is_one_partial_batch(mnist_dir):
    arrays = prepare_arrays("digits", "unit", "unit", 300, 200, 0.0)
    run = _run(batch_size=512, dropout=0.5, epochs=2, early_stopping=None)
    plain = train_run(run, seed=0, arrays=arrays, engine="plain")
    fast = train_run(run, seed=0, arrays=arrays, engine="compiled")
    assert fast["history"]["loss"] == pytest.approx(plain["history"]["loss"], rel=1e-5)


def _draw_before_each_layer(monkeypatch) -> None:
    """What a Dask worker's event loop did under load, made certain: another draw from
    Python's process-wide generator while the model is being built."""
    import random

    from mnistlab.train.backend import keras

    for layer in (keras.layers.Dense, keras.layers.Dropout):
        original = layer.__init__

        def drawing_init(self, *args, _original=original, **kwargs):
            random.random()
            _original(self, *args, **kwargs)

        monkeypatch.setattr(layer, "__init__", drawing_init)


def test_another_thread_drawing_random_numbers_does_not_change_a_run(small, monkeypatch):
    run = _run(hidden=[32, 16], activation=["relu", "relu"], dropout=0.25, epochs=2)
    alone = train_run(run, seed=2, arrays=small)
    _draw_before_each_layer(monkeypatch)
    disturbed = train_run(run, seed=2, arrays=small)
    assert disturbed["history"] == alone["history"]
    assert disturbed["test_loss"] == alone["test_loss"]
