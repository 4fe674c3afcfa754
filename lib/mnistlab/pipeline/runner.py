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
import platform
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import zip_longest
from pathlib import Path
from typing import TYPE_CHECKING

from mnistlab.core import failures
from mnistlab.core.cache import (cannot_write, digest, file_digest, source_digest,
                                  write_bytes_atomic)
from mnistlab.spec.data import load_mnist
from mnistlab.core.errors import CannotWrite, StudiesFailed, StudyFailed
from mnistlab.core.failures import Failure
from mnistlab.core.lock import OWNER, build_lock
from mnistlab.notebook.plugins import unknown_analyses
from mnistlab.core.errors import ParamsError
from mnistlab.spec.params import Params, ProfileName, load_params, published_path, resolve_runs
from mnistlab.spec.tasks import recorded_metrics
from mnistlab.core.paths import (failure_record, notebook_path, params_dir, project_root,
                    run_store, report_base, report_notebook, report_paths, reports_dir, state_dir,
                    study_build_dir, worker_log)
from mnistlab.present.report import render, write_index

if TYPE_CHECKING:  # sweep imports TensorFlow, which an unchanged report never needs
    from mnistlab.train.sweep import RunTask

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


def validate(jobs: list[Job], root: Path | None = None) -> None:
    """Check every params file before any kernel starts; report all problems at once.

    A job's ``experiment`` is the one asked for (``run depth``), or "" when only the file
    itself says (``validate FILE``).
    """
    from mnistlab.core.errors import PublishedError
    from mnistlab.spec.published import load_published  # pandas: only once files are valid

    root = root or project_root()
    problems = []
    for job in jobs:
        try:
            params = load_params(job.params_path)
        except ParamsError as error:
            problems.append(str(error))
            continue
        problems += _placement(job, params.experiment, root)
        problems += [f"{job.params_path}: key 'analyses': {message}"
                     for message in unknown_analyses(params.analyses)]
        published = published_path(job.params_path, params)
        if published is not None and not published.is_file():
            problems.append(f"{job.params_path}: key 'study.published': {published} not found")
        elif published is not None:
            try:
                tables = load_published(published)
            except PublishedError as error:
                problems.append(f"{job.params_path}: key 'study.published': {error}")
                continue
            problems += [f"{published}: {problem}" for problem in _join_problems(params, tables)]
    if problems:
        raise ParamsError("\n".join(problems))


def _join_problems(params: Params, tables: dict) -> list[str]:
    """Each published table's compare block against the runs the params file resolves to."""
    from mnistlab.analysis.derived import DERIVED_METRICS
    from mnistlab.analysis.curves import CURVE_STATISTICS
    from mnistlab.spec.published import join_problems

    runs = resolve_runs(params)
    metrics = {m for run in runs for m in recorded_metrics(run["task"])} | set(DERIVED_METRICS)
    if params.data.validation_split > 0:
        metrics |= set(CURVE_STATISTICS)
    every_row = params.study.published_rows == "all"
    return [problem for table in tables.values()
            for problem in join_problems(table, runs, metrics, every_row)]


def registered_folder(params_path: Path, root: Path) -> str | None:
    """``depth`` for ``params/depth/x.yaml`` of this project; None for a file kept elsewhere."""
    path = Path(params_path).resolve()
    return path.parent.name if path.parent.parent == params_dir(root).resolve() else None


def _placement(job: Job, experiment: str, root: Path) -> list[str]:
    """The file's experiment agrees with its folder and with the experiment asked for, and a
    copy kept outside params/ never takes the report of a registered study of the same name."""
    path, folder = job.params_path, registered_folder(job.params_path, root)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", path.stem):
        return [f"{path}: the file name names the report and its links: use letters, digits, "
                "'_', '-' and '.' only (e.g. my_depth.yaml)"]
    key = f"{path}: key 'experiment': value {experiment!r}"
    if folder is not None and experiment != folder:
        return [f"{key} is not allowed here: the file is in params/{folder}/ (move it to "
                f"params/{experiment}/, or set experiment: {folder})"]
    if job.experiment and experiment != job.experiment:
        fix = "" if folder else f", or set experiment: {job.experiment}"
        return [f"{key} does not match the experiment being run ({job.experiment!r}): run "
                f"`python -m mnistlab run {experiment} --params {path}`{fix}"]
    if folder is not None:
        return []
    if not notebook_path(experiment, root).is_file():
        known = sorted({j.experiment for j in discover(root)})
        return [f"{key} has no notebook (notebooks/{experiment}.py): known experiments are "
                f"{', '.join(known)}"]
    registered = params_dir(root) / experiment / path.name
    if registered.is_file():
        html_path = report_paths(experiment, path.stem, root)[0]
        return [f"{path}: this copy has the name of the registered study "
                f"params/{experiment}/{path.name}, and its report would replace that study's "
                f"{html_path.relative_to(root)}: rename the copy (e.g. my_{path.name})"]
    return []


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
    record = failure_record(profile, job.experiment, job.study, root)
    record.unlink(missing_ok=True)
    executed = study_build_dir(profile, job.experiment, job.study, root) / f"{job.experiment}.executed.ipynb"
    stage = "running the notebook"
    try:
        executed = execute(job, profile, root)
        stage = "rendering the report"
        params = load_params(job.params_path)
        render(executed, html_path, pdf_path, f"{params.study.id} — {params.study.title}")
        write_bytes_atomic(report_notebook(job.experiment, job.study, root, profile),
                           executed.read_bytes())
    except CannotWrite:
        raise  # a full disk or a read-only folder: one line, and no record it could not write
    except Exception as error:
        refused = cannot_write(Path(error.filename or executed), error) \
            if isinstance(error, OSError) else None
        if refused:
            raise refused from None
        raise _failed(job, error, stage, executed, record) from error
    seconds = time.perf_counter() - started
    _write_manifest(manifest_path, job, params.study.title, profile,
                    report_key(job, profile, mnist.sha256), seconds,
                    _scorecard_entry(job, params, executed, html_path, root)
                    | _training_time(executed.parent / "results.csv"))
    return f"{job.name}: rendered {html_path.relative_to(reports_dir(root).parent)} and .pdf in {seconds:.0f} s ({profile})"


