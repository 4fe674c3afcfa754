"""``make grade``: a batch of hand-ins autograded by nbgrader, each on its own.

Every submission is graded by nbgrader's ``autograde`` in a worker process of its own (JOBS
of them at once), whose kernel runs in the sandbox of ``mnistlab.pipeline.sandbox``.  Whatever
one submission does (a file that is not a notebook, a loop, a kernel that dies, megabytes of
output), it scores what its cells earned, 0 where nothing ran, with a one-line reason, and
the batch goes on.  After the batch: nbgrader's ``generate_feedback`` writes each student's
HTML feedback, and nbgrader's CSV export of the gradebook, with the points of each exercise
and the reasons beside it, becomes ``build/labs/grades.csv``.

Why a worker process per submission: a kernel that hangs or dies, or nbgrader failing on a
malformed notebook, ends that worker, not the batch; and N workers grade N hand-ins at once.
The gradebook is SQLite, shared by the workers; each waits up to ``DB_WAIT_S`` for another's
write to finish.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from mnistlab.core import csvfile
from mnistlab.core.cache import write_json_atomic
from mnistlab.core.errors import LabError, MnistlabError
from mnistlab.core.paths import labs_course_dir, run_store, runs_dir
from mnistlab.pipeline import sandbox
from mnistlab.pipeline.labs import CELL_TIMEOUT_S, generate, nbgrader, scripts_on_path, shown

DB_WAIT_S = 120
OUTPUT_LIMIT = 100_000  # characters of one output kept in the autograded notebook
OUTPUT_KEPT = 2_000
STUDENT_ID = re.compile(r"[A-Za-z0-9_.-]+")
TIMED_OUT = ("CellTimeoutError", "KeyboardInterrupt")  # an interrupt is only sent on timeout
ROUTINE_WARNINGS = re.compile(r"Removing existing assignment|Attribute 'checksum' for cell \S+ has changed")


@dataclass(frozen=True)
class Settings:
    """How a batch is graded: parallel workers, the per-cell timeout, the sandbox."""

    jobs: int = 1
    timeout_s: int = CELL_TIMEOUT_S
    isolation: str = "auto"
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)


@dataclass
class Grade:
    """One submission: per test cell (grade id, score, max score, first line of its error),
    and the reason for any lost points in one line."""

    lab: str
    student: str
    score: float
    max_score: float
    seconds: float
    cells: list[tuple[str, float, float, str]] = field(default_factory=list)
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    notebook: Path | None = None

    def __str__(self) -> str:
        width = max([len(c[0]) for c in self.cells] + [4])
        lines = [f"{self.lab}, student {self.student!r}: {self.score:g} / {self.max_score:g} points "
                 f"(nbgrader autograde, {self.seconds:.0f} s)" + (f": {self.reason}" if self.reason else "")]
        lines += [f"  {grade_id:<{width}}  {score:g} / {max_score:g}" + (f"  {message}" if message else "")
                  for grade_id, score, max_score, message in self.cells]
        lines += [f"  note: {note}" for note in self.notes]
        if self.notebook:
            lines.append(f"  autograded notebook: {shown(self.notebook)}")
        return "\n".join(lines)


@dataclass
class Batch:
    grades: list[Grade]
    isolation: str
    grades_csv: Path
    feedback: dict[str, Path]
    seconds: float


def student_id(submission: Path, lab: str) -> str:
    """``alice.ipynb`` → ``alice``; ``alice/depth.ipynb`` (named after the lab) → ``alice``."""
    submission = Path(submission)
    return submission.parent.resolve().name if submission.stem == lab else submission.stem


def check_submissions(submissions: dict[str, Path]) -> None:
    """Refuse the batch before grading anything when a file is missing or an id is unusable."""
    for student, submission in submissions.items():
        if not Path(submission).is_file():
            raise LabError(f"submission {submission} not found: give the student's .ipynb file")
        if not STUDENT_ID.fullmatch(student):
            raise LabError(f"student id {student!r} (from {submission}): use letters, digits, "
                           "'.', '_' or '-' (rename the file or give --student)")


def grade_batch(lab: str, submissions: dict[str, Path], settings: Settings = Settings(),
                root: Path | None = None, course: Path | None = None,
                progress: Callable[[Grade], None] = lambda grade: None) -> Batch:
    """Grade every submission (student id → file); ``progress`` sees each grade as it is done."""
    started = time.perf_counter()
    check_submissions(submissions)
    if settings.jobs < 1 or settings.timeout_s < 1:
        raise LabError(f"jobs {settings.jobs}, timeout {settings.timeout_s} s: both must be at least 1")
    isolation = sandbox.choose(settings.isolation)
    course = course or labs_course_dir(root)
    generate([lab], root, course)
    _register(course, lab, submissions)
    problems = {student: _not_a_notebook(path) for student, path in submissions.items()}
    warm_cache(lab, [path for student, path in submissions.items() if not problems[student]])
    readable = {}
    grades = []
    for student, path in submissions.items():
        if problems[student]:
            grades.append(_zero(course, lab, student, problems[student], 0.0))
            progress(grades[-1])
        else:
            readable[student] = _place(course, lab, student, path)
    with ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        futures = {pool.submit(_grade_one, course, lab, student, settings, isolation, root): student
                   for student in readable}
        for future in as_completed(futures):
            try:
                grades.append(future.result())
            except Exception as error:  # a fault of the grader's own: this submission only
                grades.append(_zero(course, lab, futures[future], f"the grader failed on it "
                                    f"({type(error).__name__}: {error})", 0.0))
            progress(grades[-1])
    order = list(submissions)
    grades.sort(key=lambda grade: order.index(grade.student))
    feedback = _feedback(course, lab, [g.student for g in grades if g.notebook])
    table = write_grades(course, lab, grades)
    return Batch(grades, isolation, table, feedback, time.perf_counter() - started)


def _not_a_notebook(path: Path) -> str:
    """Why ``path`` cannot be graded as a notebook, or "" if it can."""
    import nbformat

    try:
        nbformat.validate(nbformat.read(path, as_version=4))
    except Exception as error:  # any parse or schema failure: the reason is the score's
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return f"not a Jupyter notebook ({type(error).__name__}: {first[:200]})"
    return ""


PARAMETER = re.compile(r"""^(params_file|profile)\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def warm_cache(lab: str, submissions: list[Path]) -> list[Path]:
    """Train, here and once, the quick-profile runs of every params file the submissions'
    parameters cells name (found beside the submission or in the kit), so each sandbox gets
    them in its copy of the cache and no submission trains them under the cell timeout."""
    import nbformat

    from mnistlab.notebook.study import locate_params
    from mnistlab.spec.params import load_params
    from mnistlab.train.sweep import run_sweep

    found: dict[Path, None] = {}
    for submission in submissions:
        cells = nbformat.read(submission, as_version=4).cells
        source = next((c.source for c in cells if "parameters" in c.metadata.get("tags", [])), "")
        named = dict(PARAMETER.findall(source))
        if named.get("profile", "quick") != "quick" or "params_file" not in named:
            continue
        beside = Path(submission).parent / named["params_file"]
        target = beside if beside.is_file() else locate_params(named["params_file"])
        if target.is_file():
            found[target.resolve()] = None
    for target in found:
        try:
            params = load_params(target)
            if params.experiment == lab:
                run_sweep(params, target, "quick")
        except MnistlabError as error:  # the submission's kernel will report it, scored
            print(f"note: runs of {target} not trained before grading: {error}", flush=True)
    return list(found)


