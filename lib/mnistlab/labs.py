"""Student versions of the experiment notebooks, built and graded by nbgrader itself.

A notebook in ``notebooks/`` is a lab as soon as one of its cells carries nbgrader metadata
(written in the py:percent source as jupytext cell metadata, ``# %% nbgrader={...}``).  The
instructor version is the notebook as it is: it runs top to bottom with the solutions, and the
report leaves every nbgrader cell out (``mnistlab.report``).  ``build`` hands each lab to
nbgrader's own ``generate_assignment`` in a course directory under ``build/labs``, which
replaces the solutions with a stub that raises ``NotImplementedError``, removes hidden tests,
clears outputs and locks the test cells; the result is copied to ``labs/<experiment>.ipynb``.
``grade`` puts a submission where nbgrader expects it, runs ``nbgrader autograde`` and reads
the score from nbgrader's gradebook.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .paths import labs_course_dir, labs_dir, notebooks_dir

if TYPE_CHECKING:
    from nbformat import NotebookNode

STUB = ('# YOUR CODE HERE\nraise NotImplementedError("exercise not done yet: write your code '
        'in place of these two lines")')
STUB_MESSAGE = "exercise not done yet"
CELL_TIMEOUT_S = 3600  # the training cell of a quick-profile lab takes minutes on a laptop
QUICK_DEFAULT = re.compile(r"""^profile\s*=\s*["']quick["']""", re.MULTILINE)

CONFIG = '''\
# Written by `make labs` (mnistlab.labs): edit lib/mnistlab/labs.py, not this file.
c = get_config()
c.CourseDirectory.root = {root!r}
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
c.Execute.timeout = {timeout}
'''


class LabError(RuntimeError):
    """A lab cannot be built or graded; the message says which file and what to do."""


def nbgrader_cell(cell: dict) -> bool:
    """Lab material: shown to students, left out of reports."""
    return "nbgrader" in cell.get("metadata", {})


def lab_sources(root: Path | None = None) -> dict[str, Path]:
    """Every experiment notebook with at least one nbgrader cell, by experiment name."""
    import jupytext

    return {path.stem: path for path in sorted(notebooks_dir(root).glob("*.py"))
            if any(nbgrader_cell(cell) for cell in jupytext.read(path).cells)}


def instructor_notebook(source: Path) -> "NotebookNode":
    """The notebook with its solutions, as nbgrader's ``source/`` folder holds it.

    Cell ids are numbered (jupytext would draw random ones, and the build must be
    deterministic); jupytext's pairing metadata is dropped, so a student's copy does not
    sprout a ``.py`` twin when opened.  The parameters cell must default to the quick
    profile: a student runs the lab on a laptop.
    """
    import jupytext

    notebook = jupytext.read(source)
    notebook.metadata.pop("jupytext", None)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{source.stem}-{index:03d}"
        cell.metadata.pop("lines_to_next_cell", None)
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
    """``nbgrader_config.py`` of the course directory (root, stub, cell timeout); True when
    it changed, so every lab is generated again."""
    return _write_if_changed(course / "nbgrader_config.py",
                             CONFIG.format(root=str(course), stub=STUB, timeout=CELL_TIMEOUT_S))


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def nbgrader(course: Path, *args: str) -> str:
    """Run an nbgrader command in the course directory; its log, or a LabError with it.

    nbgrader runs the ``alembic`` command of its own environment, so that environment's
    scripts folder goes first on the PATH (the venv need not be activated).
    """
    command = [sys.executable, "-m", "nbgrader", *args]
    scripts = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=os.pathsep.join([scripts, os.environ.get("PATH", "")]))
    done = subprocess.run(command, cwd=course, capture_output=True, text=True, env=env)
    log = done.stdout + done.stderr
    if done.returncode != 0 or "| ERROR]" in log:
        raise LabError(f"`nbgrader {' '.join(args)}` failed in {course}:\n{log.strip()}")
    return log


@dataclass(frozen=True)
class Lab:
    name: str
    path: Path
    exercises: int
    points: float
    generated: bool

    def __str__(self) -> str:
        how = "generated by nbgrader" if self.generated else "unchanged"
        return f"{self.path}: {self.exercises} exercises, {self.points:g} points ({how})"