def _failed(job: Job, error: BaseException, stage: str, executed: Path,
            record: Path) -> StudyFailed:
    """The study's failure, recorded for the runner (``failures``)."""
    failure = failures.of_exception(job.name, error, stage, executed)
    failures.save(record, failure)
    return StudyFailed(failure)


def up_to_date(job: Job, profile: ProfileName, root: Path) -> bool:
    """Both reports exist and were made from exactly these inputs."""
    html_path, pdf_path, manifest = report_paths(job.experiment, job.study, root, profile)
    if not (manifest.is_file() and html_path.is_file() and pdf_path.is_file()
            and report_notebook(job.experiment, job.study, root, profile).is_file()):
        return False
    key = report_key(job, profile, load_mnist().sha256)
    return json.loads(manifest.read_text()).get("key") == key


def _write_manifest(path: Path, job: Job, title: str, profile: str, key: str, seconds: float,
                    extra: dict | None = None) -> None:
    path.write_text(json.dumps({
        "experiment": job.experiment, "study": job.study, "title": title, "profile": profile,
        "base": report_base(job.experiment, job.study, profile), "key": key, "seconds": seconds,
        "rendered": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    } | (extra or {}), indent=1))


def _scorecard_entry(job: Job, params: Params, executed: Path, html_path: Path,
                     root: Path) -> dict:
    """What the index shows of one study: who and where, how it was run, and its published
    numbers against ours (the notebook's own agreement frame, with tolerances and the report
    sections that explain them)."""
    from mnistlab.spec.published import load_published
    import nbformat

    from mnistlab.analysis.scorecard import agreement_from_notebook, manifest_rows, table_captions

    published = published_path(job.params_path, params)
    tables = load_published(published) if published else {}
    agreement = agreement_from_notebook(nbformat.read(executed, as_version=4))
    rows = [] if agreement is None else manifest_rows(agreement, tables, html_path.read_text())
    for row in rows:
        if row["explanation"] and row["anchor"] is None:
            log.warning("%s: explanation section %r of table %s is not a heading of the report",
                        job.name, row["explanation"], row["table"])
    return {"study_id": params.study.id, "seed_file": params.study.seed_file,
            "authors": list(params.study.authors), "published": published.name if published else None,
            "notebook": True, "commit": _commit(root), "machine": _machine(),
            "tables": table_captions(tables), "scorecard": rows}


def _training_time(results_csv: Path) -> dict:
    """CPU and wall seconds that training all of a study's runs took (cached runs included):
    the cost of the study, beside the seconds this report took to render from the cache."""
    import pandas as pd

    if not results_csv.is_file():
        return {}
    runs = pd.read_csv(results_csv, usecols=lambda c: c in ("train_cpu_s", "train_time_s"))
    return {f"training_{c}": float(runs[c].sum()) for c in runs.columns}


def _commit(root: Path) -> str:
    """The checkout's commit, marked when the working tree differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        commit = git("rev-parse", "--short=10", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} + uncommitted changes" if changed else commit


def _machine() -> str:
    """Host, processor model, cores and OS: where the numbers (and the times) were measured."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.node()}: {model}, {os.cpu_count()} cores, "
            f"{platform.system()} {platform.release()}")


def execute(job: Job, profile: ProfileName, root: Path) -> Path:
    """papermill the notebook into build/ (never over the source) and return the executed copy."""
    import jupytext
    import papermill

    build = study_build_dir(profile, job.experiment, job.study, root)
    build.mkdir(parents=True, exist_ok=True)
    source_copy = build / f"{job.experiment}.ipynb"
    jupytext.write(jupytext.read(job.notebook_path), source_copy)
    executed = build / f"{job.experiment}.executed.ipynb"
    partial = build / f".{executed.stem}.tmp.ipynb"  # papermill saves as it goes
    _show_kernel_output()
    try:
        papermill.execute_notebook(
            str(source_copy), str(partial), kernel_name="python3", progress_bar=False,
            log_output=True, cwd=str(job.notebook_path.parent), extra_arguments=KERNEL_ARGUMENTS,
            parameters={"params_file": str(job.params_path), "profile": profile,
                        "results_dir": str(build)})
    except papermill.PapermillExecutionError:
        os.replace(partial, executed)  # complete, with the failing cell marked
        raise
    except BaseException:
        partial.unlink(missing_ok=True)  # cut short (a full disk, Ctrl-C): keep the last whole one
        raise
    os.replace(partial, executed)
    return executed


