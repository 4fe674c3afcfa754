"""The FLOP floor of a trained run: the dense-layer arithmetic its epoch loop cannot do without.

Pure arithmetic on a run spec and the rows it trained on, no TensorFlow: ``make bench``
(``mnistlab.pipeline.floor``) divides it by a measured matmul rate and sets it against the
CPU time each cached run recorded (``train_cpu_s``).

What is counted, per epoch actually run (``epochs_run``), with W the run's multiply-adds per
sample (the connection weights of its dense layers, ``inputs·h1 + h1·h2 + … + hk·outputs``,
biases left out, inputs and outputs the run's own task's):

* training: 6 · W FLOPs for each training row of each pass (``passes_per_epoch`` passes an
  epoch): 2 · W forward, 4 · W backward (the gradients of the activations and of the
  weights, one matmul each);
* validation: 2 · W (forward only) for each validation row, once an epoch, when the run has a
  validation split (Keras's ``evaluate`` after every epoch, inside the timed loop).

What is left out: the test pass, because ``train_cpu_s`` stops before it; biases, activations,
dropout, the loss and the optimizer's update (O(W) per step, not per sample); and whatever the
run's probes compute (weight snapshots, gradient norms, Hessians).  So the floor is a lower
bound on the arithmetic ``train_cpu_s`` covers, not an estimate of it.
"""

from __future__ import annotations

from typing import Any, Mapping

from mnistlab.analysis.curves import training_rows
from mnistlab.analysis.derived import connection_weights
from mnistlab.spec.tasks import task

TRAIN_FLOPS_PER_WEIGHT = 6  # per sample: 2 forward, 4 backward
EVAL_FLOPS_PER_WEIGHT = 2  # per sample: forward only


def split_rows(task_name: str, train_samples: int | None, validation_split: float
               ) -> tuple[int, int]:
    """(training rows, validation rows) of a run of task ``task_name`` given the profile's
    ``train_samples``: the task's source's rows, cut as ``prepare_arrays`` cuts them."""
    rows = task(task_name).source.train_rows(train_samples)
    train = training_rows(rows, validation_split)
    return train, rows - train


def run_flops(run: Mapping[str, Any], epochs_run: int, train_rows: int,
              validation_rows: int = 0) -> int:
    """FLOPs of the dense layers in the timed epoch loop of one run (see the module's text):
    ``epochs_run`` × (6 · W · ``train_rows`` · passes + 2 · W · ``validation_rows``)."""
    weights = connection_weights(run)
    passes = int(run.get("passes_per_epoch", 1))
    per_epoch = (TRAIN_FLOPS_PER_WEIGHT * weights * train_rows * passes
                 + EVAL_FLOPS_PER_WEIGHT * weights * validation_rows)
    return epochs_run * per_epoch
