"""The model builder gives the studies' own parameter counts."""

from __future__ import annotations

import pytest

from mnistlab.train.models import build_model
from mnistlab.spec.params import load_params, resolve_runs

from .conftest import REPO


def _run(hidden, dropout=0.0, task="digits"):
    return {"hidden": hidden, "activation": ["relu"] * len(hidden), "dropout": dropout,
            "task": task}


@pytest.mark.parametrize("hidden, dropout, expected", [
    ([50], 0.0, 39_760),              # study 000, one hidden layer
    ([50] * 10, 0.0, 62_710),         # study 000, ten hidden layers
    ([300, 100], 0.0, 266_610),       # study 001 Figure 1 summary
    ([128, 128], 0.25, 118_282),      # study 001 Figure 3 summary
])
def test_parameter_counts_match_the_studies(hidden, dropout, expected):
    assert build_model(_run(hidden, dropout)).count_params() == expected


def test_single_sigmoid_neuron_for_zero_vs_rest():
    model = build_model(_run([], task="zero_vs_rest"))
    assert model.count_params() == 785 and model.layers[-1].activation.__name__ == "sigmoid"


def test_depth_params_build_one_to_ten_layers():
    runs = resolve_runs(load_params(REPO / "params/depth/000_rim_shin.yaml"))
    assert [len(run["hidden"]) for run in runs] == list(range(1, 11))
    assert {build_model(run).count_params() for run in runs[:1]} == {39_760}


@pytest.mark.parametrize("placement, expected", [
    (None, ["dense", "dropout", "dense", "dropout", "dense"]),
    ("each_hidden", ["dense", "dropout", "dense", "dropout", "dense"]),
    ("last_hidden", ["dense", "dense", "dropout", "dense"]),  # study 001's baseline
])
def test_dropout_goes_where_the_run_spec_says(placement, expected):
    run = _run([128, 128], 0.25) | ({"dropout_after": placement} if placement else {})
    kinds = [type(layer).__name__.lower() for layer in build_model(run).layers]
    assert kinds == expected


def test_study_001_places_dropout_after_the_last_hidden_layer_only():
    runs = resolve_runs(load_params(REPO / "params/loss/001_chu.yaml"))
    baseline = next(run for run in runs if run["dropout"] == 0.25)
    assert baseline["dropout_after"] == "last_hidden"
    assert [type(layer).__name__ for layer in build_model(baseline).layers].count("Dropout") == 1


@pytest.mark.parametrize("run", [
    _run([64, 32], 0.25),
    {**_run([16], 0.0), "init": "pytorch"},
    {**_run([16], 0.0), "kernel_initializer": {"name": "random_normal", "stddev": 1.0}},
], ids=["keras", "pytorch", "random_normal"])
def test_a_model_draws_the_weights_keras_would_draw_from_its_seed(run):
    """Explicit seeds give the weights Keras's implicit seeding gave after set_random_seed,
    so making them explicit left every cached run valid; other seeds give other weights."""
    import numpy as np

    from mnistlab.train.backend import keras

    keras.utils.set_random_seed(7)
    implicit = keras.Sequential([keras.Input(shape=(784,))] + [
        _unseeded_copy(layer) for layer in build_model(run, seed=7).layers])
    keras.utils.set_random_seed(0)  # the global state no longer matters
    explicit = build_model(run, seed=7)
    for ours, keras_own in zip(explicit.get_weights(), implicit.get_weights(), strict=True):
        assert np.array_equal(ours, keras_own)
    assert not np.array_equal(build_model(run, seed=8).get_weights()[0],
                              explicit.get_weights()[0])


def _unseeded_copy(layer):
    """The same layer with its seeds left to Keras, as the builder made it before seeds were
    explicit."""
    config = layer.get_config()
    for key in ("kernel_initializer", "bias_initializer"):
        if isinstance(config.get(key), dict) and "seed" in config[key]["config"]:
            config[key]["config"]["seed"] = None
    if "seed" in config:
        config["seed"] = None
    return type(layer).from_config(config)