# The kernel's own start-up warning ("running over TCP without encryption": a loopback
# kernel of our own process) would reach the terminal of every `make report`; errors still do.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


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
    validate(todo, root)
    if jobs <= 1 and not scheduler:
        return run_studies(todo, profile, force, root)
    with build_lock(root):
        stale = [job for job in todo if force or not up_to_date(job, profile, root)]
        results = [f"{job.name}: up to date ({profile})" for job in todo if job not in stale]
        for line in results:
            print(line, flush=True)
        try:
            train_pending(stale, profile, jobs, root, scheduler)
        except RuntimeError as error:  # a failed run (not Ctrl-C): its notebook names the cell
            print(f"[train] {error}; each study's notebook will train what is missing and "
                  "report its own failure", file=sys.stderr, flush=True)
        with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
            futures = [pool.submit(_run_in_subprocess, job, profile, jobs, root) for job in stale]
            results, failed = _gather(results, [(job, future.result) for job, future
                                                 in zip(stale, futures)])
        write_index(reports_dir(root))
    if failed:
        raise StudiesFailed(failed, results)
    return results


def run_studies(todo: list[Job], profile: ProfileName, force: bool = False,
                root: Path | None = None) -> list[str]:
    """Run each study in turn under the build lock; a failing study does not stop the
    others, and ``StudiesFailed`` at the end names every failure."""
    root = root or project_root()
    with build_lock(root):
        results, failed = _gather([], [(job, lambda job=job: run_job(job, profile, root, force))
                                        for job in todo])
        write_index(reports_dir(root))
    if failed:
        raise StudiesFailed(failed, results)
    return results


def _gather(results: list[str], calls) -> tuple[list[str], list[Failure]]:
    """Call each ``(job, call)``; collect the lines of those that succeed and the failures,
    announcing each failure as it happens."""
    failed = []
    for job, call in calls:
        try:
            line = call()
        except StudyFailed as error:
            failed.append(error.failure)
            print(f"[{job.name}] FAILED: {error.failure.describe()}\n  going on with the other "
                  "studies", file=sys.stderr, flush=True)
            continue
        print(line, flush=True)
        results.append(line)
    return results, failed


def threads_per_job(jobs: int) -> str:
    return str(max(1, (os.cpu_count() or 1) // jobs))


def pending_batches(todo: list[Job], profile: ProfileName, root: Path) -> list[list[RunTask]]:
    """The runs not in the cache yet, in ``sweep.batches`` (a configuration's seeds trained
    together where its study allows), interleaved across studies so the workers share long
    and short batches alike."""
    # imports TensorFlow: only when there is training to plan
    from mnistlab.train.sweep import batches, plan

    per_study: list[list[RunTask]] = []
    planned: set[str] = set()  # a run two studies share is trained once
    for job in todo:
        params = load_params(job.params_path)
        results_dir = study_build_dir(profile, job.experiment, job.study, root)
        tasks = plan(params, job.params_path, profile, results_dir, run_store(profile, root))
        pending = []
        for task in tasks:
            if task.key not in planned and not task.done:
                pending.append(task)
            planned.add(task.key)
        per_study.append(pending)
    return [batch for group in zip_longest(*map(batches, per_study)) for batch in group
            if batch is not None]


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
    from mnistlab.train.cluster import SCHEDULER_ENV, run_queue, training_client
    from mnistlab.train.sweep import store_result

    pending = pending_batches(todo, profile, root)
    if not pending:
        return
    hermetic_env(root, load_mnist().folder)
    os.environ["MNISTLAB_THREADS"] = threads_per_job(jobs)  # inherited by local workers
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    with training_client(jobs, scheduler, worker_log(profile, root)) as client:
        run_queue(pending, client, store_result)


def _run_in_subprocess(job: Job, profile: str, jobs: int, root: Path) -> str:
    """One study's notebook and report in its own process with a fair share of the cores."""
    env = dict(os.environ, MNISTLAB_THREADS=threads_per_job(jobs), MNISTLAB_ROOT=str(root))
    env[OWNER] = str(os.getpid())  # the child runs under this process's build lock
    command = [sys.executable, "-m", "mnistlab", "run", job.experiment, "--params",
               str(job.params_path), "--profile", profile, "--force"]
    record = failure_record(profile, job.experiment, job.study, root)
    record.unlink(missing_ok=True)
    completed = subprocess.run(command, env=env, text=True)
    if completed.returncode != 0:
        raise StudyFailed(failures.load(record) or Failure(
            job.name, "its process", f"exit {completed.returncode}; see its messages above"))
    return f"{job.name}: done in a subprocess"
