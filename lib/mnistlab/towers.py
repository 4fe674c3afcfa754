"""Train K seeds of one configuration together: K models stepped by one compiled call.

Each model is exactly the one ``train_run`` builds for its seed (same initial weights, same
dropout seed), takes the batches of that seed's own epoch orders, keeps its own optimizer,
metrics and Keras EarlyStopping.  Only the graph loop that steps them is shared, so K
models' arithmetic is paid for with one loop's overhead.  When a model's early stopping
fires it leaves the group and the loop is rebuilt for the rest.

The price: there is no per-model training time, only the group's, which is why sweeps
whose tables report training time (study 000) keep separate runs.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

import keras
import numpy as np

from .models import build_model, compile_model
from .training import (Arrays, EpochHook, _callbacks, _encode, _fixed_batches, compiled_epoch,
                       epoch_orders)


class _Tower:
    """One seed's model, order stream, callbacks and history."""

    def __init__(self, run: dict[str, Any], seed: int, arrays: Arrays, epochs: int,
                 on_epoch: EpochHook | None):
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        self.seed = seed
        self.model = compile_model(build_model(run, arrays.x_train.shape[1]), run)
        self.orders: Iterator[np.ndarray] = epoch_orders(len(arrays.x_train), seed)
        self.callbacks = keras.callbacks.CallbackList(_callbacks(run, epochs, on_epoch),
                                                      model=self.model, epochs=epochs)
        self.history: dict[str, list[float]] = {}
        self.model.stop_training = False
        self.callbacks.on_train_begin()

    def end_epoch(self, epoch: int) -> None:
        logs = {k: float(v) for k, v in self.model.get_metrics_result().items()}
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        self.callbacks.on_epoch_end(epoch, logs)


def train_towers(run: dict[str, Any], seeds: list[int], arrays: Arrays,
                 on_epoch: EpochHook | None = None) -> list[dict[str, Any]]:
    """One result per seed, each as ``train_run`` would report it, from shared epoch calls."""
    if arrays.x_val is not None:
        raise ValueError("towers do not run per-epoch validation; use train_run")
    epochs = run["epochs"]
    y_train = _encode(arrays.y_train, run["loss"])
    towers = [_Tower(run, seed, arrays, epochs, on_epoch) for seed in seeds]
    start = time.perf_counter()
    active, run_epoch = [], None
    for epoch in range(epochs):
        still = [t for t in towers if not t.model.stop_training]
        if not still:
            break
        if still != active:
            active = still
            run_epoch = compiled_epoch([t.model for t in active], arrays.x_train, y_train,
                                       run["batch_size"])
        for tower in active:
            tower.model.reset_metrics()
        run_epoch([next(t.orders) for t in active])
        for tower in active:
            tower.end_epoch(epoch)
    wall = time.perf_counter() - start
    test = _fixed_batches(arrays.x_test, _encode(arrays.y_test, run["loss"]))
    return [_result(tower, test, wall) for tower in towers]


def _result(tower: _Tower, test, wall: float) -> dict[str, Any]:
    test_loss, test_accuracy = tower.model.evaluate(test, verbose=0)
    return {"seed": tower.seed, "epochs_run": len(tower.history["loss"]), "sweep_time_s": wall,
            "train_loss": tower.history["loss"][-1],
            "train_accuracy": tower.history["accuracy"][-1],
            "test_loss": float(test_loss), "test_accuracy": float(test_accuracy),
            "history": tower.history}
