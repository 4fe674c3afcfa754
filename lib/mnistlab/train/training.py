"""The one trainer every notebook uses: fast, seeded, and faithful to the studies' ``fit``.

A small MLP step on two cores is a few microseconds of arithmetic wrapped in ~0.5 ms of
Python, tf.data and per-op dispatch.  The compiled engine removes that overhead without
touching the arithmetic:

* one ``tf.function`` runs a whole epoch: a graph loop over the batches of that epoch's
  order, each step being Keras's own ``model.train_step`` (same loss, metrics, optimizer and
  dropout random stream as ``fit``);
* the arrays live in memory once as float32 and each batch is a gather of rows, so there is
  no input pipeline to stall;
* the epoch is compiled whole by XLA, which fuses the optimizer update and removes per-op
  dispatch.  Dropout masks are the one thing XLA must not make (its CPU random generator
  is another algorithm, so other masks than ``fit``, and ~12x slower): Keras draws them
  for the whole epoch beforehand and the compiled step multiplies by them
  (``_DropoutFeed``).

Each epoch's order is a seeded permutation of the rows (the per-sample reshuffle of
``fit(shuffle=True)``), drawn from the seed alone.  ``engine="plain"`` feeds exactly those
batches to ``model.fit`` one step at a time; the tests check that both engines give the
same numbers to float tolerance and stop at the same epoch.
"""

from __future__ import annotations

import logging
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterator, Literal

import numpy as np

from mnistlab.train.backend import keras, tf
from mnistlab.train.models import build_model, compile_model
from mnistlab.train.probes import collect, probes_for
from mnistlab.spec.tasks import task as task_named

EVAL_BATCH = 2000



def _is_not_retracing_warning(record: logging.LogRecord) -> bool:
    return "triggered tf.function retracing" not in record.getMessage()


# Every run compiles its own epoch function by design, which TF mistakes for accidental
# retracing; its warning would otherwise land in every report.
logging.getLogger("tensorflow").addFilter(_is_not_retracing_warning)

EpochHook = Callable[[int, int, dict[str, float]], None]


@dataclass(frozen=True)
class Arrays:
    """Float32 inputs and labels for one task, subset and scaling, built once per process."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray


@lru_cache(maxsize=8)
def prepare_arrays(task: str = "digits", train_inputs: str = "unit", test_inputs: str = "unit",
                   train_samples: int | None = None, test_samples: int | None = None,
                   validation_split: float = 0.0) -> Arrays:
    """The task's examples as float32 arrays, from the task's own source (MNIST images, or
    points of a function); MNIST subsets take the first N rows so every run sees the same.

    As with Keras's ``validation_split``, the validation rows are the *last* fraction of the
    training rows, taken before any shuffling.
    """
    spec = task_named(task)
    x_train, y_raw, x_test, y_test_raw = spec.source.load(train_inputs, test_inputs,
                                                          train_samples, test_samples)
    y_train = spec.labels(y_raw)
    x_val = y_val = None
    if validation_split:
        cut = int(len(x_train) * (1 - validation_split))
        x_train, x_val = x_train[:cut], x_train[cut:]
        y_train, y_val = y_train[:cut], y_train[cut:]
    return Arrays(x_train, y_train, x_val, y_val, x_test, spec.labels(y_test_raw))


Engine = Literal["compiled", "plain"]


def encode(y: np.ndarray, run: dict[str, Any]) -> np.ndarray:
    """Labels as the run's loss expects them (one-hot rows for categorical cross-entropy)."""
    return task_named(run["task"]).encode(y, run["loss"])


def epoch_orders(n: int, seed: int, passes: int = 1) -> Iterator[np.ndarray]:
    """Endless per-epoch permutations of ``n`` rows, reproducible from ``seed`` alone.

    With ``passes`` > 1 an epoch is that many passes, each its own permutation, one after
    the other (the rows of ``repeated``); a batch mixes two passes only where the batch size
    does not divide ``n``.
    """
    rng = np.random.default_rng(seed)
    while True:
        yield np.concatenate([rng.permutation(n) for _ in range(passes)]).astype("int32")


def repeated(x: np.ndarray, passes: int) -> np.ndarray:
    """``x`` stacked ``passes`` times, so an epoch of ``passes`` passes is one compiled call
    (tiny data only: a 1-D function's points; MNIST is never copied)."""
    return x if passes == 1 else np.tile(x, (passes,) + (1,) * (x.ndim - 1))


def dropout_layers(models: list[keras.Model]) -> list[keras.layers.Dropout]:
    return [layer for model in models for layer in model.layers
            if isinstance(layer, keras.layers.Dropout)]


