"""Build the studies' networks from a resolved run spec, one builder per kind of run."""

from __future__ import annotations

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


def build_mlp(run: dict[str, Any], input_dim: int) -> keras.Model:
    """A Sequential MLP: hidden Dense layers, Dropout where the run spec places it
    (``dropout_after``: each hidden layer, or the last only), then the task's output layer."""
    layers: list[keras.layers.Layer] = [keras.Input(shape=(input_dim,))]
    fan_in = input_dim
    last = len(run["hidden"]) - 1
    for index, (units, activation) in enumerate(zip(run["hidden"], run["activation"])):
        layers.append(keras.layers.Dense(units, activation=activation,
                                         **dense_initializers(run, fan_in)))
        fan_in = units
        if run.get("dropout") and (run.get("dropout_after", "each_hidden") == "each_hidden"
                                   or index == last):
            layers.append(keras.layers.Dropout(run["dropout"]))
    spec = task(run["task"])
    layers.append(keras.layers.Dense(spec.outputs, activation=spec.output_activation,
                                     **dense_initializers(run, fan_in)))
    if run.get("extra_softmax"):
        layers.append(keras.layers.Softmax(name="extra_softmax"))
    return keras.Sequential(layers, name=_model_name(run))


def initializers(init: str | None, fan_in: int) -> dict[str, keras.initializers.Initializer]:
    """Dense keyword arguments for the run's ``init``: none for Keras's own defaults (so such
    models draw exactly the weights they always did); for ``pytorch``, nn.Linear's default,
    kaiming_uniform(a=√5) kernels and uniform biases, both U(±1/√fan_in)."""
    if init in (None, "keras"):
        return {}
    bound = fan_in ** -0.5
    return {"kernel_initializer": keras.initializers.VarianceScaling(
                scale=1 / 3, mode="fan_in", distribution="uniform"),
            "bias_initializer": keras.initializers.RandomUniform(-bound, bound)}


def dense_initializers(run: dict[str, Any], fan_in: int) -> dict[str, Any]:
    """One Dense layer's initializers: the run's ``init`` family, with its
    ``kernel_initializer`` (a Keras initializer spec) taking over the kernels when given."""
    options = initializers(run.get("init"), fan_in)
    if run.get("kernel_initializer"):
        options["kernel_initializer"] = initializer(run["kernel_initializer"])
    return options


BUILDERS: dict[str, Callable[[dict[str, Any], int], keras.Model]] = {
    "mlp": build_mlp, "regression": build_mlp}


def build_model(run: dict[str, Any], input_dim: int | None = None) -> keras.Model:
    """The model of ``run``'s kind, on the task's inputs unless ``input_dim`` says otherwise."""
    return BUILDERS[run.get("kind", "mlp")](run, input_dim or task(run["task"]).inputs)


def initializer(spec: dict[str, Any] | None) -> keras.initializers.Initializer | str:
    """A new initializer per layer (one instance shared by layers of the same shape would give
    them the same weights); None is Keras's own default, glorot_uniform."""
    if spec is None:
        return "glorot_uniform"
    options = {k: v for k, v in spec.items() if k != "name" and v is not None}
    return keras.initializers.get({"class_name": spec["name"], "config": options})


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