def _register(course: Path, lab: str, students: Iterable[str]) -> None:
    """Every student of the batch in the gradebook, so the export lists even a 0."""
    from nbgrader.api import Gradebook

    with scripts_on_path(), Gradebook(db_url(course)) as gradebook:
        for student in students:
            gradebook.update_or_create_student(student)


def db_url(course: Path) -> str:
    return f"sqlite:///{course / 'gradebook.db'}?timeout={DB_WAIT_S}"


def _place(course: Path, lab: str, student: str, submission: Path) -> Path:
    target = course / "submitted" / student / lab / f"{lab}.ipynb"
    if target.parent.exists():
        shutil.rmtree(target.parent)
    target.parent.mkdir(parents=True)
    shutil.copyfile(submission, target)
    return target


def _sandbox_folders(course: Path, lab: str, student: str, root: Path | None) -> dict[str, Path]:
    """The submission's own folders: nbgrader's autograded folder (the kernel's working
    folder) and a scratch folder with the run cache copy, home, Jupyter runtime and state."""
    scratch = course / "sandbox" / student
    if scratch.exists():
        shutil.rmtree(scratch)
    folders = {name: scratch / name for name in ("home", "runtime", "state", "build")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    store = run_store("quick", root)
    if store.is_dir():  # the cached runs (a few MB): trained runs are read, not retrained
        shutil.copytree(store, runs_dir(folders["build"] / "quick"),
                        ignore=shutil.ignore_patterns("rejected"))
    folders["autograded"] = course / "autograded" / student  # nbgrader remakes <lab>/ in it
    folders["autograded"].mkdir(parents=True, exist_ok=True)
    folders["scratch"] = scratch
    return folders


def _grade_one(course: Path, lab: str, student: str, settings: Settings, isolation: str,
               root: Path | None) -> Grade:
    """Autograde one placed submission in a worker process; a worker that fails or is
    killed gives 0 points and the reason."""
    started = time.perf_counter()
    folders = _sandbox_folders(course, lab, student, root)
    # A Unix socket's path has at most 107 bytes, which a project deep in a home folder
    # exceeds: the kernel's sockets live in a short folder of /tmp, bound into the sandbox.
    sockets = Path(tempfile.mkdtemp(prefix="mnistlab-", dir="/tmp"))
    writable = [folders["scratch"], folders["autograded"], sockets]
    config = sandbox.kernelspec(folders["scratch"], isolation, writable, settings.limits,
                                folders["runtime"], sockets)
    config["Execute"].update(timeout=settings.timeout_s, interrupt_on_timeout=True)
    env = _worker_env(folders)
    command = [sys.executable, "-m", "mnistlab.pipeline.grading", str(course), lab, student,
               json.dumps(config)]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)
    cells = _cell_count(course, lab)
    limit = settings.timeout_s * (cells + 2) + 120
    try:
        log, _ = worker.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.communicate()
        shutil.rmtree(sockets, ignore_errors=True)
        return _zero(course, lab, student, f"grading took over {limit} s and was stopped",
                     time.perf_counter() - started)
    shutil.rmtree(folders["scratch"], ignore_errors=True)
    shutil.rmtree(sockets, ignore_errors=True)
    log_file = course / "logs" / lab / f"{student}.log"  # nbgrader's whole log, for a look
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text(log)
    graded = folders["autograded"] / lab / f"{lab}.ipynb"
    if worker.returncode or not graded.is_file():
        grade = _zero(course, lab, student, _failure_reason(log, settings.timeout_s),
                      time.perf_counter() - started)
        grade.notes.append(f"nbgrader's log: {shown(log_file)}")
        return grade
    grade = scores(course, lab, student, graded, settings.timeout_s)
    grade.notes += [line.removeprefix("[WARNING] ") for line in log.splitlines()
                    if line.startswith("[WARNING]") and not ROUTINE_WARNINGS.search(line)]
    trimmed = trim_outputs(graded)
    if trimmed:
        grade.notes.append(f"{trimmed / 1e6:.1f} MB of output trimmed from the autograded notebook")
    grade.seconds = time.perf_counter() - started
    return grade