class _DropoutFeed:
    """Keras's own dropout masks for one epoch, drawn outside XLA, fed to the compiled step.

    XLA's CPU random generator is another algorithm than TensorFlow's (other masks than
    ``fit``) and ~12x slower, so each Dropout layer's masks for every step of the epoch are
    drawn first, by ``keras.random.dropout`` from the layer's own seed generator in the order
    ``fit`` would draw them.  Inside the compiled step the layer multiplies by its mask:
    ``x * (keep / (1 - rate))`` is what ``dropout`` computes, bit for bit.
    """

    def __init__(self, layers: list[keras.layers.Dropout], batch_size: int, full: int, tail: int):
        self.layers, self.batch_size, self.full, self.tail = layers, batch_size, full, tail
        self.current: dict[int, tf.Tensor] = {}
        self.draw = tf.function(self._draw)

    def _draw(self) -> list[tuple[tf.Tensor | None, tf.Tensor | None]]:
        """Per layer: the full batches' masks stacked, and the partial last batch's (or None)."""
        masks = []
        for layer in self.layers:
            width = layer.input.shape[-1]
            stack = None
            if self.full:
                array = tf.TensorArray(tf.float32, size=self.full)
                for s in tf.range(self.full):
                    array = array.write(s, self._mask(layer, self.batch_size, width))
                stack = array.stack()
            masks.append((stack, self._mask(layer, self.tail, width) if self.tail else None))
        return masks

    @staticmethod
    def _mask(layer: keras.layers.Dropout, rows: int, width: int) -> tf.Tensor:
        return keras.random.dropout(tf.ones((rows, width)), layer.rate, seed=layer.seed_generator)

    def use(self, masks: list[tf.Tensor]) -> None:
        """While tracing: the masks the layers' next call multiplies by."""
        for layer, mask in zip(self.layers, masks):
            self.current[id(layer)] = mask

    def call_for(self, layer: keras.layers.Dropout) -> Callable:
        def call(inputs, training=False):
            return inputs * self.current[id(layer)] if training else inputs
        return call

    @contextmanager
    def installed(self) -> Iterator[None]:
        """The layers call through the feed only while an epoch is traced or run."""
        for layer in self.layers:
            layer.call = self.call_for(layer)
        try:
            yield
        finally:
            for layer in self.layers:
                del layer.call
            self.current.clear()


def compiled_epoch(models: list[keras.Model], x: np.ndarray, y: np.ndarray, batch_size: int
                   ) -> Callable[[list[np.ndarray]], None]:
    """One XLA call trains each model for one epoch, model k on the batches of order k.

    Full batches run in a graph loop; a last partial batch (as ``fit`` makes when the
    batch size does not divide the data) runs once after it, in the same call.  Several
    models in one call share the loop's overhead (``train_runs``: seeds stepped together).
    """
    full, tail = divmod(len(x), batch_size)
    layers = dropout_layers(models)
    feed = _DropoutFeed(layers, batch_size, full, tail) if layers else None

    def epoch(x_all: tf.Tensor, y_all: tf.Tensor, orders: list[tf.Tensor],
              masks: list[tuple[tf.Tensor | None, tf.Tensor | None]]) -> None:
        def step(model: keras.Model, rows: tf.Tensor) -> None:
            model.train_step((tf.gather(x_all, rows), tf.gather(y_all, rows)))

        if full:  # no graph loop at all when one batch is larger than the data
            batches = [tf.reshape(order[: full * batch_size], (full, batch_size))
                       for order in orders]
            for s in tf.range(full):
                if feed:
                    feed.use([per_layer[0][s] for per_layer in masks])
                for model, rows in zip(models, batches):
                    step(model, rows[s])
        if tail:
            if feed:
                feed.use([per_layer[1] for per_layer in masks])
            for model, order in zip(models, orders):
                step(model, order[full * batch_size:])

    # The data are arguments, not captured constants: TensorFlow keeps a traced function's
    # captures alive for the whole process, which leaked one copy of MNIST per run.
    function = tf.function(epoch, jit_compile=True)
    x_all, y_all = tf.constant(x), tf.constant(y)

    def run(orders: list[np.ndarray]) -> None:
        tensors = [tf.constant(order) for order in orders]
        if feed is None:
            function(x_all, y_all, tensors, [])
            return
        with feed.installed():
            function(x_all, y_all, tensors, feed.draw())

    return run


def _fixed_batches(x: np.ndarray, y: np.ndarray) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(EVAL_BATCH)


