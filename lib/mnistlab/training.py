"""The one trainer every notebook uses: fast, seeded, and faithful to the studies' ``fit``.

Speed comes from two things only, neither of which changes the arithmetic:
* ``steps_per_execution`` runs hundreds of optimizer steps per call into TensorFlow, so
  the ~0.5 ms Python/dispatch overhead is paid once per chunk instead of once per batch;
* the arrays live in memory once as float32, and each epoch is a seeded shuffle of row
  indices gathered inside the input pipeline, the same per-sample reshuffle that
  ``model.fit(x, y, shuffle=True)`` does, but reproducible from the seed alone.
``steps_per_execution=1`` is therefore the plain path; the tests check both give the same
weights and stop at the same epoch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import keras
import numpy as np
import tensorflow as tf

from .data import load_mnist
from .models import build_model, compile_model

DEFAULT_STEPS_PER_EXECUTION = 256
EVAL_BATCH = 2000

EpochHook = Callable[[int, int, dict[str, float]], None]


@dataclass(frozen=True)
class Arrays:
    """Float32 inputs and labels for one task, subset and scaling, built once per process."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray


def _labels(y: np.ndarray, task: str) -> np.ndarray:
    if task == "zero_vs_rest":
        return (y == 0).astype("float32").reshape(-1, 1)
    return y.astype("int32")


def _scale(x: np.ndarray, scaling: str) -> np.ndarray:
    flat = x.reshape(len(x), -1).astype("float32")
    return flat / np.float32(255.0) if scaling == "unit" else flat


@lru_cache(maxsize=8)
def prepare_arrays(task: str = "digits", train_inputs: str = "unit", test_inputs: str = "unit",
                   train_samples: int | None = None, test_samples: int | None = None,
                   validation_split: float = 0.0) -> Arrays:
    """MNIST as flat float32 arrays; subsets take the first N rows so every run sees the same.

    As with Keras's ``validation_split``, the validation rows are the *last* fraction of the
    training rows, taken before any shuffling.
    """
    mnist = load_mnist()
    x_train = _scale(mnist.x_train[:train_samples], train_inputs)
    y_train = _labels(mnist.y_train[:train_samples], task)
    x_val = y_val = None
    if validation_split:
        cut = int(len(x_train) * (1 - validation_split))
        x_train, x_val = x_train[:cut], x_train[cut:]
        y_train, y_val = y_train[:cut], y_train[cut:]
    x_test = _scale(mnist.x_test[:test_samples], test_inputs)
    y_test = _labels(mnist.y_test[:test_samples], task)
    return Arrays(x_train, y_train, x_val, y_val, x_test, y_test)


def _encode(y: tf.Tensor, loss: str) -> tf.Tensor:
    return tf.one_hot(y, 10) if loss == "categorical_crossentropy" else y


def shuffled_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int,
                     loss: str) -> tf.data.Dataset:
    """One epoch of batches; each pass over it reshuffles every sample, seeded.

    Only row indices are shuffled (cheap), then each batch is gathered from the in-memory
    arrays.  The dataset is exactly one epoch long, so Keras's epochs, early stopping and
    history line up with passes over the data whatever ``steps_per_execution`` is.
    """
    x_all, y_all = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return order.batch(batch_size).map(
        lambda i: (tf.gather(x_all, i), _encode(tf.gather(y_all, i), loss))
    ).prefetch(tf.data.AUTOTUNE)


def _fixed_batches(x: np.ndarray, y: np.ndarray, loss: str) -> tf.data.Dataset:
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(EVAL_BATCH)
    return data.map(lambda a, b: (a, _encode(b, loss)))


class _EpochCallback(keras.callbacks.Callback):
    def __init__(self, hook: EpochHook, epochs: int):
        super().__init__()
        self.hook, self.epochs = hook, epochs

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.hook(epoch + 1, self.epochs, {k: float(v) for k, v in (logs or {}).items()})


def train_run(run: dict[str, Any], seed: int, arrays: Arrays, max_epochs: int | None = None,
              steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION,
              on_epoch: EpochHook | None = None) -> dict[str, Any]:
    """Train one model of ``run`` with ``seed``; return its history, timing and test scores."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    epochs = min(run["epochs"], max_epochs) if max_epochs else run["epochs"]
    steps = math.ceil(len(arrays.x_train) / run["batch_size"])
    model = compile_model(build_model(run, arrays.x_train.shape[1]), run,
                          min(steps_per_execution, steps))
    callbacks: list[keras.callbacks.Callback] = []
    if run.get("early_stopping"):
        callbacks.append(keras.callbacks.EarlyStopping(**run["early_stopping"]))
    if on_epoch:
        callbacks.append(_EpochCallback(on_epoch, epochs))
    validation = None
    if arrays.x_val is not None:
        validation = _fixed_batches(arrays.x_val, arrays.y_val, run["loss"])
    batches = shuffled_batches(arrays.x_train, arrays.y_train, run["batch_size"], seed, run["loss"])
    start = time.perf_counter()
    history = model.fit(batches, epochs=epochs, verbose=0, shuffle=False,
                        callbacks=callbacks, validation_data=validation)
    train_time = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(
        _fixed_batches(arrays.x_test, arrays.y_test, run["loss"]), verbose=0)
    curves = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    return {
        "epochs_run": len(curves["loss"]),
        "train_time_s": train_time,
        "train_loss": curves["loss"][-1],
        "train_accuracy": curves["accuracy"][-1],
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "parameters": int(model.count_params()),
        "history": curves,
    }