def _worker_env(folders: dict[str, Path]) -> dict[str, str]:
    """The grader's environment, with the kernel's state, home and run cache in the
    submission's own folders, and the sandbox kernelspec first on JUPYTER_PATH."""
    env = dict(os.environ, HOME=str(folders["home"]), JUPYTER_RUNTIME_DIR=str(folders["runtime"]),
               JUPYTER_PATH=os.pathsep.join(filter(None, [str(folders["scratch"]),
                                                          os.environ.get("JUPYTER_PATH")])),
               MNISTLAB_BUILD=str(folders["build"]), PYTHONDONTWRITEBYTECODE="1")
    for var, sub in (("MPLCONFIGDIR", "matplotlib"), ("IPYTHONDIR", "ipython"), ("KERAS_HOME", "keras")):
        env[var] = str(folders["state"] / sub)
    return env


def _cell_count(course: Path, lab: str) -> int:
    import nbformat

    return len(nbformat.read(course / "source" / lab / f"{lab}.ipynb", as_version=4).cells)


def _failure_reason(log: str, timeout_s: int) -> str:
    """One line from nbgrader's log of a failed autograde."""
    if "DeadKernelError" in log or "Kernel died" in log:
        return "the kernel died (the notebook exited or crashed the Python process)"
    if "CellTimeoutError" in log or "UnresponsiveKernelError" in log or "became unresponsive" in log:
        return f"a cell timed out after {timeout_s} s and the kernel could not be interrupted"
    errors = [line.strip() for line in log.splitlines()
              if re.match(r"\s*[\w.]*(Error|Exception): ", line) and "NbGraderException" not in line]
    return "nbgrader could not grade it: " + (errors[-1][:300] if errors else
                                               (log.strip().splitlines() or ["no log"])[-1][:300])


def _zero(course: Path, lab: str, student: str, reason: str, seconds: float) -> Grade:
    from nbgrader.api import Gradebook

    with scripts_on_path(), Gradebook(db_url(course)) as gradebook:
        max_score = gradebook.find_assignment(lab).max_score
    return Grade(lab, student, 0.0, max_score, seconds, reason=reason)


