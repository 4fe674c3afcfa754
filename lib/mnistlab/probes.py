"""Recordings taken during training, beyond the epoch logs: a run's ``probes`` spec asks for them.

Each probe is a Keras callback registered by its spec key (``PROBES``), so the trainer only
asks "which probes does this run want?" and never branches on their names.  What they
record is returned as named arrays and stored beside the run's JSON as ``.npz``:

* ``weights_every: k`` — every trainable weight, flattened, before training and every k
  epochs (``weights``, ``weights_epoch``), for a PCA of the optimisation path;
* ``grad_norm: step`` — the global norm of the gradient of every update, recorded inside the
  compiled epoch (``grad_norm_step``); ``grad_norm: epoch`` — the norm of the gradient of the
  loss on ``sample`` training rows after each epoch (``grad_norm_epoch``);
* ``hessian: true`` — the eigenvalues of the loss Hessian on ``sample`` rows at the end
  (``hessian_eigenvalues``), for small models only (the schema caps the size).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import keras, tf

class Probe(keras.callbacks.Callback):
    """A callback that also hands back what it recorded."""

    def __init__(self, spec: dict[str, Any], x: np.ndarray, y: np.ndarray, loss: str, steps: int):
        super().__init__()
        rows = min(spec.get("sample", 2000), len(x))
        self.spec, self.steps = spec, steps
        self.x, self.y = tf.constant(x[:rows]), tf.constant(y[:rows])
        self.loss_fn = keras.losses.get(loss)

    def arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def mean_loss(self) -> tf.Tensor:
        return tf.reduce_mean(self.loss_fn(self.y, self.model(self.x, training=False)))


def flat_weights(model: keras.Model) -> np.ndarray:
    return np.concatenate([np.ravel(w.numpy()) for w in model.trainable_variables])


class WeightSnapshots(Probe):
    """Epoch 0, every k-th epoch, and the last epoch run (early stopping may end off the grid)."""

    def on_train_begin(self, logs=None) -> None:
        self.snapshots, self.epochs, self.last = [flat_weights(self.model)], [0], 0

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.last = epoch + 1
        if self.last % self.spec["weights_every"] == 0:
            self.snapshots.append(flat_weights(self.model))
            self.epochs.append(self.last)

    def on_train_end(self, logs=None) -> None:
        if self.epochs[-1] != self.last:
            self.snapshots.append(flat_weights(self.model))
            self.epochs.append(self.last)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"weights": np.stack(self.snapshots).astype("float32"),
                "weights_epoch": np.asarray(self.epochs, dtype="int32")}


class GradientNorm(Probe):
    """``step``: the optimizer's ``apply_gradients`` is wrapped (on this instance, before the
    epoch is traced) to write each update's gradient norm into a variable the compiled loop
    updates in place; ``epoch``: a separate gradient of the loss on the sample rows."""

    def set_model(self, model: keras.Model) -> None:
        super().set_model(model)
        if self.spec["grad_norm"] == "step" and not hasattr(self, "norms"):
            self.norms = tf.Variable(tf.zeros(self.steps), trainable=False)
            self.count = tf.Variable(0, trainable=False)
            self._wrap(model.optimizer)

    def _wrap(self, optimizer: keras.optimizers.Optimizer) -> None:
        apply = optimizer.apply_gradients

        def recording(grads_and_vars):
            pairs = list(grads_and_vars)
            norm = tf.linalg.global_norm([g for g, _ in pairs])
            self.norms.scatter_nd_update([[self.count]], [norm])
            self.count.assign_add(1)
            return apply(pairs)

        optimizer.apply_gradients = recording

    def on_train_begin(self, logs=None) -> None:
        self.per_epoch: list[np.ndarray | float] = []

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        if self.spec["grad_norm"] == "step":
            self.count.assign(0)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.spec["grad_norm"] == "step":
            self.per_epoch.append(self.norms.numpy()[: int(self.count.numpy())].copy())
            return
        with tf.GradientTape() as tape:
            loss = self.mean_loss()
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.per_epoch.append(float(tf.linalg.global_norm(grads)))

    def arrays(self) -> dict[str, np.ndarray]:
        if self.spec["grad_norm"] == "step":
            return {"grad_norm_step": np.concatenate(self.per_epoch).astype("float32"),
                    "steps_per_epoch": np.asarray([len(e) for e in self.per_epoch], dtype="int32")}
        return {"grad_norm_epoch": np.asarray(self.per_epoch, dtype="float32")}


class HessianSpectrum(Probe):
    def on_train_end(self, logs=None) -> None:
        self.eigenvalues = np.linalg.eigvalsh(self.matrix())

    def matrix(self) -> np.ndarray:
        """The full Hessian of the mean loss over the sample rows, symmetrised."""
        variables = self.model.trainable_variables
        with tf.GradientTape(persistent=True) as outer:
            with tf.GradientTape() as inner:
                loss = self.mean_loss()
            flat = tf.concat([tf.reshape(g, [-1]) for g in inner.gradient(loss, variables)], 0)
        blocks = outer.jacobian(flat, variables, experimental_use_pfor=False)
        del outer
        size = int(flat.shape[0])
        hessian = tf.concat([tf.reshape(b, (size, -1)) for b in blocks], axis=1).numpy()
        return (hessian + hessian.T) / 2

    def arrays(self) -> dict[str, np.ndarray]:
        return {"hessian_eigenvalues": self.eigenvalues.astype("float64")}


PROBES: dict[str, type[Probe]] = {"weights_every": WeightSnapshots, "grad_norm": GradientNorm,
                                  "hessian": HessianSpectrum}


def probes_for(spec: dict[str, Any] | None, x: np.ndarray, y: np.ndarray, loss: str,
               steps: int) -> list[Probe]:
    """The probes a run's spec switches on (a key set to a value other than None/False)."""
    if not spec:
        return []
    return [cls(spec, x, y, loss, steps) for key, cls in PROBES.items() if spec.get(key)]


def collect(probes: list[Probe]) -> dict[str, np.ndarray]:
    return {name: array for probe in probes for name, array in probe.arrays().items()}

