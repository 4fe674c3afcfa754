"""Train K seeds of one configuration as K independent towers of one Keras model.

On two cores a small MLP step costs ~0.5 ms of dispatch overhead but only microseconds of
arithmetic, so stacking K seeds into one step does K models' work for one step's overhead.
Each tower is the network a separate ``train_run`` with that seed would build (its initial
weights are copied from one), is fed its own seeded shuffle, keeps its own optimizer state
(Adam's moments are per weight) and its own early-stopping state: when a tower would have
stopped, its weights are snapshotted and later restored, so extra epochs it sits through
do not count.  Used by ``make bench`` to measure sweep-level throughput; the tests check that
each tower reproduces its separate run.
"""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .models import build_model, make_optimizer
from .training import DEFAULT_STEPS_PER_EXECUTION, Arrays, EpochHook, _encode, _EpochCallback, _fixed_batches


def _stream(n: int, batch_size: int, seed: int) -> tf.data.Dataset:
    """Index batches in the order ``train_run`` sees for ``seed``: the shuffle's effective
    seed pairs the global seed (set per run there) with the op seed, both read right here."""
    tf.random.set_seed(seed)
    return tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True).batch(batch_size)


def _tower_batches(arrays: Arrays, batch_size: int, seeds: list[int], loss: str) -> tf.data.Dataset:
    """Zip K one-epoch streams, each shuffled exactly as ``shuffled_batches`` would for its seed."""
    x_all, y_all = tf.constant(arrays.x_train), tf.constant(arrays.y_train)
    n = len(arrays.x_train)
    streams = tuple(_stream(n, batch_size, seed) for seed in seeds)

    def gather(*indices):
        xs = tuple(tf.gather(x_all, i) for i in indices)
        ys = tuple(_encode(tf.gather(y_all, i), loss) for i in indices)
        return xs, ys

    return tf.data.Dataset.zip(streams).map(gather).prefetch(tf.data.AUTOTUNE)


def _initial_weights(run: dict[str, Any], seed: int, input_dim: int) -> list[np.ndarray]:
    """The weights ``train_run`` starts from for this seed (same session reset, same seed)."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    return build_model(run, input_dim).get_weights()


def _stacked_model(run: dict[str, Any], seeds: list[int], input_dim: int) -> tuple[keras.Model, list[keras.Model]]:
    starts = [_initial_weights(run, seed, input_dim) for seed in seeds]
    keras.backend.clear_session()
    towers = [build_model(run, input_dim) for _ in seeds]
    for tower, weights in zip(towers, starts):
        tower.set_weights(weights)
    inputs = [keras.Input(shape=(input_dim,), name=f"x{k}") for k in range(len(seeds))]
    outputs = [keras.layers.Identity(name=f"t{k}")(_apply(tower, inp))
               for k, (tower, inp) in enumerate(zip(towers, inputs))]
    return keras.Model(inputs, outputs), towers


def _apply(tower: keras.Model, tensor):
    """Call a tower's layers in order (nesting K same-named Sequentials is not allowed)."""
    for layer in tower.layers:
        tensor = layer(tensor)
    return tensor


class _TowerStopping(keras.callbacks.Callback):
    """Per-tower EarlyStopping(monitor='loss'): snapshot a tower's weights when it would stop."""

    def __init__(self, towers: list[keras.Model], patience: int | None):
        super().__init__()
        self.towers, self.patience = towers, patience
        self.best = [np.inf] * len(towers)
        self.wait = [0] * len(towers)
        self.stopped_at: list[int | None] = [None] * len(towers)
        self.snapshots: list[list[np.ndarray] | None] = [None] * len(towers)
        self.history: list[dict[str, list[float]]] = [{"loss": [], "accuracy": []} for _ in towers]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        for k, tower in enumerate(self.towers):
            if self.stopped_at[k] is not None:
                continue
            loss, accuracy = float(logs[f"t{k}_loss"]), float(logs[f"t{k}_accuracy"])
            self.history[k]["loss"].append(loss)
            self.history[k]["accuracy"].append(accuracy)
            if self.patience is None:
                continue
            # The same rule as keras.callbacks.EarlyStopping(monitor="loss", min_delta=0).
            self.wait[k] += 1
            if loss < self.best[k]:
                self.best[k], self.wait[k] = loss, 0
            elif self.wait[k] >= self.patience and epoch > 0:
                self.stopped_at[k] = epoch + 1
                self.snapshots[k] = tower.get_weights()
        if all(s is not None for s in self.stopped_at):
            self.model.stop_training = True


def train_towers(run: dict[str, Any], seeds: list[int], arrays: Arrays,
                 steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION,
                 on_epoch: EpochHook | None = None) -> list[dict[str, Any]]:
    """One result per seed, each as ``train_run`` would report it, from one stacked fit."""
    model, towers = _stacked_model(run, seeds, arrays.x_train.shape[1])
    keras.utils.set_random_seed(seeds[0])
    model.compile(optimizer=make_optimizer(run["optimizer"]), loss=[run["loss"]] * len(seeds),
                  metrics=[["accuracy"] for _ in seeds], steps_per_execution=steps_per_execution)
    stopping = run.get("early_stopping") or {}
    if stopping and stopping.get("monitor") != "loss":
        raise ValueError("towers support early stopping on the training loss only")
    tracker = _TowerStopping(towers, stopping.get("patience"))
    callbacks: list[keras.callbacks.Callback] = [tracker]
    if on_epoch:
        callbacks.append(_EpochCallback(on_epoch, run["epochs"]))
    start = time.perf_counter()
    model.fit(_tower_batches(arrays, run["batch_size"], seeds, run["loss"]), epochs=run["epochs"],
              verbose=0, shuffle=False, callbacks=callbacks)
    wall = time.perf_counter() - start
    results = []
    for k, tower in enumerate(towers):
        if tracker.snapshots[k] is not None:
            tower.set_weights(tracker.snapshots[k])
        tower.compile(loss=run["loss"], metrics=["accuracy"])
        test_loss, test_accuracy = tower.evaluate(
            _fixed_batches(arrays.x_test, arrays.y_test, run["loss"]), verbose=0)
        history = tracker.history[k]
        results.append({"seed": seeds[k], "epochs_run": len(history["loss"]), "sweep_time_s": wall,
                        "train_loss": history["loss"][-1], "train_accuracy": history["accuracy"][-1],
                        "test_loss": float(test_loss), "test_accuracy": float(test_accuracy),
                        "history": history})
    return results
