"""Build the studies' networks from a resolved run spec, one builder per kind of run."""

from __future__ import annotations

from typing import Any, Callable

from .backend import keras
from .tasks import task

OPTIMIZERS: dict[str, type[keras.optimizers.Optimizer]] = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "adamax": keras.optimizers.Adamax,
    "nadam": keras.optimizers.Nadam,
    "rmsprop": keras.optimizers.RMSprop,
    "adagrad": keras.optimizers.Adagrad,
    "adadelta": keras.optimizers.Adadelta,
    "ftrl": keras.optimizers.Ftrl,
}


def build_mlp(run: dict[str, Any], input_dim: int) -> keras.Model:
    """A Sequential MLP: hidden Dense layers, optional Dropout after the last, then the output.

    The dropout placement follows study 001's baseline (Dense, Dense, Dropout, Dense); the
    output layer (units and activation) is the task's.
    """
    layers: list[keras.layers.Layer] = [keras.Input(shape=(input_dim,))]
    for units, activation in zip(run["hidden"], run["activation"]):
        layers.append(keras.layers.Dense(units, activation=activation))
    if run.get("dropout"):
        layers.append(keras.layers.Dropout(run["dropout"]))
    spec = task(run["task"])
    layers.append(keras.layers.Dense(spec.outputs, activation=spec.output_activation))
    return keras.Sequential(layers, name=_model_name(run))


BUILDERS: dict[str, Callable[[dict[str, Any], int], keras.Model]] = {"mlp": build_mlp}


def build_model(run: dict[str, Any], input_dim: int | None = None) -> keras.Model:
    """The model of ``run``'s kind, on the task's inputs unless ``input_dim`` says otherwise."""
    return BUILDERS[run.get("kind", "mlp")](run, input_dim or task(run["task"]).inputs)


def _model_name(run: dict[str, Any]) -> str:
    return "mlp_" + "_".join(str(u) for u in run["hidden"]) if run["hidden"] else "single_neuron"


def make_optimizer(spec: dict[str, Any]) -> keras.optimizers.Optimizer:
    """The named Keras optimizer with the options given; every option left out keeps Keras's
    own default (the schema only admits each optimizer's own argument names)."""
    options = {k: v for k, v in spec.items() if k != "name" and v is not None}
    return OPTIMIZERS[spec["name"]](**options)


def compile_model(model: keras.Model, run: dict[str, Any]) -> keras.Model:
    """Compile with the run's loss and optimizer and the task's metrics."""
    model.compile(optimizer=make_optimizer(run["optimizer"]), loss=run["loss"],
                  metrics=list(task(run["task"]).metrics))
    return model
