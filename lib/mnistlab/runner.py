"""Find every (experiment, study), validate all params, execute with papermill, render reports.

A study is ``params/<experiment>/<study>.yaml`` run by ``notebooks/<experiment>.py``.  Its report
is rebuilt only when something it depends on changed: the notebook, its params, its published
numbers, the mnistlab sources, the data, or the profile.  Training itself is cached per
(configuration, seed), so even a rebuilt report retrains only what changed; with ``jobs`` > 1
the uncached runs of all studies are trained first by a pool of worker processes.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import digest, file_digest, source_digest
from .data import load_mnist
from .params import ParamsError, ProfileName, load_params, published_path
from .paths import (notebook_path, params_dir, project_root, report_paths, reports_dir, state_dir,
                    study_build_dir, worker_log)
from .report import render, write_index

if TYPE_CHECKING:  # sweep imports TensorFlow, which an unchanged report never needs
    from .sweep import RunTask

log = logging.getLogger("mnistlab")


@dataclass(frozen=True)
class Job:
    experiment: str
    params_path: Path
    notebook_path: Path

    @property
    def study(self) -> str:
        return self.params_path.stem

    @property
    def name(self) -> str:
        return f"{self.experiment}/{self.study}"


def discover(root: Path | None = None, experiment: str | None = None) -> list[Job]:
    """Every params file that has a notebook for its experiment folder."""
    root = root or project_root()
    jobs = []
    for params_path in sorted(params_dir(root).glob("*/*.yaml")):
        exp = params_path.parent.name
        notebook = notebook_path(exp, root)
        if exp != "published" and notebook.is_file() and experiment in (None, exp):
            jobs.append(Job(exp, params_path, notebook))
    return jobs


def validate(jobs: list[Job]) -> None:
    """Check every params file before any kernel starts; report all problems at once."""
    problems = []
    for job in jobs:
        try:
            params = load_params(job.params_path)
        except ParamsError as error:
            problems.append(str(error))
            continue
        if params.experiment != job.experiment:
            problems.append(f"{job.params_path}: key 'experiment': value {params.experiment!r} "
                            f"is not allowed here: the file is in params/{job.experiment}/")
        published = published_path(job.params_path, params)
        if published is not None and not published.is_file():
            problems.append(f"{job.params_path}: key 'study.published': {published} not found")
    if problems:
        raise ParamsError("\n".join(problems))


def report_key(job: Job, profile: str, data_sha: str) -> str:
    params = load_params(job.params_path)
    inputs = [job.notebook_path, job.params_path, published_path(job.params_path, params)]
    return digest(file_digest(*[p for p in inputs if p is not None]), source_digest(),
                  data_sha, profile)


def hermetic_env(root: Path, mnist_dir: str) -> None:
    """Keep Keras, matplotlib, IPython and Jupyter state out of $HOME; kernels inherit this."""
    state = state_dir(root)
    for var, sub in (("MPLCONFIGDIR", "matplotlib"), ("IPYTHONDIR", "ipython"),
                     ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("KERAS_HOME", "keras")):
        (state / sub).mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(state / sub)
    os.environ["MNIST_DIR"] = mnist_dir


def run_job(job: Job, profile: ProfileName, root: Path | None = None, force: bool = False) -> str:
    """Execute one study's notebook and render its report unless it is already up to date."""
    root = root or project_root()
    mnist = load_mnist()
    html_path, pdf_path, manifest_path = report_paths(job.experiment, job.study, root, profile)
    if not force and up_to_date(job, profile, root):
        return f"{job.name}: up to date ({profile})"
    hermetic_env(root, mnist.folder)
    started = time.perf_counter()
    executed = execute(job, profile, root)
    params = load_params(job.params_path)
    render(executed, html_path, pdf_path, f"{params.study.id} — {params.study.title}")
    seconds = time.perf_counter() - started
    _write_manifest(manifest_path, job, params.study.title, profile,
                    report_key(job, profile, mnist.sha256), seconds)
    return f"{job.name}: rendered {html_path.relative_to(reports_dir(root).parent)} and .pdf in {seconds:.0f} s ({profile})"


def up_to_date(job: Job, profile: ProfileName, root: Path) -> bool:
    """Both reports exist and were made from exactly these inputs."""
    html_path, pdf_path, manifest = report_paths(job.experiment, job.study, root, profile)
    if not (manifest.is_file() and html_path.is_file() and pdf_path.is_file()):
        return False
    key = report_key(job, profile, load_mnist().sha256)
    return json.loads(manifest.read_text()).get("key") == key


def _write_manifest(path: Path, job: Job, title: str, profile: str, key: str, seconds: float) -> None:
    path.write_text(json.dumps({
        "experiment": job.experiment, "study": job.study, "title": title, "profile": profile,
        "key": key, "seconds": seconds,
        "rendered": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }, indent=1))


