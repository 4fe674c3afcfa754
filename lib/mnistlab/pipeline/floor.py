"""Per study, the CPU time its cached full-profile runs took against their FLOP floor.

``make bench`` (and ``python -m mnistlab.pipeline.bench --floor-only`` on its own) measures the
float32 matmul rate and renders the table here: for each study of ``params/``, the
``train_cpu_s`` its cached runs recorded beside the FLOPs of their dense layers
(``mnistlab.analysis.floor``) at that rate.  It reads the cache and trains nothing.  A run
whose result is absent or fails verification counts as missing and is left where it is:
``RunTask.load`` would move a bad file aside, and a benchmark has no business changing the
cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from mnistlab.analysis.floor import run_flops, split_rows
from mnistlab.pipeline.runner import discover
from mnistlab.spec.params import ProfileName, load_params

if TYPE_CHECKING:  # sweep imports TensorFlow; the arithmetic and the table do not need it
    from mnistlab.train.sweep import RunTask

Loader = Callable[["RunTask"], "dict[str, Any] | None"]


@dataclass(frozen=True)
class StudyFloor:
    """One study's cached runs: how many of how many, their CPU time and their FLOPs."""

    study: str
    runs: int
    cached: int
    cpu_s: float
    flops: int
    threads: frozenset[int] = frozenset()  # TensorFlow threads the cached runs trained on

    @property
    def missing(self) -> int:
        return self.runs - self.cached

    def floor_s(self, gflops_per_cpu_s: float) -> float:
        """CPU seconds the FLOPs take with every one at the matmul rate."""
        return self.flops / (gflops_per_cpu_s * 1e9)


def cached_result(task: "RunTask") -> dict[str, Any] | None:
    """The verified cached result of ``task``, or None; read only, a bad file stays put."""
    if not task.path.is_file():
        return None
    try:
        result = json.loads(task.path.read_text())
        task.verify(result)
    except (OSError, ValueError):
        return None
    return result


def study_floor(study: str, tasks: Sequence["RunTask"], load: Loader = cached_result
                ) -> StudyFloor:
    """Sum the CPU time and the FLOPs of every cached run of one study; count the rest."""
    cpu_s, flops, cached, threads = 0.0, 0, 0, set()
    for task in tasks:
        result = load(task)
        if result is None:
            continue
        train, validation = split_rows(task.run["task"], task.settings["train_samples"],
                                       task.validation_split)
        flops += run_flops(task.run, result["epochs_run"], train, validation)
        cpu_s += result["train_cpu_s"]
        threads.add(result["threads"])
        cached += 1
    return StudyFloor(study, len(tasks), cached, cpu_s, flops, frozenset(threads))


def study_floors(root: Path | None = None, profile: ProfileName = "full") -> list[StudyFloor]:
    """``study_floor`` of every registered study (each params file with its notebook)."""
    from mnistlab.train.sweep import plan

    return [study_floor(job.name, plan(load_params(job.params_path), job.params_path, profile))
            for job in discover(root)]


def total(rows: Sequence[StudyFloor]) -> StudyFloor:
    """The sum of every study's row."""
    return StudyFloor("total", sum(r.runs for r in rows), sum(r.cached for r in rows),
                      sum(r.cpu_s for r in rows), sum(r.flops for r in rows),
                      frozenset().union(*(r.threads for r in rows)))


def _cells(row: StudyFloor, gflops_per_cpu_s: float) -> str:
    runs = f"{row.cached}/{row.runs}" + (f" ({row.missing} missing)" if row.missing else "")
    if not row.cached:
        return f"| {row.study} | {runs} | — | — | — |"
    floor = row.floor_s(gflops_per_cpu_s)
    ratio = row.cpu_s / floor
    return (f"| {row.study} | {runs} | {row.cpu_s:,.1f} | {floor:,.2f} "
            f"| {ratio:,.{1 if ratio < 10 else 0}f}× |")


def render_floor(rows: Sequence[StudyFloor], gflops_per_cpu_s: float, rate_threads: int
                 ) -> list[str]:
    """The Markdown section: one row per study, a total row, and what the floor counts."""
    whole = total(rows)
    threads = ", ".join(str(t) for t in sorted(whole.threads)) or "?"
    lines = ["", "## Per study: CPU time of the cached full-profile runs against the FLOP floor",
             "", f"float32 matmul: {gflops_per_cpu_s:.1f} GFLOP per CPU-second (measured on "
             f"{rate_threads} thread(s); the cached runs trained on {threads} thread(s) each)",
             "", "| study | runs (cached/all) | CPU-s of training | floor CPU-s | ratio CPU/floor |",
             "|---|--:|--:|--:|--:|"]
    lines += [_cells(row, gflops_per_cpu_s) for row in (*rows, whole)]
    lines += ["", "The floor counts only dense-layer matmuls at the measured rate: 6 FLOPs per "
              "connection weight (biases left out) per training sample and pass, 2 per "
              "validation sample, over the epochs each run actually ran; the test pass (after "
              "`train_cpu_s` stops), activations, optimizer updates, compilation and probes are "
              "left out, so it is a lower bound on what `train_cpu_s` covers."]
    if whole.threads and whole.threads != {rate_threads}:
        lines += ["", f"The rate was measured on {rate_threads} thread(s), the runs trained on "
                  f"{threads}: a rate per CPU-second falls with threads (they wait for each "
                  f"other), so `MNISTLAB_THREADS={min(whole.threads)}` before the command "
                  "measures it as the runs ran."]
    if whole.missing:
        lines += ["", f"{whole.missing} run(s) are not in the cache (never trained, or trained "
                  "with other code or data): their studies' figures cover the cached runs only."]
    return lines
