"""Where everything lives: the one owner of the project's paths.

``$MNISTLAB_ROOT`` names the project when the runner hands a scratch copy to a child
process; ``$MNISTLAB_BUILD`` moves ``build/`` (trained runs, executed notebooks, state)
anywhere, for every command alike.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # lib/mnistlab


def project_root() -> Path:
    """``$MNISTLAB_ROOT``, else the checkout holding ``lib/mnistlab`` (installed editable)."""
    return Path(os.environ.get("MNISTLAB_ROOT") or PACKAGE_DIR.parents[1])


def build_dir(root: Path | None = None) -> Path:
    """``$MNISTLAB_BUILD``, else ``<root>/build``."""
    configured = os.environ.get("MNISTLAB_BUILD")
    return Path(configured) if configured else (root or project_root()) / "build"


def study_build_dir(profile: str, experiment: str, study: str, root: Path | None = None) -> Path:
    """One study's executed notebook and ``results.csv``."""
    return build_dir(root) / profile / experiment / study


def run_store(profile: str, root: Path | None = None) -> Path:
    """The one store of trained runs of ``profile`` that every study reads, each run filed
    under its content key, so a run two studies share trains once."""
    return runs_dir(build_dir(root) / profile)


def study_store(results_dir: Path) -> Path:
    """The run store a study's build folder (``study_build_dir``) reads: its profile's."""
    return runs_dir(Path(results_dir).resolve().parents[1])


def runs_dir(folder: Path) -> Path:
    return Path(folder) / "runs"


def state_dir(root: Path | None = None) -> Path:
    """Keras, matplotlib, IPython and Jupyter state, kept out of ``$HOME``."""
    return build_dir(root) / "state"


def worker_log(profile: str, root: Path | None = None) -> Path:
    return build_dir(root) / profile / "train-workers.log"


def reports_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "reports"


PREVIEW_PROFILES = ("quick",)


def report_base(experiment: str, study: str, profile: str = "full") -> str:
    """A report's path under ``reports/`` without suffix: full reports at
    ``<experiment>/<study>``; previews apart, under ``<profile>/``, so a quick run never
    replaces a reproduction."""
    prefix = f"{profile}/" if profile in PREVIEW_PROFILES else ""
    return f"{prefix}{experiment}/{study}"


def report_paths(experiment: str, study: str, root: Path | None = None,
                 profile: str = "full") -> tuple[Path, Path, Path]:
    """The HTML, PDF and manifest of one study's report."""
    base = reports_dir(root) / report_base(experiment, study, profile)
    return base.with_suffix(".html"), base.with_suffix(".pdf"), base.with_suffix(".json")


def params_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "params"


def notebooks_dir(root: Path | None = None) -> Path:
    """The experiment notebooks (jupytext py:percent sources): the instructor versions."""
    return (root or project_root()) / "notebooks"


def notebook_path(experiment: str, root: Path | None = None) -> Path:
    return notebooks_dir(root) / f"{experiment}.py"


def labs_dir(root: Path | None = None) -> Path:
    """Student versions of the notebooks, written by ``make labs`` (not committed)."""
    return (root or project_root()) / "labs"


def labs_course_dir(root: Path | None = None) -> Path:
    """The nbgrader course directory ``make labs`` and ``make grade`` work in."""
    return build_dir(root) / "labs"


def report_notebook(experiment: str, study: str, root: Path | None = None,
                    profile: str = "full") -> Path:
    """The executed notebook behind a report, copied beside it so ``reports/`` stands alone."""
    return (reports_dir(root) / report_base(experiment, study, profile)).with_suffix(".ipynb")


def summary_csv(root: Path | None = None) -> Path:
    """Every published number of every study against ours, one row each (the scorecard)."""
    return reports_dir(root) / "summary.csv"


def lock_path(root: Path | None = None) -> Path:
    """The lock a run holds on ``build/`` while it trains and renders (``mnistlab.core.lock``)."""
    return build_dir(root) / "mnistlab.lock"


def failure_record(profile: str, experiment: str, study: str, root: Path | None = None) -> Path:
    """Why a study's last run failed (cell, error, executed notebook), for the summary."""
    return study_build_dir(profile, experiment, study, root) / "failure.json"


def rejected_dir(store: Path) -> Path:
    """Cached runs that failed verification, moved aside (kept for inspection, never read)."""
    return Path(store) / "rejected"
