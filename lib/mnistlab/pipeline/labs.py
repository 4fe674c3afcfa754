"""Student versions of the experiment notebooks, built and graded by nbgrader itself.

A notebook in ``notebooks/`` is a lab as soon as one of its cells carries nbgrader metadata
(written in the py:percent source as jupytext cell metadata, ``# %% nbgrader={...}``).  The
instructor version is the notebook as it is: it runs top to bottom with the solutions, and the
report leaves every nbgrader cell out (``mnistlab.present.report``).  ``build`` hands the labs to
nbgrader's own ``generate_assignment`` in a course directory under ``build/labs``, which
replaces the solutions with a stub that raises ``NotImplementedError``, removes hidden tests,
clears outputs and locks the test cells; the results are copied to ``labs/<experiment>.ipynb``.
``mnistlab.pipeline.grading`` grades hand-ins with nbgrader's ``autograde``, each on its own.

nbgrader's converters run in this process (``nbgrader generate_assignment`` and ``nbgrader
autograde`` are the same classes behind a command line), so their slow import is paid once
for any number of labs and submissions.  The course directory's ``nbgrader_config.py`` holds
every setting, so nbgrader's own commands work there too.
"""

from __future__ import annotations

from mnistlab.core.errors import LabError

import os
import re
import shutil
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from mnistlab.core.paths import labs_course_dir, labs_dir, notebooks_dir
from mnistlab.present.report import nbgrader_cell

if TYPE_CHECKING:
    from nbformat import NotebookNode

STUB = ('# YOUR CODE HERE\nraise NotImplementedError("exercise not done yet: write your code '
        'in place of these two lines")')
STUB_MESSAGE = "exercise not done yet"
# The slowest legitimate cell of a lab at grading, measured (docs/labs.md#time): with its runs
# cached by the grader beforehand, the import cell, 27 s on two loaded cores.  Three times
# that, rounded up: a loop is stopped in a minute and a half.
CELL_TIMEOUT_S = 90
QUICK_DEFAULT = re.compile(r"""^profile\s*=\s*["']quick["']""", re.MULTILINE)
# Every graded test cell starts with this hidden line (added by ``instructor_notebook``): the
# checks it calls are a copy loaded afresh from checks.py, not the ``checks`` name or module
# object that a student's cell could have rebound or patched.
SEALED_CHECKS = ("### BEGIN HIDDEN TESTS\n"
                 "import importlib.util as _u, mnistlab.notebook as _n; "
                 "_s = _u.spec_from_file_location('mnistlab_sealed_checks', _n.__path__[0] + '/checks.py'); "
                 "checks = _u.module_from_spec(_s); _s.loader.exec_module(checks)\n"
                 "### END HIDDEN TESTS\n")

HEADER = """\
> **Lab version of this notebook.** Each *Exercise* says what to write: replace the
> `raise NotImplementedError(...)` lines with your code and run the check cell below it, which
> prints ✓ or says what your code gave and what was expected. *Run All* (*Kernel → Restart
> Kernel and Run All Cells*) stops at the first exercise you have not solved yet: solve it, run
> its check, then *Run All* again. The lab uses the small `quick` profile; its training cell
> takes a few minutes the first time and seconds once the runs are cached. Hand in this file;
> grading runs the same checks again, with a few more."""

CONFIG = '''\
# Written by `make labs` (mnistlab.pipeline.labs): edit lib/mnistlab/pipeline/labs.py, not this file.
c = get_config()
c.CourseDirectory.root = {root!r}
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
c.IncludeHeaderFooter.header = {header!r}
c.Execute.timeout = {timeout}
'''


def lab_sources(root: Path | None = None) -> dict[str, Path]:
    """Every experiment notebook with at least one nbgrader cell, by experiment name."""
    import jupytext

    return {path.stem: path for path in sorted(notebooks_dir(root).glob("*.py"))
            if any(nbgrader_cell(cell) for cell in jupytext.read(path).cells)}


def instructor_notebook(source: Path) -> "NotebookNode":
    """The notebook with its solutions, as nbgrader's ``source/`` folder holds it.

    Cell ids are numbered (jupytext would draw random ones, and the build must be
    deterministic); jupytext's pairing metadata is dropped, so a student's copy does not
    sprout a ``.py`` twin when opened; every graded cell gets the hidden ``SEALED_CHECKS``.  The parameters cell must default to the quick
    profile: a student runs the lab on a laptop.
    """
    import jupytext

    notebook = jupytext.read(source)
    notebook.metadata.pop("jupytext", None)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{source.stem}-{index:03d}"
        cell.metadata.pop("lines_to_next_cell", None)
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = SEALED_CHECKS + cell.source
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    if not parameters or not QUICK_DEFAULT.search(parameters[0].source):
        raise LabError(f"{source}: the cell tagged 'parameters' must set profile = \"quick\", so "
                       "the student version runs in minutes")
    return notebook


def exercise_summary(notebook: "NotebookNode") -> tuple[int, float]:
    """(solution cells, total points of the autograded test cells)."""
    marks = [cell.metadata["nbgrader"] for cell in notebook.cells if nbgrader_cell(cell)]
    return (sum(bool(m.get("solution")) for m in marks),
            sum(float(m.get("points", 0)) for m in marks if m.get("grade")))