def scores(course: Path, lab: str, student: str, graded: Path, timeout_s: int) -> Grade:
    """The gradebook's scores of one autograded notebook, with each test cell's first error
    line, and the submission's reason: the first cell that timed out, else the first error."""
    import nbformat
    from nbgrader.api import Gradebook

    messages, reason = {}, ""
    for cell in nbformat.read(graded, as_version=4).cells:
        mark = cell.metadata.get("nbgrader", {})
        failure = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if failure is not None and failure["ename"] in TIMED_OUT:
            reason = reason if "timed out" in reason else \
                f"cell {mark.get('grade_id') or cell.get('id')!r} timed out after {timeout_s} s"
        line = "" if failure is None else f"{failure['ename']}: {failure['evalue']}".splitlines()[0][:400]
        if mark.get("grade"):
            messages[mark["grade_id"]] = line
        reason = reason or (line and f"{mark.get('grade_id') or cell.get('id')}: {line}")
    with scripts_on_path(), Gradebook(db_url(course)) as gradebook:
        notebook = gradebook.find_submission_notebook(lab, lab, student)
        points = {g.name: (g.score, g.max_score) for g in notebook.grades if g.max_score}
        cells = [(name, *points[name], message) for name, message in messages.items() if name in points]
        total, most = notebook.score, notebook.max_score
    return Grade(lab, student, total, most, 0.0, cells, reason if total < most else "",
                 notebook=graded)


def trim_outputs(path: Path) -> int:
    """Cut every output longer than OUTPUT_LIMIT characters to its first OUTPUT_KEPT, so
    feedback pages stay readable; returns the characters removed."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    removed = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts = [("text", output)] if "text" in output else \
                [(kind, output.get("data", {})) for kind in list(output.get("data", {}))]
            for key, holder in texts:
                value = holder[key]
                if isinstance(value, list) and all(isinstance(line, str) for line in value):
                    value = "".join(value)
                if not isinstance(value, str):  # JSON data (a dict): left as it is
                    continue
                text = value
                if len(text) > OUTPUT_LIMIT:
                    removed += len(text) - OUTPUT_KEPT
                    holder[key] = text[:OUTPUT_KEPT] + \
                        f"\n[… {len(text) - OUTPUT_KEPT:,} more characters trimmed by the grader]\n"
    if removed:
        nbformat.write(notebook, path)
    return removed


def _feedback(course: Path, lab: str, students: list[str]) -> dict[str, Path]:
    """nbgrader's ``generate_feedback`` for the graded students: one HTML page each."""
    for student in students:
        nbgrader("generate_feedback", course, lab, student)
    return {student: course / "feedback" / student / lab / f"{lab}.html" for student in students
            if (course / "feedback" / student / lab / f"{lab}.html").is_file()}


def write_grades(course: Path, lab: str, grades: list[Grade]) -> Path:
    """``grades.csv`` from nbgrader's CSV export of the gradebook (every student and lab it
    holds), with each exercise's points and the reason for lost points beside the totals.
    Reasons are kept in ``reasons.json`` so a later batch keeps an earlier one's."""
    import pandas as pd
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    reasons_file = course / "reasons.json"
    reasons = json.loads(reasons_file.read_text()) if reasons_file.is_file() else {}
    reasons.update({f"{g.lab}/{g.student}": g.reason for g in grades})
    write_json_atomic(reasons_file, reasons)
    exported = course / "gradebook-export.csv"
    with scripts_on_path(), Gradebook(db_url(course)) as gradebook:
        CsvExportPlugin(to=str(exported)).export(gradebook)
        rows = list(csv.DictReader(exported.open()))
        exercises = {}
        for row in rows:
            exercises[(row["assignment"], row["student_id"])] = _points(gradebook, row)
    columns = list(dict.fromkeys(name for points in exercises.values() for name in points))
    header = ["student", "lab", *columns, "total", "max_score", "reason"]
    table = pd.DataFrame([[row["student_id"], row["assignment"],
                           *[exercises[(row["assignment"], row["student_id"])].get(c, "")
                             for c in columns],
                           row["score"], row["max_score"],
                           reasons.get(f"{row['assignment']}/{row['student_id']}", "")]
                          for row in rows], columns=header)
    return csvfile.write_csv(table, course / "grades.csv")  # reasons quote student code


def _points(gradebook, row: dict) -> dict[str, float]:
    from nbgrader.api import MissingEntry

    try:
        notebook = gradebook.find_submission_notebook(row["assignment"], row["assignment"],
                                                      row["student_id"])
    except MissingEntry:
        return {}
    return {g.name: g.score for g in notebook.grades if g.max_score}


def _worker(argv: list[str]) -> int:
    """``python -m mnistlab.pipeline.grading COURSE LAB STUDENT CONFIG``: one autograde."""
    course, lab, student, config = Path(argv[0]), argv[1], argv[2], json.loads(argv[3])
    config.setdefault("CourseDirectory", {})["db_url"] = db_url(course)
    try:
        print(nbgrader("autograde", course, lab, student, config), flush=True)
    except LabError as error:
        print(error, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