def build(names: list[str] | None = None, root: Path | None = None, out: Path | None = None,
          course: Path | None = None) -> list[Lab]:
    """Student versions of the labs ``names`` (default: every lab) in ``out`` (``labs/``).

    Each instructor notebook goes to ``<course>/source/<lab>/<lab>.ipynb``; nbgrader's
    ``generate_assignment`` writes ``<course>/release/<lab>/<lab>.ipynb`` and records the
    assignment in the course's gradebook; that file is copied to ``out/<lab>.ipynb``.  A lab
    whose instructor version and course settings are unchanged is not generated again, and
    the others go to nbgrader in one call (its start-up is most of the time).
    """
    sources = lab_sources(root)
    unknown = sorted(set(names or []) - set(sources))
    if unknown:
        raise LabError(f"no lab named {', '.join(map(repr, unknown))}: notebooks with nbgrader "
                       f"cells are {', '.join(sources) or 'none'}")
    out, course = out or labs_dir(root), course or labs_course_dir(root)
    for gone in {p.parent.name for p in (course / "source").glob("*/*.ipynb")} - set(sources):
        shutil.rmtree(course / "source" / gone)  # the "*" below must match current labs only
    configured = write_course_config(course)
    todo = {name: instructor_notebook(sources[name]) for name in names or sources}
    stale = [name for name, notebook in todo.items()
             if _write_if_changed(course / "source" / name / f"{name}.ipynb", _json(notebook))
             or configured or not (course / "release" / name / f"{name}.ipynb").is_file()]
    if stale:
        nbgrader(course, "generate_assignment", stale[0] if len(stale) == 1 else "*", "--force")
    out.mkdir(parents=True, exist_ok=True)
    if names is None:  # labs/ holds exactly the current labs
        for old in set(out.glob("*.ipynb")) - {out / f"{name}.ipynb" for name in sources}:
            old.unlink()
    labs = []
    for name, notebook in todo.items():
        shutil.copyfile(course / "release" / name / f"{name}.ipynb", out / f"{name}.ipynb")
        labs.append(Lab(name, out / f"{name}.ipynb", *exercise_summary(notebook), name in stale))
    return labs


def _json(notebook: "NotebookNode") -> str:
    import nbformat

    return nbformat.writes(notebook) + "\n"


@dataclass
class Grade:
    """One submission's autograde: per test cell, its score and the first line of its error."""

    lab: str
    student: str
    score: float
    max_score: float
    notebook: Path
    seconds: float
    cells: list[tuple[str, float, float, str]] = field(default_factory=list)

    def __str__(self) -> str:
        width = max([len(c[0]) for c in self.cells] + [4])
        lines = [f"{self.lab}, student {self.student!r}: {self.score:g} / {self.max_score:g} points "
                 f"(nbgrader autograde, {self.seconds:.0f} s)"]
        for grade_id, score, max_score, message in self.cells:
            lines.append(f"  {grade_id:<{width}}  {score:g} / {max_score:g}"
                         + (f"  {message}" if message else ""))
        lines.append(f"autograded notebook: {self.notebook}")
        return "\n".join(lines)


def grade(lab: str, submission: Path, student: str = "student", root: Path | None = None,
          course: Path | None = None) -> Grade:
    """Autograde one submitted notebook with nbgrader and read its score from the gradebook.

    The lab is generated first, so the gradebook holds the current tests (hidden ones
    included: nbgrader restores every test cell from the instructor version before grading).
    """
    submission = Path(submission)
    if not submission.is_file():
        raise LabError(f"submission {submission} not found: give the student's .ipynb file")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", student):
        raise LabError(f"student id {student!r}: use letters, digits, '.', '_' or '-'")
    course = course or labs_course_dir(root)
    started = time.perf_counter()
    build([lab], root, course=course)
    target = course / "submitted" / student / lab / f"{lab}.ipynb"
    if target.parent.exists():
        shutil.rmtree(target.parent)
    target.parent.mkdir(parents=True)
    shutil.copyfile(submission, target)
    nbgrader(course, "autograde", lab, "--student", student, "--force")
    graded = course / "autograded" / student / lab / f"{lab}.ipynb"
    result = _scores(course, lab, student, graded)
    result.seconds = time.perf_counter() - started
    return result


def _scores(course: Path, lab: str, student: str, graded: Path) -> Grade:
    import nbformat
    from nbgrader.api import Gradebook

    errors = {}  # grade_id -> first line of its error, in notebook order
    for cell in nbformat.read(graded, as_version=4).cells:
        mark = cell.metadata.get("nbgrader", {})
        if mark.get("grade"):
            failure = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
            errors[mark["grade_id"]] = "" if failure is None else \
                f"{failure['ename']}: {failure['evalue']}".splitlines()[0][:400]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(lab, lab, student)
        scores = {g.name: (g.score, g.max_score) for g in notebook.grades if g.max_score}
        cells = [(name, *scores[name], errors.get(name, "")) for name in errors if name in scores]
        return Grade(lab, student, notebook.score, notebook.max_score, graded, 0.0, cells)
