"""Where a task's examples come from: each task names its source, so loading is never an
``if task == ...`` branch.

A source hands back float32 inputs (one row per example) and raw targets for the training and
test rows; the task turns the raw targets into labels.  Two kinds exist: MNIST's images, and
points of a function of one variable on an interval (study 002's sin(5πx)/(5πx)).  A source
also has a ``digest``: what its data are, for the per-run cache key.  Numpy only, so the
params check that imports the task registry stays fast.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from mnistlab.spec.data import load_mnist

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def scale_images(x: np.ndarray, scaling: str) -> np.ndarray:
    """Flat float32 rows: pixels / 255 (``unit``) or the raw 0–255 values (``raw``)."""
    flat = x.reshape(len(x), -1).astype("float32")
    return flat / np.float32(255.0) if scaling == "unit" else flat


@dataclass(frozen=True)
class MnistImages:
    """The verified MNIST files; subsets are the first N rows, so every run sees the same."""

    TRAIN_ROWS = 60_000  # the training set the checksums pin (test set: 10,000)

    def digest(self) -> str:
        return load_mnist().sha256

    def train_rows(self, train_samples: int | None) -> int:
        """How many training rows a run gets: the first ``train_samples``, or all."""
        return min(train_samples or self.TRAIN_ROWS, self.TRAIN_ROWS)

    def load(self, train_inputs: str, test_inputs: str, train_samples: int | None,
             test_samples: int | None) -> Split:
        mnist = load_mnist()
        return (scale_images(mnist.x_train[:train_samples], train_inputs),
                mnist.y_train[:train_samples],
                scale_images(mnist.x_test[:test_samples], test_inputs),
                mnist.y_test[:test_samples])


def sinc_5pi(x: np.ndarray) -> np.ndarray:
    """sin(5πx)/(5πx), with its removable point filled in: the value at x = 0 is the limit, 1.

    ``np.sinc(t)`` is sin(πt)/(πt) with sinc(0) = 1, so ``np.sinc(5x)`` is the function
    everywhere, 0 included, without a division by zero.
    """
    return np.sinc(5.0 * x)


@dataclass(frozen=True)
class FunctionPoints:
    """y = f(x) on [low, high]: training points on an evenly spaced grid that includes both
    ends, test points at the centres of an equal split of the interval (never a training
    point when the two counts are equal), so the test score is interpolation between the
    points the network saw.  The training rows come in a fixed shuffled order, so the first
    rows that a probe's ``sample`` takes spread over the whole interval.
    ``train_inputs``/``test_inputs`` (pixel scaling) do not apply."""

    function: Callable[[np.ndarray], np.ndarray]
    formula: str
    low: float
    high: float
    default_points: int = 1000

    def digest(self) -> str:
        text = f"{self.formula} on [{self.low}, {self.high}], {self.default_points} points"
        return hashlib.sha256(text.encode()).hexdigest()

    def train_rows(self, train_samples: int | None) -> int:
        """How many training points a run gets: ``train_samples``, or the default grid."""
        return train_samples or self.default_points

    def grid(self, points: int) -> np.ndarray:
        return np.linspace(self.low, self.high, points, dtype="float64")

    def centres(self, points: int) -> np.ndarray:
        width = (self.high - self.low) / points
        return self.low + (np.arange(points, dtype="float64") + 0.5) * width

    def load(self, train_inputs: str, test_inputs: str, train_samples: int | None,
             test_samples: int | None) -> Split:
        x_train = self.grid(train_samples or self.default_points)
        x_train = x_train[np.random.default_rng(0).permutation(len(x_train))]
        x_test = self.centres(test_samples or self.default_points)
        return (x_train.astype("float32").reshape(-1, 1),
                self.function(x_train).astype("float32").reshape(-1, 1),
                x_test.astype("float32").reshape(-1, 1),
                self.function(x_test).astype("float32").reshape(-1, 1))


MNIST = MnistImages()