def write_course_config(course: Path) -> bool:
    """``nbgrader_config.py`` of the course directory (root, stub, the students' header,
    cell timeout) and the header notebook; True when either changed, so every lab is
    generated again."""
    import nbformat

    header = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(HEADER, id="lab-header")])
    changed = _write_if_changed(course / "header.ipynb", _json(header))
    config = CONFIG.format(root=str(course), stub=STUB, header=str(course / "header.ipynb"),
                           timeout=CELL_TIMEOUT_S)
    return _write_if_changed(course / "nbgrader_config.py", config) or changed


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


@contextmanager
def scripts_on_path() -> Iterator[None]:
    """nbgrader runs the ``alembic`` command of its own environment: that environment's
    scripts folder goes first on the PATH while it works (the venv need not be activated)."""
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), before])
    try:
        yield
    finally:
        os.environ["PATH"] = before


def nbgrader(command: str, course: Path, assignment: str, student: str = "*",
             settings: dict | None = None) -> str:
    """nbgrader's ``generate_assignment``, ``autograde`` or ``generate_feedback`` in the course
    directory, with its ``nbgrader_config.py`` and ``settings`` (``{"Execute": {...}}``) over
    it; returns nbgrader's log, or raises a LabError holding it."""
    try:
        from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.utils import capture_log
    except ImportError as error:
        raise LabError(f"nbgrader is not installed ({error}): `make env` installs it, or "
                       "pip install -c constraints.txt -e '.[labs]'") from None
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.merge(Config(settings or {}))
    coursedir = CourseDirectory(config=config, assignment_id=assignment, student_id=student)
    app = {"generate_assignment": GenerateAssignment, "autograde": Autograde,
           "generate_feedback": GenerateFeedback}[command](
        coursedir=coursedir, config=config)
    app.force = True
    propagate, app.log.propagate = app.log.propagate, False  # its log is returned, not printed
    try:
        with scripts_on_path(), warnings.catch_warnings():
            # nbgrader 0.9 relies on SQLAlchemy 1.x backref cascades; 2.x warns, same result
            warnings.filterwarnings("ignore", message=".*not in session.*")
            result = capture_log(app)
    finally:
        app.log.propagate = propagate
    if not result["success"]:
        raise LabError(f"nbgrader {command} {assignment} failed in {course}:\n"
                       f"{result.get('log', '').strip()}\n{result.get('error', '')}")
    return result.get("log", "")


@dataclass(frozen=True)
class Lab:
    name: str
    path: Path
    exercises: int
    points: float
    generated: bool

    def __str__(self) -> str:
        how = "generated by nbgrader" if self.generated else "unchanged"
        return f"{shown(self.path)}: {self.exercises} exercises, {self.points:g} points ({how})"


def build(names: list[str] | None = None, root: Path | None = None, out: Path | None = None,
          course: Path | None = None) -> list[Lab]:
    """Student versions of the labs ``names`` (default: every lab) in ``out`` (``labs/``),
    copied from the course's ``release/`` folder (``generate``)."""
    sources = lab_sources(root)
    out, course = out or labs_dir(root), course or labs_course_dir(root)
    notebooks, stale = generate(names, root, course, sources)
    out.mkdir(parents=True, exist_ok=True)
    if names is None:  # labs/ holds exactly the current labs
        for old in set(out.glob("*.ipynb")) - {out / f"{name}.ipynb" for name in sources}:
            old.unlink()
    labs = []
    for name, notebook in notebooks.items():
        shutil.copyfile(course / "release" / name / f"{name}.ipynb", out / f"{name}.ipynb")
        labs.append(Lab(name, out / f"{name}.ipynb", *exercise_summary(notebook), name in stale))
    return labs


def generate(names: list[str] | None, root: Path | None, course: Path,
             sources: dict[str, Path] | None = None) -> tuple[dict[str, "NotebookNode"], list[str]]:
    """nbgrader's ``generate_assignment`` for the labs ``names`` (default: all) whose
    instructor version or course settings changed; returns every instructor notebook asked
    for and the names generated.

    Each instructor notebook goes to ``<course>/source/<lab>/<lab>.ipynb``; nbgrader writes
    ``<course>/release/<lab>/<lab>.ipynb`` and records the assignment, its test cells and
    their points in the course's gradebook.
    """
    sources = sources or lab_sources(root)
    unknown = sorted(set(names or []) - set(sources))
    if unknown:
        raise LabError(f"no lab named {', '.join(map(repr, unknown))}: notebooks with nbgrader "
                       f"cells are {', '.join(sources) or 'none'}")
    configured = write_course_config(course)
    notebooks = {name: instructor_notebook(sources[name]) for name in names or sources}
    stale = [name for name, notebook in notebooks.items()
             if _write_if_changed(course / "source" / name / f"{name}.ipynb", _json(notebook))
             or configured or not (course / "release" / name / f"{name}.ipynb").is_file()]
    for name in stale:
        nbgrader("generate_assignment", course, name)
    return notebooks, stale


def _json(notebook: "NotebookNode") -> str:
    import nbformat

    return nbformat.writes(notebook) + "\n"


def shown(path: Path) -> str:
    """A path as the user typed paths: relative to the working folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
