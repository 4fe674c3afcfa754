"""Benchmark: the studies' own ``model.fit`` against the mnistlab trainer, on real MNIST.

Why: the trainer claims its speed comes only from running a whole epoch per XLA call on
arrays held in memory. This measures that claim on this
machine, side by side on the same models, and shows how far the trainer still is from the
float32 matmul floor of the CPU. It is a
benchmark, not a test: the numbers depend on the machine and on what else is running.

It ends with each study's cached full-profile runs against their FLOP floor
(``mnistlab.pipeline.floor``), which ``--floor-only`` prints alone, in seconds, not minutes.

    python -m mnistlab.pipeline.bench [--epochs N] [--out reports/bench.md]
    python -m mnistlab.pipeline.bench --floor-only [--out FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab.train.backend import keras, tf
from mnistlab.core.cache import write_bytes_atomic
from mnistlab.pipeline.floor import render_floor, study_floors
from mnistlab.train.models import build_model, compile_model
from mnistlab.train.training import Arrays, compute_threads, prepare_arrays, train_run, train_runs

SEED = 0
WARMUP_EPOCHS = 1
MATMUL_SIZE = 2048
MATMUL_TRIALS = 5


def _run(name: str, hidden: list[int], loss: str, batch_size: int, dropout: float = 0.0
         ) -> dict[str, Any]:
    return {"name": name, "hidden": hidden, "activation": ["relu"] * len(hidden),
            "dropout": dropout, "loss": loss, "optimizer": {"name": "adam", "learning_rate": 0.001},
            "batch_size": batch_size, "epochs": 1, "early_stopping": None,
            "train_inputs": "unit", "test_inputs": "unit", "task": "digits"}


@dataclass(frozen=True)
class Case:
    """One model to time, and the speed-up the trainer is expected to reach on it."""

    label: str
    run: dict[str, Any]
    target: float


SPARSE = "sparse_categorical_crossentropy"
CASES = (
    Case("784-50-10", _run("bench_50", [50], SPARSE, 32), 4.0),
    Case("784-(50×10)-10", _run("bench_50x10", [50] * 10, SPARSE, 32), 4.0),
    Case("784-128-128-Dropout(0.25)-10 (study 001)",
         _run("bench_001_baseline", [128, 128], "categorical_crossentropy", 512, 0.25), 2.5),
)


@dataclass(frozen=True)
class Row:
    """Mean warm-epoch seconds of both paths for one case, and its FLOP floor."""

    case: Case
    samples: int
    parameters: int
    study_s: float
    mnistlab_s: float
    floor_s: float

    @property
    def speedup(self) -> float:
        return self.study_s / self.mnistlab_s

    @property
    def gap(self) -> float:
        return self.mnistlab_s / self.floor_s

    @property
    def passed(self) -> bool:
        return self.speedup >= self.case.target


class _EpochTimer(keras.callbacks.Callback):
    """Times each epoch from its first to its last batch, leaving out ``fit``'s data setup."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


@dataclass(frozen=True)
class MatmulRate:
    """Best warm float32 matmul rates, in GFLOP per second of wall time and per CPU-second."""

    per_s: float
    per_cpu_s: float


