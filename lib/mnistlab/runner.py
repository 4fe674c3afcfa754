"""Find every (experiment, study), validate all params, execute with papermill, render reports.

A study is ``params/<experiment>/<study>.yaml`` run by ``notebooks/<experiment>.py``.  Its report
is rebuilt only when something it depends on changed: the notebook, its params, its published
numbers, the mnistlab sources, the data, or the profile.  Training itself is cached per
(configuration, seed) inside the notebook, so even a rebuilt report retrains only what changed.
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
from pathlib import Path

from .cache import digest, file_digest, project_root, source_digest
from .data import load_mnist
from .params import ParamsError, ProfileName, load_params
from .report import render, write_index

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
    for params_path in sorted((root / "params").glob("*/*.yaml")):
        exp = params_path.parent.name
        notebook = root / "notebooks" / f"{exp}.py"
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
        published = job.params_path.parent.parent / "published" / params.study.published
        if not published.is_file():
            problems.append(f"{job.params_path}: key 'study.published': {published} not found")
    if problems:
        raise ParamsError("\n".join(problems))


def report_paths(job: Job, root: Path) -> tuple[Path, Path, Path]:
    base = root / "reports" / job.experiment / job.study
    return base.with_suffix(".html"), base.with_suffix(".pdf"), base.with_suffix(".json")


def report_key(job: Job, profile: str, data_sha: str) -> str:
    params = load_params(job.params_path)
    published = job.params_path.parent.parent / "published" / params.study.published
    return digest(file_digest(job.notebook_path, job.params_path, published), source_digest(),
                  data_sha, profile)


def hermetic_env(root: Path, mnist_dir: str) -> None:
    """Keep Keras, matplotlib, IPython and Jupyter state out of $HOME; kernels inherit this."""
    state = root / "build" / "state"
    for var, sub in (("MPLCONFIGDIR", "matplotlib"), ("IPYTHONDIR", "ipython"),
                     ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("KERAS_HOME", "keras")):
        (state / sub).mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(state / sub)
    os.environ["MNIST_DIR"] = mnist_dir


def run_job(job: Job, profile: ProfileName, root: Path | None = None, force: bool = False) -> str:
    """Execute one study's notebook and render its report unless it is already up to date."""
    root = root or project_root()
    mnist = load_mnist()
    key = report_key(job, profile, mnist.sha256)
    html_path, pdf_path, manifest_path = report_paths(job, root)
    if not force and _up_to_date(manifest_path, key, html_path, pdf_path):
        return f"{job.name}: up to date ({profile})"
    source = Path(mnist.source)
    hermetic_env(root, str(source if source.is_dir() else source.parent))
    started = time.perf_counter()
    executed = execute(job, profile, root)
    params = load_params(job.params_path)
    render(executed, html_path, pdf_path, f"{params.study.id} — {params.study.title}")
    seconds = time.perf_counter() - started
    _write_manifest(manifest_path, job, params.study.title, profile, key, seconds)
    return f"{job.name}: rendered {html_path.relative_to(root)} and .pdf in {seconds:.0f} s ({profile})"


def _up_to_date(manifest: Path, key: str, *outputs: Path) -> bool:
    if not (manifest.is_file() and all(p.is_file() for p in outputs)):
        return False
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

    build = root / "build" / profile / job.experiment / job.study
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
               force: bool = False, root: Path | None = None) -> list[str]:
    """Validate everything first, then run each study (``jobs`` at a time) and write the index."""
    root = root or project_root()
    todo = discover(root, experiment)
    if not todo:
        raise ParamsError(f"no params files found for experiment {experiment!r} under {root / 'params'}")
    validate(todo)
    if jobs <= 1:
        results = [run_job(job, profile, root, force) for job in todo]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda job: _run_in_subprocess(job, profile, jobs, force), todo))
    write_index(root / "reports")
    return results


def _run_in_subprocess(job: Job, profile: str, jobs: int, force: bool) -> str:
    """One study in its own process with a fair share of the cores."""
    env = dict(os.environ, MNISTLAB_THREADS=str(max(1, (os.cpu_count() or 1) // jobs)))
    command = [sys.executable, "-m", "mnistlab", "run", job.experiment, "--params",
               str(job.params_path), "--profile", profile] + (["--force"] if force else [])
    completed = subprocess.run(command, env=env, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{job.name}: failed (exit {completed.returncode})")
    return f"{job.name}: done in a subprocess"
