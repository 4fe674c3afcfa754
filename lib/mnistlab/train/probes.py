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
  (``hessian_eigenvalues``), for small models only (the schema caps the size);
* ``loss: step`` — the training loss of every update, recorded inside the compiled epoch
  like the gradient norm (``loss_step``);
* ``predictions: true`` — the model's outputs on the ``sample`` rows at the end, beside
  those rows' inputs and targets (``inputs``, ``targets``, ``predictions``), e.g. a fitted
  curve;
* ``critical: {steps, cutoff}`` — from the trained weights, Newton steps on the gradient
  (Gauss-Newton on the squared gradient norm ||∇L||², over the ``sample`` rows) find a
  nearby point where the gradient (nearly) vanishes; there the Hessian's eigenvalues give
  the *minimal ratio*, the share that are positive (1 at a strict local minimum, less at a
  saddle).  The trained weights are put back afterwards, so the run's scores are those of
  the trained model (``critical_grad_norm`` after each step, ``critical_loss``,
  ``critical_eigenvalues``, ``minimal_ratio``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mnistlab.train.backend import keras, tf

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
        """The full Hessian of the mean loss over the sample rows, symmetrised.  Traced as one
        graph, so the Jacobian's loop over the gradient's entries runs in TensorFlow rather
        than op by op."""
        if not hasattr(self, "_traced"):
            self._traced = tf.function(self._hessian)
        hessian = self._traced().numpy()
        return (hessian + hessian.T) / 2

    def _hessian(self) -> tf.Tensor:
        variables = self.model.trainable_variables
        with tf.GradientTape(persistent=True) as outer:
            with tf.GradientTape() as inner:
                loss = self.mean_loss()
            flat = tf.concat([tf.reshape(g, [-1]) for g in inner.gradient(loss, variables)], 0)
        blocks = outer.jacobian(flat, variables, experimental_use_pfor=False)
        del outer
        size = int(flat.shape[0])
        return tf.concat([tf.reshape(b, (size, -1)) for b in blocks], axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"hessian_eigenvalues": self.eigenvalues.astype("float64")}


class StepLoss(Probe):
    """The loss of every update: ``model.compute_loss`` is wrapped on this instance, before
    the epoch is traced, to write each training batch's loss into a variable the compiled
    loop updates in place (evaluation calls it with ``training=False`` and is not recorded)."""

    def set_model(self, model: keras.Model) -> None:
        super().set_model(model)
        if not hasattr(self, "values"):
            self.values = tf.Variable(tf.zeros(self.steps), trainable=False)
            self.count = tf.Variable(0, trainable=False)
            self._wrap(model)

    def _wrap(self, model: keras.Model) -> None:
        compute = model.compute_loss

        def recording(x=None, y=None, y_pred=None, sample_weight=None, training=True):
            loss = compute(x, y, y_pred, sample_weight, training=training)
            if training:
                self.values.scatter_nd_update([[self.count]], [tf.cast(loss, tf.float32)])
                self.count.assign_add(1)
            return loss

        model.compute_loss = recording

    def on_train_begin(self, logs=None) -> None:
        self.per_epoch: list[np.ndarray] = []

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.count.assign(0)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.per_epoch.append(self.values.numpy()[: int(self.count.numpy())].copy())

    def arrays(self) -> dict[str, np.ndarray]:
        return {"loss_step": np.concatenate(self.per_epoch).astype("float32")}


class Predictions(Probe):
    def on_train_end(self, logs=None) -> None:
        self.outputs = self.model(self.x, training=False).numpy()

    def arrays(self) -> dict[str, np.ndarray]:
        return {"inputs": self.x.numpy(), "targets": self.y.numpy(),
                "predictions": self.outputs.astype("float32")}


def minimal_ratio(eigenvalues: np.ndarray) -> float:
    """The share of the Hessian's eigenvalues that are positive: 1 at a strict local minimum,
    0 at a maximum, in between at a saddle."""
    values = np.asarray(eigenvalues, dtype=float)
    if values.size == 0:
        raise ValueError("minimal ratio of an empty spectrum")
    return float(np.mean(values > 0))


class CriticalPoint(HessianSpectrum):
    """Newton's method on the gradient from the trained weights, the spectrum where it stops,
    then the trained weights back."""

    def on_train_end(self, logs=None) -> None:
        variables = self.model.trainable_variables
        trained = [v.numpy() for v in variables]
        spec = self.spec["critical"]
        norms = [float(np.linalg.norm(self._gradient()))]
        for _ in range(spec["steps"]):
            if not self._newton_step(spec["cutoff"]):
                break
            norms.append(float(np.linalg.norm(self._gradient())))
        self.norms = np.asarray(norms)
        self.loss = float(self.mean_loss())
        self.eigenvalues = np.linalg.eigvalsh(self.matrix())
        for variable, value in zip(variables, trained):
            variable.assign(value)

    def _gradient(self) -> np.ndarray:
        with tf.GradientTape() as tape:
            loss = self.mean_loss()
        grads = tape.gradient(loss, self.model.trainable_variables)
        return np.concatenate([np.ravel(g.numpy()) for g in grads]).astype("float64")

    def _set(self, flat: np.ndarray) -> None:
        offset = 0
        for variable in self.model.trainable_variables:
            size = int(np.prod(variable.shape))
            variable.assign(flat[offset:offset + size].reshape(variable.shape).astype("float32"))
            offset += size

    def _newton_step(self, cutoff: float) -> bool:
        """w ← w − s·H⁺g, the Gauss-Newton step on ||g||² (H is g's Jacobian), with H⁺ the
        pseudo-inverse that leaves out eigenvalues smaller than ``cutoff`` × the largest (flat
        directions, where a step would be all rounding) and s the largest of 1, 1/2 ... 1/16
        that lowers the gradient norm; False, weights unchanged, when none does."""
        gradient = self._gradient()
        values, vectors = np.linalg.eigh(self.matrix().astype("float64"))
        keep = np.abs(values) > cutoff * np.abs(values).max()
        step = vectors[:, keep] @ ((vectors[:, keep].T @ gradient) / values[keep])
        start, before = flat_weights(self.model).astype("float64"), np.linalg.norm(gradient)
        for scale in 0.5 ** np.arange(5):
            self._set(start - scale * step)
            if np.linalg.norm(self._gradient()) < before:
                return True
        self._set(start)
        return False

    def arrays(self) -> dict[str, np.ndarray]:
        return {"critical_grad_norm": self.norms.astype("float64"),
                "critical_loss": np.asarray(self.loss, dtype="float64"),
                "critical_eigenvalues": self.eigenvalues.astype("float64"),
                "minimal_ratio": np.asarray(minimal_ratio(self.eigenvalues), dtype="float64")}


PROBES: dict[str, type[Probe]] = {"weights_every": WeightSnapshots, "grad_norm": GradientNorm,
                                  "hessian": HessianSpectrum, "loss": StepLoss,
                                  "predictions": Predictions, "critical": CriticalPoint}


def probes_for(spec: dict[str, Any] | None, x: np.ndarray, y: np.ndarray, loss: str,
               steps: int) -> list[Probe]:
    """The probes a run's spec switches on (a key set to a value other than None/False)."""
    if not spec:
        return []
    return [cls(spec, x, y, loss, steps) for key, cls in PROBES.items() if spec.get(key)]


def collect(probes: list[Probe]) -> dict[str, np.ndarray]:
    return {name: array for probe in probes for name, array in probe.arrays().items()}

