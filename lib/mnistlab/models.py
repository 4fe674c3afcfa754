"""Build the studies' fully connected networks from a resolved run spec."""

from __future__ import annotations

from typing import Any

import keras

OPTIMIZERS = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "rmsprop": keras.optimizers.RMSprop,
    "adagrad": keras.optimizers.Adagrad,
    "adadelta": keras.optimizers.Adadelta,
    "nadam": keras.optimizers.Nadam,
    "ftrl": keras.optimizers.Ftrl,
}


def output_units(task: str) -> int:
    return 1 if task == "zero_vs_rest" else 10


def build_model(run: dict[str, Any], input_dim: int = 784) -> keras.Model:
    """A Sequential MLP: hidden Dense layers, optional Dropout after the last, then the output.

    The dropout placement follows study 001's baseline (Dense, Dense, Dropout, Dense); the
    output is softmax over ten digits, or one sigmoid unit for the zero-vs-rest task.
    """
    layers: list[keras.layers.Layer] = [keras.Input(shape=(input_dim,))]
    for units, activation in zip(run["hidden"], run["activation"]):
        layers.append(keras.layers.Dense(units, activation=activation))
    if run.get("dropout"):
        layers.append(keras.layers.Dropout(run["dropout"]))
    units = output_units(run["task"])
    layers.append(keras.layers.Dense(units, activation="sigmoid" if units == 1 else "softmax"))
    return keras.Sequential(layers, name=_model_name(run))


def _model_name(run: dict[str, Any]) -> str:
    return "mlp_" + "_".join(str(u) for u in run["hidden"]) if run["hidden"] else "single_neuron"


def make_optimizer(spec: dict[str, Any]) -> keras.optimizers.Optimizer:
    """The named Keras optimizer; a missing learning rate keeps Keras's own default."""
    kwargs = {} if spec.get("learning_rate") is None else {"learning_rate": spec["learning_rate"]}
    return OPTIMIZERS[spec["name"]](**kwargs)


def compile_model(model: keras.Model, run: dict[str, Any]) -> keras.Model:
    """Compile with the run's loss and optimizer; "accuracy" resolves per task in Keras."""
    model.compile(optimizer=make_optimizer(run["optimizer"]), loss=run["loss"],
                  metrics=["accuracy"])
    return model
