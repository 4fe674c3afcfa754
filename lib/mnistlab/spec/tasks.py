"""What a model is asked to do: its labels, output layer, allowed losses and metrics.

A registry (name → ``Task``) instead of ``if task == ...`` branches: the schema lists the
names, the model builder takes the output layer from here, and the trainer the labels and
the source of the examples (``mnistlab.spec.sources``).  A new task (a 1-D function to regress,
say) is one more entry.  No TensorFlow here, so the
params check stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from mnistlab.spec.sources import MNIST, FunctionPoints, MnistImages, sinc_5pi


@dataclass(frozen=True)
class Task:
    name: str
    inputs: int
    outputs: int
    output_activation: str
    losses: tuple[str, ...]
    metrics: tuple[str, ...]
    labels: Callable[[np.ndarray], np.ndarray]
    description: str
    source: MnistImages | FunctionPoints = MNIST

    def encode(self, y: np.ndarray, loss: str) -> np.ndarray:
        """Labels as ``loss`` expects them: one-hot rows for categorical cross-entropy."""
        if loss == "categorical_crossentropy":
            return np.eye(self.outputs, dtype="float32")[y]
        return y


def _digit_labels(y: np.ndarray) -> np.ndarray:
    return y.astype("int32")


def _zero_labels(y: np.ndarray) -> np.ndarray:
    return (y == 0).astype("float32").reshape(-1, 1)


def _values(y: np.ndarray) -> np.ndarray:
    return y.astype("float32")


TASKS: dict[str, Task] = {
    "digits": Task("digits", 784, 10, "softmax",
                   ("categorical_crossentropy", "sparse_categorical_crossentropy"), ("accuracy",),
                   _digit_labels, "ten digits, softmax output"),
    "zero_vs_rest": Task("zero_vs_rest", 784, 1, "sigmoid",
                         ("binary_crossentropy", "mean_squared_error"), ("accuracy",),
                         _zero_labels, "digit 0 against the other nine, one sigmoid output"),
    "sinc_5pi": Task("sinc_5pi", 1, 1, "linear", ("mean_squared_error",), (), _values,
                     "y = sin(5πx)/(5πx) on [0, 1] (y = 1 at x = 0), one linear output",
                     FunctionPoints(sinc_5pi, "sin(5πx)/(5πx)", 0.0, 1.0)),
}


# What every run records besides its scores (``train.training.train_run``): the published
# files' ``compare`` blocks may name these, the scores below, and the curve statistics.
RUN_NUMBERS = ("epochs_run", "train_time_s", "train_cpu_s", "threads", "seeds_together",
               "parameters")


def recorded_metrics(name: str) -> tuple[str, ...]:
    """The numbers a run of task ``name`` records: ``RUN_NUMBERS``, then the loss and each
    of the task's metrics on the training and the test data (``train_loss``, ``test_accuracy``)."""
    scores = ("loss", *task(name).metrics)
    return (*RUN_NUMBERS, *(f"{part}_{score}" for part in ("train", "test") for score in scores))


def task(name: str) -> Task:
    """The registered task ``name``, or a message listing the ones there are."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}: allowed values are {', '.join(TASKS)}") from None
