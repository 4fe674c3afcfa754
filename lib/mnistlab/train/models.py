"""Build the studies' networks from a resolved run spec, one builder per kind of run."""

from __future__ import annotations

import random
from typing import Any, Callable

from mnistlab.train.backend import keras
from mnistlab.spec.tasks import task

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


class Seeds:
    """Every seed one model draws, from its run's seed alone.

    Keras gives each unseeded initializer and Dropout layer ``random.randint(1, 10**9)`` from
    Python's process-wide generator, which ``keras.utils.set_random_seed`` reseeds.  Any other
    thread of the process drawing from that generator while a model is built (a Dask worker's
    event loop retrying a connection, under load) shifts those seeds and silently trains
    another model.  This private generator yields the same integers in the same order, so a
    model's weights are what they always were, and no other thread can reach it.
    """

    def __init__(self, seed: int) -> None:
        self._generator = random.Random(seed)

    def next(self) -> int:
        """The next layer's seed, as Keras's ``make_default_seed`` would draw it."""
        return self._generator.randint(1, int(1e9))


def build_mlp(run: dict[str, Any], input_dim: int, seeds: Seeds) -> keras.Model:
    """A Sequential MLP: hidden Dense layers, Dropout where the run spec places it
    (``dropout_after``: each hidden layer, or the last only), then the task's output layer."""
    layers: list[keras.layers.Layer] = [keras.Input(shape=(input_dim,))]
    fan_in = input_dim
    last = len(run["hidden"]) - 1
    for index, (units, activation) in enumerate(zip(run["hidden"], run["activation"])):
        layers.append(keras.layers.Dense(units, activation=activation,
                                         **dense_initializers(run, fan_in, seeds)))
        fan_in = units
        if run.get("dropout") and (run.get("dropout_after", "each_hidden") == "each_hidden"
                                   or index == last):
            layers.append(keras.layers.Dropout(run["dropout"], seed=seeds.next()))
    spec = task(run["task"])
    layers.append(keras.layers.Dense(spec.outputs, activation=spec.output_activation,
                                     **dense_initializers(run, fan_in, seeds)))
    if run.get("extra_softmax"):
        layers.append(keras.layers.Softmax(name="extra_softmax"))
    return keras.Sequential(layers, name=_model_name(run))


def initializers(init: str | None, fan_in: int,
                 seeds: Seeds) -> dict[str, keras.initializers.Initializer]:
    """Dense keyword arguments for the run's ``init``: for Keras's own defaults, its
    glorot_uniform kernels and zero biases; for ``pytorch``, nn.Linear's default,
    kaiming_uniform(a=√5) kernels and uniform biases, both U(±1/√fan_in)."""
    if init in (None, "keras"):
        return {"kernel_initializer": keras.initializers.GlorotUniform(seed=seeds.next())}
    bound = fan_in ** -0.5
    return {"kernel_initializer": keras.initializers.VarianceScaling(
                scale=1 / 3, mode="fan_in", distribution="uniform", seed=seeds.next()),
            "bias_initializer": keras.initializers.RandomUniform(-bound, bound,
                                                                 seed=seeds.next())}


def dense_initializers(run: dict[str, Any], fan_in: int, seeds: Seeds) -> dict[str, Any]:
    """One Dense layer's initializers: the run's ``init`` family, with its
    ``kernel_initializer`` (a Keras initializer spec) taking over the kernels when given.
    Seeds are drawn in the order Keras drew them before seeds were explicit, the family's
    kernel seed included when the spec replaces it (so each model keeps its weights)."""
    if not run.get("kernel_initializer"):
        return initializers(run.get("init"), fan_in, seeds)
    options = initializers(run.get("init"), fan_in, seeds) if run.get("init") == "pytorch" else {}
    options["kernel_initializer"] = initializer(run["kernel_initializer"], seeds.next())
    return options


BUILDERS: dict[str, Callable[[dict[str, Any], int, Seeds], keras.Model]] = {
    "mlp": build_mlp, "regression": build_mlp}


def build_model(run: dict[str, Any], input_dim: int | None = None, seed: int = 0) -> keras.Model:
    """The model of ``run``'s kind for ``seed``, on the task's inputs unless ``input_dim`` says
    otherwise; its weights depend on ``seed`` alone, whatever else the process draws."""
    return BUILDERS[run.get("kind", "mlp")](run, input_dim or task(run["task"]).inputs,
                                            Seeds(seed))


def initializer(spec: dict[str, Any], seed: int) -> keras.initializers.Initializer:
    """A new initializer per layer, with its own seed (one instance shared by layers of the same
    shape would give them the same weights)."""
    options = {k: v for k, v in spec.items() if k != "name" and v is not None}
    return keras.initializers.get({"class_name": spec["name"], "config": {**options, "seed": seed}})


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