def execute(job: Job, profile: ProfileName, root: Path) -> Path:
    """papermill the notebook into build/ (never over the source) and return the executed copy."""
    import jupytext
    import papermill

    build = study_build_dir(profile, job.experiment, job.study, root)
    build.mkdir(parents=True, exist_ok=True)
    source_copy = build / f"{job.experiment}.ipynb"
    jupytext.write(jupytext.read(job.notebook_path), source_copy)
    executed = build / f"{job.experiment}.executed.ipynb"
    _show_kernel_output()
    papermill.execute_notebook(
        str(source_copy), str(executed), kernel_name="python3", progress_bar=False,
        log_output=True, cwd=str(job.notebook_path.parent),
        parameters={"params_file": str(job.params_path), "profile": profile,
                    "results_dir": str(build)})
    return executed


class _OnlyCellOutput(logging.Filter):
    """Let the trainer's progress lines ("[study] run i/n ...") and errors through, nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        record.msg, record.args = record.getMessage().strip(), ()
        return record.msg.startswith("[")


def _show_kernel_output() -> None:
    logger = logging.getLogger("papermill")
    logger.setLevel(logging.INFO)
    if not any(isinstance(f, _OnlyCellOutput) for f in logger.filters):
        logger.addFilter(_OnlyCellOutput())


def report_all(profile: ProfileName, jobs: int = 1, experiment: str | None = None,
               force: bool = False, root: Path | None = None,
               scheduler: str | None = None) -> list[str]:
    """Validate everything first, then run each study (``jobs`` at a time) and write the index."""
    root = root or project_root()
    todo = discover(root, experiment)
    if not todo:
        raise ParamsError(f"no params files found for experiment {experiment!r} under {root / 'params'}")
    validate(todo)
    if jobs <= 1 and not scheduler:
        results = [run_job(job, profile, root, force) for job in todo]
    else:
        stale = [job for job in todo if force or not up_to_date(job, profile, root)]
        results = [f"{job.name}: up to date ({profile})" for job in todo if job not in stale]
        train_pending(stale, profile, jobs, root, scheduler)
        with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
            results += pool.map(lambda job: _run_in_subprocess(job, profile, jobs, root), stale)
    write_index(reports_dir(root))
    return results


def _threads_per_job(jobs: int) -> str:
    return str(max(1, (os.cpu_count() or 1) // jobs))


def pending_tasks(todo: list[Job], profile: ProfileName, root: Path) -> list[RunTask]:
    """The (configuration, seed) runs not in the cache yet, interleaved across studies so
    the workers share long and short runs alike."""
    from .sweep import plan  # imports TensorFlow: only when there is training to plan

    per_study = []
    for job in todo:
        params = load_params(job.params_path)
        results_dir = study_build_dir(profile, job.experiment, job.study, root)
        per_study.append([t for t in plan(params, job.params_path, profile, results_dir) if not t.done])
    return [task for group in zip_longest(*per_study) for task in group if task is not None]


def train_pending(todo: list[Job], profile: ProfileName, jobs: int, root: Path,
                  scheduler: str | None = None) -> None:
    """Train every uncached run of every study as Dask tasks, stored here as they finish.

    Parallel at the level of runs, not studies, so the workers stay busy until the last run
    even when one study is much longer than another.  ``scheduler`` (or
    ``$MNISTLAB_SCHEDULER``) sends the tasks to an existing Dask cluster; otherwise a
    LocalCluster of ``jobs`` processes, one TensorFlow thread each, trains them.
    """
    if not todo:
        return  # keeps an unchanged report from importing TensorFlow
    from .cluster import SCHEDULER_ENV, run_queue, training_client
    from .sweep import store_result

    tasks = pending_tasks(todo, profile, root)
    if not tasks:
        return
    hermetic_env(root, load_mnist().folder)
    os.environ["MNISTLAB_THREADS"] = _threads_per_job(jobs)  # inherited by local workers
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    with training_client(jobs, scheduler, worker_log(profile, root)) as client:
        run_queue(tasks, client, store_result)


def _run_in_subprocess(job: Job, profile: str, jobs: int, root: Path) -> str:
    """One study's notebook and report in its own process with a fair share of the cores."""
    env = dict(os.environ, MNISTLAB_THREADS=_threads_per_job(jobs), MNISTLAB_ROOT=str(root))
    command = [sys.executable, "-m", "mnistlab", "run", job.experiment, "--params",
               str(job.params_path), "--profile", profile, "--force"]
    completed = subprocess.run(command, env=env, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{job.name}: failed (exit {completed.returncode})")
    return f"{job.name}: done in a subprocess"