def matmul_rates(size: int = MATMUL_SIZE, trials: int = MATMUL_TRIALS) -> MatmulRate:
    """The most arithmetic TF gets from this CPU: per wall second on all its threads, and per
    CPU-second (what a run's ``train_cpu_s`` is set against, whatever its thread count)."""
    a = tf.random.uniform((size, size), dtype=tf.float32)
    b = tf.random.uniform((size, size), dtype=tf.float32)
    tf.linalg.matmul(a, b).numpy()
    best_wall = best_cpu = float("inf")
    for _ in range(trials):
        start, start_cpu = time.perf_counter(), time.process_time()
        tf.linalg.matmul(a, b).numpy()
        best_wall = min(best_wall, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    flops = 2 * size**3
    return MatmulRate(flops / best_wall / 1e9, flops / best_cpu / 1e9)


def study_style_epoch_s(case: Case, arrays: Arrays, epochs: int, seed: int = SEED) -> float:
    """Mean warm epoch seconds of the studies' way: numpy arrays into ``fit``, progress bar on.

    The bar stays at ``verbose=1`` so its per-batch cost is counted; only its text is discarded.
    """
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    run = case.run
    model = compile_model(build_model(run, arrays.x_train.shape[1], seed), run)
    y = arrays.y_train
    if run["loss"] == "categorical_crossentropy":
        y = keras.utils.to_categorical(y, 10)
    timer = _EpochTimer()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        model.fit(arrays.x_train, y, batch_size=run["batch_size"], epochs=WARMUP_EPOCHS, verbose=1)
        for _ in range(epochs):
            model.fit(arrays.x_train, y, batch_size=run["batch_size"], epochs=1, verbose=1,
                      callbacks=[timer])
    return float(np.mean(timer.seconds))


def mnistlab_epoch_s(case: Case, arrays: Arrays, epochs: int, seed: int = SEED
                     ) -> tuple[float, int]:
    """Mean warm seconds per epoch of ``train_run`` itself, and the parameter count.

    Timing starts at the end of the warm-up epoch, so the first epoch's tracing is left out.
    """
    ends: list[float] = []
    total = WARMUP_EPOCHS + epochs
    result = train_run({**case.run, "epochs": total}, seed, arrays, max_epochs=total,
                       on_epoch=lambda *_: ends.append(time.perf_counter()))
    return (ends[-1] - ends[WARMUP_EPOCHS - 1]) / epochs, result["parameters"]


def bench_case(case: Case, arrays: Arrays, epochs: int, gflops: float) -> Row:
    """Time both paths on one case; the floor is ≈6 FLOPs per parameter per sample."""
    study = study_style_epoch_s(case, arrays, epochs)
    mnistlab, parameters = mnistlab_epoch_s(case, arrays, epochs)
    samples = len(arrays.x_train)
    floor = 6 * parameters * samples / (gflops * 1e9)
    return Row(case, samples, parameters, study, mnistlab, floor)


TOWER_SEEDS = [0, 1, 2]


def towers_epoch_s(case: Case, arrays: Arrays, epochs: int) -> float:
    """Mean warm seconds per epoch of one stacked step training every seed of ``TOWER_SEEDS``."""
    ends: list[float] = []
    total = WARMUP_EPOCHS + epochs
    train_runs({**case.run, "epochs": total}, TOWER_SEEDS, arrays,
               on_epoch=lambda *_: ends.append(time.perf_counter()))
    return (ends[-1] - ends[WARMUP_EPOCHS - 1]) / epochs


def render_towers(rows: list[Row], tower_s: dict[str, float]) -> list[str]:
    """Sweep-level throughput: K seeds as K runs against K seeds as towers of one step."""
    k = len(TOWER_SEEDS)
    lines = ["", f"## A sweep of {k} seeds: separate runs against one compiled call stepping all {k}", "",
             "| model | batch | separate runs s/epoch (all seeds) | towers s/epoch | speed-up "
             "| towers samples/s | floor s/epoch | gap to floor |", "|---|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        if r.case.label not in tower_s:
            continue
        towers = tower_s[r.case.label]
        lines.append(f"| {r.case.label} | {r.case.run['batch_size']} | {k * r.mnistlab_s:.2f} "
                     f"| {towers:.2f} | {k * r.mnistlab_s / towers:.2f}× | {k * r.samples / towers:,.0f} "
                     f"| {k * r.floor_s:.3f} | {towers / (k * r.floor_s):.0f}× |")
    return lines


def machine_info() -> list[str]:
    """What the numbers depend on, so a saved table can be read later."""
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return [
        f"date: {datetime.now().isoformat(timespec='seconds')}",
        f"machine: {os.cpu_count()} CPUs, {platform.machine()} {platform.system()}, "
        f"load average {load} at start",
        f"software: Python {platform.python_version()}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}",
    ]


def render_markdown(rows: list[Row], info: list[str], gflops: float, epochs: int) -> str:
    """The report: context lines, then one table row per case with its PASS/MISS verdict."""
    targets = ", ".join(sorted({f"≥{r.case.target:g}× at batch {r.case.run['batch_size']}"
                                for r in rows}))
    lines = ["# mnistlab benchmark", ""]
    lines += [f"- {line}" for line in info]
    lines += [
        f"- float32 matmul: {gflops:.1f} GFLOP/s (best of {MATMUL_TRIALS} warm "
        f"{MATMUL_SIZE}×{MATMUL_SIZE} matmuls)",
        f"- timing: mean of {epochs} warm epoch(s) per path after {WARMUP_EPOCHS} warm-up epoch, "
        f"{rows[0].samples} training samples",
        "- study style: `model.fit(x, y, batch_size=B, epochs=1, verbose=1)`, "
        "steps_per_execution=1",
        "- mnistlab: `train_run`, one XLA call per epoch running Keras's `train_step` in a "
        "graph loop (dropout masks drawn by Keras beforehand)",
        "- floor: 6 × parameters × samples FLOPs ÷ matmul rate; gap = mnistlab s/epoch ÷ floor",
        f"- targets: speed-up {targets}",
        "",
        "| model | batch | params | study samples/s | study s/epoch | mnistlab samples/s "
        "| mnistlab s/epoch | speed-up | target | floor s/epoch | gap to floor |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        verdict = "PASS" if r.passed else "MISS"
        lines.append(
            f"| {r.case.label} | {r.case.run['batch_size']} | {r.parameters:,} "
            f"| {r.samples / r.study_s:,.0f} | {r.study_s:.2f} "
            f"| {r.samples / r.mnistlab_s:,.0f} | {r.mnistlab_s:.2f} "
            f"| {r.speedup:.2f}× | ≥{r.case.target:g}× {verdict} "
            f"| {r.floor_s:.3f} | {r.gap:.0f}× |")
    lines += [line for r in rows if not r.passed for line in ("", _miss_note(r))]
    return "\n".join(lines) + "\n"


def _miss_note(row: Row) -> str:
    """How far a missed target is from what the arithmetic alone allows."""
    needed = row.study_s / row.case.target
    return (f"{row.case.label}: the ≥{row.case.target:g}× target needs {needed:.3f} s/epoch, "
            f"{needed / row.floor_s:.1f}× the FLOP floor (every matmul at the peak rate); the "
            f"study's own fit is at {row.study_s / row.floor_s:.1f}× the floor and mnistlab at "
            f"{row.gap:.1f}×.")


def main(argv: list[str] | None = None) -> int:
    """Run every case, print the table and save it to ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m mnistlab.pipeline.bench",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3,
                        help="warm epochs measured per path, after one warm-up epoch (default 3)")
    parser.add_argument("--out", type=Path, default=None,
                        help="markdown report, written atomically (default reports/bench.md; "
                        "with --floor-only, printed only)")
    parser.add_argument("--floor-only", action="store_true",
                        help="only the per-study table: the cached full-profile runs' CPU time "
                        "against their FLOP floor (trains nothing)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")

    info = machine_info()
    print("\n".join(info), flush=True)
    rate = matmul_rates()
    gflops = rate.per_s
    print(f"float32 matmul: {gflops:.1f} GFLOP/s, {rate.per_cpu_s:.1f} GFLOP per CPU-second",
          flush=True)
    floor = "\n".join(render_floor(study_floors(), rate.per_cpu_s, compute_threads())) + "\n"
    if args.floor_only:
        report = "# mnistlab FLOP floor\n\n" + "".join(f"- {line}\n" for line in info) + floor
        return _emit(report, args.out)
    arrays = prepare_arrays("digits")
    rows = []
    for index, case in enumerate(CASES, 1):
        print(f"[{index}/{len(CASES)}] {case.label} @ batch {case.run['batch_size']} ...",
              flush=True)
        rows.append(bench_case(case, arrays, args.epochs, gflops))
    tower_s = {}
    for case in CASES:
        print(f"[towers] {case.label} × {len(TOWER_SEEDS)} seeds ...", flush=True)
        tower_s[case.label] = towers_epoch_s(case, arrays, args.epochs)
    report = render_markdown(rows, info, gflops, args.epochs) + "\n".join(render_towers(rows, tower_s)) + "\n"
    report += "\n".join(render_single_neuron(bench_single_neuron(args.epochs))) + "\n"
    return _emit(report + floor, args.out or Path("reports/bench.md"))


def _emit(report: str, out: Path | None) -> int:
    """Print the report and, when ``out`` is given, save it there."""
    if out is not None:
        write_bytes_atomic(out, report.encode())
    print()
    print(report, end="")
    if out is not None:
        print(f"\nwritten to {out}")
    return 0


def _single_neuron(batch_size: int) -> dict[str, Any]:
    return {"name": f"bench_004_batch{batch_size}", "hidden": [], "activation": [],
            "dropout": 0.0, "loss": "binary_crossentropy", "optimizer": {"name": "adam"},
            "batch_size": batch_size, "epochs": 1, "early_stopping": None,
            "train_inputs": "unit", "test_inputs": "unit", "task": "zero_vs_rest"}


# Study 004's batch-size experiment at its two ends: per-step overhead is everything at batch 1
# (36,000 updates an epoch of a 785-weight model), nothing at 36,000 (one update an epoch).
SINGLE_NEURON_CASES = (
    Case("one sigmoid neuron, 0 vs rest (study 004)", _single_neuron(1), 10.0),
    Case("one sigmoid neuron, 0 vs rest (study 004)", _single_neuron(36000), 1.0),
)
VALIDATION_SPLIT = 0.4
SLOW_FIT_STEPS = 10_000  # above this many steps an epoch, the study's fit is timed for one epoch


def study_fit_epoch_s(run: dict[str, Any], x: np.ndarray, y: np.ndarray, epochs: int,
                      seed: int = SEED) -> tuple[float, int]:
    """Mean warm epoch seconds of study 004's own call, ``model.fit(x, y, batch_size=B,
    validation_split=0.4)``, validation included, and the epochs timed.

    Warmed up on a slice (that traces the same train and test functions) so that batch 1
    costs one timed epoch, not two; at batch 1 one epoch (~30 s here) is all that is timed.
    """
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = compile_model(build_model(run, x.shape[1], seed), run)
    timed = 1 if len(x) * (1 - VALIDATION_SPLIT) / run["batch_size"] > SLOW_FIT_STEPS else epochs
    timer = _EpochTimer()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        model.fit(x[:1000], y[:1000], batch_size=run["batch_size"], epochs=1,
                  validation_split=VALIDATION_SPLIT, verbose=1)
        model.fit(x, y, batch_size=run["batch_size"], epochs=timed,
                  validation_split=VALIDATION_SPLIT, verbose=1, callbacks=[timer])
    return float(np.mean(timer.seconds)), timed


@dataclass(frozen=True)
class NeuronRow:
    """Warm seconds per epoch, validation included, of the study's fit and of ``train_run``."""

    case: Case
    steps: int
    study_s: float
    study_epochs: int
    mnistlab_s: float

    @property
    def speedup(self) -> float:
        return self.study_s / self.mnistlab_s


def bench_single_neuron(epochs: int) -> list[NeuronRow]:
    """Time study 004's single neuron both ways at the smallest and the largest batch size."""
    full = prepare_arrays("zero_vs_rest")
    split = prepare_arrays("zero_vs_rest", validation_split=VALIDATION_SPLIT)
    rows = []
    for case in SINGLE_NEURON_CASES:
        batch = case.run["batch_size"]
        print(f"[004] single neuron @ batch {batch} ...", flush=True)
        study, timed = study_fit_epoch_s(case.run, full.x_train, full.y_train, epochs)
        mnistlab, _ = mnistlab_epoch_s(case, split, epochs)
        rows.append(NeuronRow(case, -(-len(split.x_train) // batch), study, timed, mnistlab))
    return rows


def render_single_neuron(rows: list[NeuronRow]) -> list[str]:
    """Updates per second both ways; the target is on the whole epoch, validation included."""
    lines = ["", "## Study 004: one sigmoid neuron, 36,000 training images, validation on 24,000 "
             "after every epoch", "",
             "Study style: `model.fit(x, y, batch_size=B, validation_split=0.4, verbose=1)` on "
             "the 60,000 training images; mnistlab: `train_run` on the same split. Seconds per "
             "warm epoch include the validation pass on both sides.", "",
             "| model | batch | updates/epoch | study s/epoch (epochs timed) | study updates/s "
             "| mnistlab s/epoch | mnistlab updates/s | speed-up | target |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        verdict = "PASS" if r.speedup >= r.case.target else "MISS"
        lines.append(f"| {r.case.label} | {r.case.run['batch_size']:,} | {r.steps:,} "
                     f"| {r.study_s:.2f} ({r.study_epochs}) | {r.steps / r.study_s:,.0f} "
                     f"| {r.mnistlab_s:.3f} | {r.steps / r.mnistlab_s:,.0f} | {r.speedup:.1f}× "
                     f"| ≥{r.case.target:g}× {verdict} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
