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
from typing import Any

from mnistlab.train.training import Arrays, EpochHook, Trainee, encode, _fixed_batches, fit_group


def train_towers(run: dict[str, Any], seeds: list[int], arrays: Arrays,
                 on_epoch: EpochHook | None = None) -> list[dict[str, Any]]:
    """One result per seed, each as ``train_run`` would report it, from shared epoch calls."""
    if arrays.x_val is not None:
        raise ValueError("towers do not run per-epoch validation; use train_run")
    epochs = run["epochs"]
    trainees = [Trainee.fresh(run, seed, len(arrays.x_train), arrays.x_train.shape[1], epochs,
                              on_epoch) for seed in seeds]
    start = time.perf_counter()
    fit_group(trainees, arrays.x_train, encode(arrays.y_train, run), run["batch_size"],
              epochs)
    wall = time.perf_counter() - start
    test = _fixed_batches(arrays.x_test, encode(arrays.y_test, run))
    return [_result(seed, trainee, test, wall) for seed, trainee in zip(seeds, trainees)]


def _result(seed: int, trainee: Trainee, test, wall: float) -> dict[str, Any]:
    test_loss, test_accuracy = trainee.model.evaluate(test, verbose=0)
    history = trainee.history
    return {"seed": seed, "epochs_run": len(history["loss"]), "sweep_time_s": wall,
            "train_loss": history["loss"][-1], "train_accuracy": history["accuracy"][-1],
            "test_loss": float(test_loss), "test_accuracy": float(test_accuracy),
            "history": history}
