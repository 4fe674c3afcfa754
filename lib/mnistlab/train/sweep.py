"""Run every configuration x seed of a study, one result file each, resuming where it stopped."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mnistlab.core.cache import digest, write_bytes_atomic, write_json_atomic
from mnistlab.core import csvfile
from mnistlab.spec.params import (Params, ProfileName, profile_settings, resolve_runs,
                                  training_spec)
from mnistlab.core.paths import rejected_dir, run_store, study_build_dir, study_store
from mnistlab.spec.tasks import recorded_metrics, task as task_named
from mnistlab.train.code import training_digest
from mnistlab.train.training import EpochHook, prepare_arrays, train_runs

RESULT_FIELDS = ("epochs_run", "train_time_s", "parameters", "history")


def default_results_dir(params: Params, profile: str, params_path: str | Path) -> Path:
    return study_build_dir(profile, params.experiment, Path(params_path).stem)


class Progress:
    """One line per epoch: which run of how many, seed, epoch, loss and a rough ETA."""

    def __init__(self, label: str, total_runs: int, stream=None, eta_of_sweep: bool = True):
        # sys.stdout as it is now, not as it was at import (a notebook or a test may swap it)
        self.label, self.total_runs, self.stream = label, total_runs, stream or sys.stdout
        self.eta_of_sweep = eta_of_sweep  # False in a worker process: the ETA of its own run
        self.done_runs, self.cached_runs, self.epoch_seconds = 0, 0, []
        self.current = ""
        self._last = time.perf_counter()

    def start_batch(self, index: int, name: str, seeds: list[int]) -> None:
        """Runs ``index``.. of the sweep: configuration ``name``, its ``seeds`` stepped together."""
        label = "seed" if len(seeds) == 1 else "seeds"
        self.current = f"run {index}/{self.total_runs} {name} {label} {', '.join(map(str, seeds))}"
        self._last = time.perf_counter()

    def epoch(self, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        now = time.perf_counter()
        self.epoch_seconds.append(now - self._last)
        self._last = now
        per_epoch = sum(self.epoch_seconds) / len(self.epoch_seconds)
        remaining = epochs - epoch
        if self.eta_of_sweep:
            remaining += epochs * (self.total_runs - self.done_runs - 1)
        print(f"[{self.label}] {self.current} epoch {epoch}/{epochs} "
              f"loss {logs.get('loss', float('nan')):.4f} "
              + (f"acc {logs['accuracy']:.4f} " if "accuracy" in logs else "") +
              f"ETA{'' if self.eta_of_sweep else ' of this run'} <= {clock(per_epoch * remaining)}",
              file=self.stream, flush=True)

    def finish_run(self, cached: bool) -> None:
        self.done_runs += 1
        self.cached_runs += cached

    def summary(self) -> None:
        print(f"[{self.label}] {self.total_runs} runs: {self.total_runs - self.cached_runs} trained, "
              f"{self.cached_runs} from the cache", file=self.stream, flush=True)


def clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{secs:02d}s"


def run_key(run: dict[str, Any], seed: int, settings: dict[str, Any], data_sha: str,
            code_sha: str) -> str:
    """The run's content: everything that can change its result (what names it in its study
    and the seed list itself are not part of it), so identical runs of two studies share it."""
    relevant = {k: v for k, v in settings.items() if k != "seeds"}
    return digest(training_spec(run), seed, relevant, data_sha, code_sha)


@dataclass(frozen=True)
class RunTask:
    """One (configuration, seed) of a study: what to train and where its result is kept
    (``path``: the run store's file of its content key, which another study's identical run
    shares)."""

    label: str
    run: dict[str, Any]
    seed: int
    settings: dict[str, Any]
    validation_split: float
    key: str
    path: Path
    code: str  # digest of the training code the key was made with

    @property
    def probes_path(self) -> Path:
        return self.path.with_suffix(".npz")

    @property
    def done(self) -> bool:
        """A verified result is cached (a bad one is moved aside, so this run trains again)."""
        return self.load() is not None

    def load(self) -> dict[str, Any] | None:
        """The cached result, or None when absent or bad.  A bad file (unreadable, incomplete,
        or stored under another run's key) is named, moved to ``runs/rejected/`` and the run
        trained again, instead of failing every rerun the same way or being trusted."""
        if not self.path.is_file():
            return None
        try:
            result = json.loads(self.path.read_text())
            self.verify(result)
        except (OSError, ValueError) as error:
            moved = self._reject()
            print(f"[cache] {self.path}: rejected ({error}); moved to {moved}; training this "
                  "run again", file=sys.stderr, flush=True)
            return None
        return result

    def verify(self, result: Any) -> None:
        """Raise ``ValueError`` saying why ``result`` is not this run's complete result."""
        if not isinstance(result, dict):
            raise ValueError(f"a JSON {type(result).__name__}, not a run's result")
        if result.get("key") != self.key:
            raise ValueError(f"stored under key {str(result.get('key'))[:16]!r}, not this "
                             f"run's {self.key[:16]!r}")
        stored = result.get("run")
        if result.get("seed") != self.seed or not isinstance(stored, dict) or \
                training_spec(stored) != json.loads(json.dumps(training_spec(self.run))):
            raise ValueError("its settings or seed are not this run's")
        numbers = recorded_metrics(self.run["task"])
        missing = [f for f in (*RESULT_FIELDS, *numbers) if f not in result]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        wrong = [f for f in numbers
                 if isinstance(result[f], bool) or not isinstance(result[f], (int, float))]
        history = result["history"]
        if not isinstance(history, dict) or not isinstance(history.get("loss"), list) \
                or len(history["loss"]) != result["epochs_run"]:
            wrong.append("history")
        if wrong:
            raise ValueError(f"not a number or incomplete: {', '.join(wrong)}")
        if self.run.get("probes"):
            self._verify_probes(result.get("probes_sha256"))

    def _verify_probes(self, recorded: str | None) -> None:
        """The probe arrays are the ones stored with the result: a truncated or altered
        ``.npz`` would otherwise be trusted and fail every rerun inside the notebook."""
        if not self.probes_path.is_file():
            raise ValueError(f"its probes file {self.probes_path} is missing")
        if hashlib.sha256(self.probes_path.read_bytes()).hexdigest() != recorded:
            raise ValueError(f"its probes file {self.probes_path} is not the one stored with "
                             "it (truncated or changed)")

    def _reject(self) -> Path:
        """Move the bad result (and its probes) to ``runs/rejected/``, kept for inspection."""
        folder = rejected_dir(self.path.parent)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = folder / f"{self.path.stem}.{stamp}{self.path.suffix}"
        for source, dest in ((self.path, target),
                             (self.probes_path, target.with_suffix(".npz"))):
            try:
                os.replace(source, dest)
            except FileNotFoundError:
                pass
        return target


def plan(params: Params, params_path: str | Path, profile: ProfileName = "quick",
         results_dir: str | Path | None = None, store: str | Path | None = None
         ) -> list[RunTask]:
    """Every (configuration, seed) of the study, in table order, keyed by content for the
    run store: ``store``, else the one of ``results_dir``'s profile, else this project's
    (``core.paths``)."""
    settings = profile_settings(params, profile)
    if not store:
        store = study_store(Path(results_dir)) if results_dir else run_store(profile)
    data_sha = task_named(params.data.task).source.digest()
    code_sha = training_digest()
    label = f"{params.experiment}/{Path(params_path).stem} {profile}"
    tasks = []
    for run in resolve_runs(params):
        for seed in settings["seeds"]:
            key = run_key(run, seed, settings, data_sha, code_sha)
            path = Path(store) / f"{key}.json"
            tasks.append(RunTask(label, run, seed, settings, params.data.validation_split, key,
                                 path, code_sha))
    return tasks


def batches(tasks: list[RunTask]) -> list[list[RunTask]]:
    """``tasks`` gathered into what one trainer call trains: the seeds of one configuration
    together (towers) where the study's ``seeds_together`` allows, else one run each; in
    the order of each batch's first task."""
    out: dict[Any, list[RunTask]] = {}
    keys = set()  # a run listed twice (the same model under two names) trains once
    for task in tasks:
        if task.key in keys:
            continue
        keys.add(task.key)
        shared = (task.label, json.dumps(task.run, sort_keys=True), task.validation_split,
                  json.dumps({k: v for k, v in task.settings.items() if k != "seeds"},
                             sort_keys=True))
        key = shared if task.settings.get("seeds_together") else (*shared, task.seed)
        out.setdefault(key, []).append(task)
    return list(out.values())


def compute_results(tasks: list[RunTask], on_epoch: EpochHook | None = None
                    ) -> list[dict[str, Any]]:
    """Train a batch of ``batches`` (one configuration's seeds) and return one result per
    task, probe arrays included; stores nothing, so a Dask worker on another machine can run
    it and the client keeps the cache."""
    first, settings = tasks[0], tasks[0].settings
    arrays = prepare_arrays(first.run["task"], first.run["train_inputs"],
                            first.run["test_inputs"], settings["train_samples"],
                            settings["test_samples"], first.validation_split)
    results = train_runs(first.run, [t.seed for t in tasks], arrays, settings["max_epochs"],
                         on_epoch=on_epoch)
    for task, result in zip(tasks, results):
        result.update(seed=task.seed, key=task.key, run=task.run)
    return results


def store_result(task: RunTask, result: dict[str, Any]) -> dict[str, Any]:
    """Write a result to the per-run cache atomically (an interrupted sweep resumes here).

    Probe arrays go to ``<run>.npz`` first, then the JSON: a run is cached only once both
    exist, and a changed key invalidates both together.
    """
    result = dict(result)
    probes = result.pop("probes")
    if probes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **probes)
        write_bytes_atomic(task.probes_path, buffer.getvalue())
    result["probes_file"] = task.probes_path.name if probes else None
    result["probes_sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest() if probes else None
    write_json_atomic(task.path, result)
    return result


def train_batch(tasks: list[RunTask], on_epoch: EpochHook | None = None
                ) -> list[dict[str, Any]]:
    """Train a batch of ``batches`` here and store each result."""
    return [store_result(t, r) for t, r in zip(tasks, compute_results(tasks, on_epoch))]


def run_columns(result: dict[str, Any]) -> dict[str, Any]:
    """One results row: the run's settings as columns (the one place that flattens them),
    beside the scores, with the history kept whole for the curves."""
    run = result.get("run", {})
    return {**{k: v for k, v in run.items() if k != "probes"}, **{k: v for k, v in result.items()
                                                                    if k != "run"}}


def load_probes(store: str | Path, row: pd.Series | dict[str, Any]) -> dict[str, np.ndarray]:
    """The arrays a run's probes recorded (``row`` is a row of ``run_sweep``'s frame, whose
    ``attrs["store"]`` is the ``store``)."""
    if not row.get("probes_file"):
        raise ValueError(f"run {row.get('name')} seed {row.get('seed')} recorded no probes: "
                         "add a `probes` block to its configuration")
    with np.load(Path(store) / row["probes_file"]) as data:
        return {name: data[name] for name in data.files}


def run_sweep(params: Params, params_path: str | Path, profile: ProfileName = "quick",
              results_dir: str | Path | None = None, store: str | Path | None = None
              ) -> pd.DataFrame:
    """Train (or load from the run store) every configuration with every seed.

    Returns one row per (configuration, seed), named as this study names it, and writes
    ``results.csv`` to the study's build folder (``results_dir``); runs are read from and
    stored in ``store`` (``plan``).  ``make report JOBS=N`` has usually trained everything
    beforehand in N worker processes (``mnistlab.pipeline.runner``), so this then only
    reads the store.
    """
    tasks = plan(params, params_path, profile, results_dir, store)
    progress = Progress(tasks[0].label, len(tasks))
    results: dict[str, dict[str, Any]] = {}
    for task in tasks:
        cached = task.load()
        if cached is not None:
            results[task.key] = cached
            progress.finish_run(cached=True)
    for batch in batches([t for t in tasks if t.key not in results]):
        progress.start_batch(tasks.index(batch[0]) + 1, batch[0].run["name"],
                             [t.seed for t in batch])
        for task, result in zip(batch, train_batch(batch, progress.epoch)):
            results[task.key] = result
            progress.finish_run(cached=False)
    rows = [run_columns({**results[task.key], "run": task.run}) for task in tasks]
    progress.summary()
    frame = pd.DataFrame(rows)
    out = Path(results_dir) if results_dir else default_results_dir(params, profile, params_path)
    frame.attrs["store"] = str(tasks[0].path.parent)
    frame.attrs["cached_runs"] = progress.cached_runs
    csvfile.write_csv(frame.drop(columns=["history"]), out / "results.csv")
    return frame