def _plain_batches(x: np.ndarray, y: np.ndarray, batch_size: int,
                   orders: Iterator[np.ndarray]) -> tf.data.Dataset:
    """One epoch of ``fit``-ready batches, taken in the next order each time it is iterated."""
    def one_epoch():
        order = next(orders)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            yield x[rows], y[rows]

    signature = (tf.TensorSpec((None, x.shape[1]), tf.float32),
                 tf.TensorSpec((None,) + y.shape[1:], tf.as_dtype(y.dtype)))
    steps = math.ceil(len(x) / batch_size)  # a known length: Keras steps exactly one epoch
    return tf.data.Dataset.from_generator(one_epoch, output_signature=signature).apply(
        tf.data.experimental.assert_cardinality(steps))


class _EpochCallback(keras.callbacks.Callback):
    def __init__(self, hook: EpochHook, epochs: int):
        super().__init__()
        self.hook, self.epochs = hook, epochs

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.hook(epoch + 1, self.epochs, {k: float(v) for k, v in (logs or {}).items()})


def _callbacks(run: dict[str, Any], epochs: int, on_epoch: EpochHook | None
               ) -> list[keras.callbacks.Callback]:
    """Keras's own EarlyStopping (so "patience" means what the studies meant) and the hook."""
    callbacks: list[keras.callbacks.Callback] = []
    if run.get("early_stopping"):
        callbacks.append(keras.callbacks.EarlyStopping(**run["early_stopping"]))
    if on_epoch:
        callbacks.append(_EpochCallback(on_epoch, epochs))
    return callbacks


@dataclass
class Trainee:
    """One model of ``run`` for ``seed``, as every path trains it: the same session reset and
    seeds (so the same initial weights and dropout seeds), its own epoch orders, callbacks
    and history."""

    model: keras.Model
    orders: Iterator[np.ndarray]
    callbacks: list[keras.callbacks.Callback]
    history: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def fresh(cls, run: dict[str, Any], seed: int, rows: int, input_dim: int, epochs: int,
              on_epoch: EpochHook | None = None) -> "Trainee":
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = compile_model(build_model(run, input_dim, seed), run)
        return cls(model, epoch_orders(rows, seed, run.get("passes_per_epoch", 1)),
                   _callbacks(run, epochs, on_epoch))


def fit_group(trainees: list[Trainee], x: np.ndarray, y: np.ndarray, batch_size: int,
              epochs: int, validation: tf.data.Dataset | None = None,
              test: tf.data.Dataset | None = None) -> None:
    """``model.fit``'s epoch loop for models stepped together by one compiled call per epoch.

    One trainee is ``train_run``; several are ``train_runs``' towers.  A trainee whose early
    stopping fires leaves the group, and the call is rebuilt for the rest.  With ``test``
    (a run's ``test_curve``) each epoch also logs the test scores, as the run's final ones
    are computed.
    """
    lists = {id(t): keras.callbacks.CallbackList(t.callbacks, model=t.model, epochs=epochs)
             for t in trainees}
    for trainee in trainees:
        trainee.model.stop_training = False
        lists[id(trainee)].on_train_begin()
    active: list[Trainee] = []
    for epoch in range(epochs):
        still = [t for t in trainees if not t.model.stop_training]
        if not still:
            break
        if still != active:
            active = still
            run_epoch = compiled_epoch([t.model for t in active], x, y, batch_size)
        for trainee in active:
            lists[id(trainee)].on_epoch_begin(epoch)
            trainee.model.reset_metrics()
        run_epoch([next(t.orders) for t in active])
        for trainee in active:
            logs = _epoch_logs(trainee.model, validation, test)
            for key, value in logs.items():
                trainee.history.setdefault(key, []).append(value)
            lists[id(trainee)].on_epoch_end(epoch, logs)
    for trainee in trainees:
        lists[id(trainee)].on_train_end()


def _epoch_logs(model: keras.Model, validation: tf.data.Dataset | None,
                test: tf.data.Dataset | None = None) -> dict[str, float]:
    """The training metrics of the epoch just run, then validation scores as ``fit`` names
    them, then (a test curve) the test scores as ``test_<metric>``."""
    logs = {k: float(v) for k, v in model.get_metrics_result().items()}
    for prefix, data in (("val_", validation), ("test_", test)):
        if data is not None:
            scores = model.evaluate(data, verbose=0, return_dict=True)
            logs.update({f"{prefix}{k}": float(v) for k, v in scores.items()})
    return logs


def fit_plain(trainee: Trainee, x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int,
              validation: tf.data.Dataset | None) -> None:
    """The reference: the same batches through ``model.fit``, one step per call, no XLA."""
    history = trainee.model.fit(_plain_batches(x, y, batch_size, trainee.orders), epochs=epochs,
                                verbose=0, shuffle=False, callbacks=trainee.callbacks,
                                validation_data=validation)
    trainee.history = {k: [float(v) for v in values] for k, values in history.history.items()}


