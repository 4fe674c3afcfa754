"""K seeds stepped by one compiled call give exactly what K separate runs give."""

from __future__ import annotations

import pytest

from mnistlab.train.towers import train_towers
from mnistlab.train.training import prepare_arrays, train_run


def test_each_tower_reproduces_its_separate_run(mnist_dir):
    # 3200 samples at batch 32: whole batches only, as in study 000 (60000 / 32).
    arrays = prepare_arrays("digits", "unit", "unit", 3200, 1000, 0.0)
    run = {"name": "t", "hidden": [50, 50], "activation": ["relu", "relu"], "dropout": 0.0,
           "loss": "sparse_categorical_crossentropy",
           "optimizer": {"name": "adam", "learning_rate": 0.001}, "batch_size": 32, "epochs": 3,
           "early_stopping": {"monitor": "loss", "patience": 1}, "train_inputs": "unit",
           "test_inputs": "unit", "task": "digits"}
    towers = train_towers(run, [0, 1, 2], arrays)
    for tower in towers:
        alone = train_run(run, tower["seed"], arrays)
        assert tower["epochs_run"] == alone["epochs_run"]
        assert tower["history"]["loss"] == pytest.approx(alone["history"]["loss"], rel=1e-5)
        assert tower["test_loss"] == pytest.approx(alone["test_loss"], rel=1e-5)


def test_towers_with_dropout_and_a_partial_batch_are_bit_equal(mnist_dir):
    arrays = prepare_arrays("digits", "unit", "unit", 1000, 500, 0.0)
    run = {"name": "t", "hidden": [64, 64], "activation": ["relu", "relu"], "dropout": 0.25,
           "loss": "categorical_crossentropy",
           "optimizer": {"name": "adam", "learning_rate": 0.001}, "batch_size": 96, "epochs": 2,
           "early_stopping": None, "train_inputs": "unit", "test_inputs": "unit", "task": "digits"}
    for tower in train_towers(run, [0, 1], arrays):
        alone = train_run(run, tower["seed"], arrays)
        assert tower["history"] == alone["history"]
        assert tower["test_loss"] == alone["test_loss"]


def test_a_tower_that_stops_early_leaves_the_group_with_its_weights(mnist_dir):
    arrays = prepare_arrays("digits", "unit", "unit", 3200, 1000, 0.0)
    run = {"name": "t", "hidden": [50], "activation": ["relu"], "dropout": 0.0,
           "loss": "sparse_categorical_crossentropy",
           "optimizer": {"name": "sgd", "learning_rate": 5.0}, "batch_size": 32, "epochs": 5,
           "early_stopping": {"monitor": "loss", "patience": 0}, "train_inputs": "unit",
           "test_inputs": "unit", "task": "digits"}
    towers = train_towers(run, [1, 2], arrays)
    for tower in towers:
        alone = train_run(run, tower["seed"], arrays)
        assert tower["epochs_run"] == alone["epochs_run"]
        assert tower["test_loss"] == pytest.approx(alone["test_loss"], rel=1e-5, nan_ok=True)
