"""Probes record what they promise, identically on both engines, and live beside the run."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from mnistlab.spec.params import mlp_weights
from mnistlab.train.probes import HessianSpectrum
from mnistlab.train.training import prepare_arrays, train_run

from .test_training import _run


@pytest.fixture
def tiny(mnist_dir):
    return prepare_arrays("digits", "unit", "unit", 300, 100, 0.0)


def _probed(**probes):
    return _run(hidden=[3], activation=["tanh"], epochs=3, early_stopping=None,
                probes={"sample": 200, **probes})


def test_weight_snapshots_and_step_gradient_norms(tiny):
    result = train_run(_probed(weights_every=2, grad_norm="step"), seed=0, arrays=tiny)
    probes = result["probes"]
    weights = mlp_weights(784, [3], 10)
    # epoch 0, epoch 2 (every 2nd), and the last epoch (3), which is off the grid
    assert probes["weights_epoch"].tolist() == [0, 2, 3]
    assert probes["weights"].shape == (3, weights)
    assert not np.allclose(probes["weights"][0], probes["weights"][-1]), "training moved them"
    steps = -(-300 // 32)  # ten steps, the last one partial
    assert probes["steps_per_epoch"].tolist() == [steps] * 3
    assert probes["grad_norm_step"].shape == (3 * steps,)
    assert np.all(probes["grad_norm_step"] > 0)


def test_step_gradient_norms_are_the_same_through_plain_fit(tiny):
    run = _probed(grad_norm="step")
    fast = train_run(run, seed=1, arrays=tiny)["probes"]["grad_norm_step"]
    plain = train_run(run, seed=1, arrays=tiny, engine="plain")["probes"]["grad_norm_step"]
    np.testing.assert_allclose(fast, plain, rtol=1e-4)


def test_first_step_gradient_norm_is_the_norm_of_the_first_batch_gradient(tiny):
    """Recomputed by hand: the same initial weights, the first batch of the seed's order."""
    from mnistlab.train.training import Trainee, epoch_orders

    run = _probed(grad_norm="step")
    recorded = train_run(run, seed=2, arrays=tiny)["probes"]["grad_norm_step"][0]
    trainee = Trainee.fresh(run, 2, 300, 784, 1)
    rows = next(epoch_orders(300, 2))[:32]
    with tf.GradientTape() as tape:
        predictions = trainee.model(tiny.x_train[rows], training=True)
        loss = keras.losses.SparseCategoricalCrossentropy()(tiny.y_train[rows], predictions)
    grads = tape.gradient(loss, trainee.model.trainable_variables)
    assert recorded == pytest.approx(float(tf.linalg.global_norm(grads)), rel=1e-4)


def test_epoch_gradient_norm_and_hessian_spectrum(tiny):
    result = train_run(_probed(grad_norm="epoch", hessian=True), seed=0, arrays=tiny)
    probes = result["probes"]
    assert probes["grad_norm_epoch"].shape == (3,)
    eigenvalues = probes["hessian_eigenvalues"]
    assert eigenvalues.shape == (mlp_weights(784, [3], 10),)
    assert np.all(np.diff(eigenvalues) >= 0), "ascending, as eigvalsh returns them"


def test_hessian_matches_finite_differences_of_the_gradient():
    """H·v against (g(w + εv) − g(w − εv)) / 2ε on a model small enough to check by hand."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="tanh"),
                              keras.layers.Dense(1)])
    x = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(20, 1)).astype("float32")
    probe = HessianSpectrum({"sample": 20}, x, y, "mean_squared_error", 1)
    probe.set_model(model)
    hessian = probe.matrix()
    weights = model.trainable_variables
    flat = np.concatenate([w.numpy().ravel() for w in weights]).astype("float64")
    v = np.random.default_rng(2).normal(size=flat.size)

    def gradient(point):
        offset = 0
        for w in weights:
            w.assign(point[offset:offset + w.numpy().size].reshape(w.shape).astype("float32"))
            offset += w.numpy().size
        with tf.GradientTape() as tape:
            loss = probe.mean_loss()
        return np.concatenate([g.numpy().ravel() for g in tape.gradient(loss, weights)])

    eps = 1e-2
    numeric = (gradient(flat + eps * v) - gradient(flat - eps * v)) / (2 * eps)
    gradient(flat)
    np.testing.assert_allclose(hessian @ v, numeric, rtol=2e-2, atol=2e-3)