def compute_threads() -> int:
    """TensorFlow's intra-op threads: set through the API, or through the environment as
    ``MNISTLAB_THREADS`` does it, else one per core."""
    configured = tf.config.threading.get_intra_op_parallelism_threads()
    return configured or int(os.environ.get("TF_NUM_INTRAOP_THREADS") or 0) or (os.cpu_count() or 1)


def train_run(run: dict[str, Any], seed: int, arrays: Arrays, max_epochs: int | None = None,
              engine: Engine = "compiled", on_epoch: EpochHook | None = None) -> dict[str, Any]:
    """Train one model of ``run`` with ``seed``: ``train_runs`` with one seed, whose timing is
    this model's alone."""
    return train_runs(run, [seed], arrays, max_epochs, engine, on_epoch)[0]


def train_runs(run: dict[str, Any], seeds: list[int], arrays: Arrays,
               max_epochs: int | None = None, engine: Engine = "compiled",
               on_epoch: EpochHook | None = None) -> list[dict[str, Any]]:
    """Train one model of ``run`` per seed, stepped together; return each one's history,
    timing and test scores, in ``seeds`` order.

    Several seeds are *towers*: K models, each exactly the one a single run builds for its
    seed (initial weights, dropout seed, epoch orders, optimizer, callbacks, probes), stepped
    by one compiled call per epoch, so K models' arithmetic pays one loop's overhead and one
    compile (``fit_group``; a model whose early stopping fires leaves the group).  Results
    are those of separate runs (``tests/test_towers.py``).

    ``train_time_s`` is the wall time of the epoch loop (with per-epoch validation and test
    curve, the
    first epoch's tracing and any probes), as the studies timed ``fit``; ``train_cpu_s`` is
    the CPU time this process spent in it, on ``threads`` TensorFlow threads.  With K
    seeds both are the group's time over K (``seeds_together`` K): a fair share when every
    configuration of a study trains the same K, but no model's own time, which is why a
    study that reports training time per model trains its seeds one by one
    (``seeds_together: false`` in its params).  ``probes`` holds the arrays the run's probes
    recorded (empty without probes).  A run with ``passes_per_epoch`` k logs one epoch per
    k passes over the rows.
    """
    if engine == "plain" and (len(seeds) != 1 or run.get("test_curve")):
        raise ValueError("the plain engine (model.fit) trains one seed at a time, without a "
                         "test curve")
    epochs = min(run["epochs"], max_epochs) if max_epochs else run["epochs"]
    validation = None
    if arrays.x_val is not None:
        validation = _fixed_batches(arrays.x_val, encode(arrays.y_val, run))
    y_train = encode(arrays.y_train, run)
    passes = run.get("passes_per_epoch", 1)
    x_epoch, y_epoch = repeated(arrays.x_train, passes), repeated(y_train, passes)
    trainees, probes = [], []
    for seed in seeds:
        trainee = Trainee.fresh(run, seed, len(arrays.x_train), arrays.x_train.shape[1], epochs,
                                on_epoch)
        probes.append(probes_for(run.get("probes"), arrays.x_train, y_train, run["loss"],
                                 math.ceil(len(y_epoch) / run["batch_size"])))
        trainee.callbacks.extend(probes[-1])
        trainees.append(trainee)
    test = _fixed_batches(arrays.x_test, encode(arrays.y_test, run))
    start, start_cpu = time.perf_counter(), time.process_time()
    if engine == "plain":
        fit_plain(trainees[0], x_epoch, y_epoch, run["batch_size"], epochs, validation)
    else:
        fit_group(trainees, x_epoch, y_epoch, run["batch_size"], epochs, validation,
                  test if run.get("test_curve") else None)
    share = len(seeds)
    timing = {"train_time_s": (time.perf_counter() - start) / share,
              "train_cpu_s": (time.process_time() - start_cpu) / share,
              "threads": compute_threads(), "seeds_together": share}
    return [_result(run, trainee, test, timing, recorded)
            for trainee, recorded in zip(trainees, probes)]


def _result(run: dict[str, Any], trainee: Trainee, test: tf.data.Dataset,
            timing: dict[str, Any], probes: list) -> dict[str, Any]:
    """One model's scores: its last epoch's training metrics and its test metrics."""
    model, curves = trainee.model, trainee.history
    scores = model.evaluate(test, verbose=0, return_dict=True)
    result: dict[str, Any] = {"epochs_run": len(curves["loss"]), **timing,
                              "parameters": int(model.count_params())}
    for name in ("loss", *task_named(run["task"]).metrics):
        result[f"train_{name}"] = curves[name][-1]
        result[f"test_{name}"] = float(scores[name])
    return {**result, "history": curves, "probes": collect(probes)}
