"""make grade on a simulated class: one ``python -m mnistlab grade`` call grades every kind of
hand-in an instructor meets, each on its own, and writes the gradebook table and feedback.

The class hands in a two-exercise lab built from a small notebook (no training, no
TensorFlow), so the whole batch takes seconds a submission; its checks are the real
``mnistlab.notebook.checks``, sealed in the hidden tests as in every lab.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mnistlab.pipeline import grading, sandbox
from mnistlab.pipeline.labs import build

MINI = '''\
# %% [markdown]
# # Lab — mini

# %% tags=["parameters"]
profile = "quick"

# %%
import pandas as pd

from mnistlab.notebook import checks

# %% nbgrader={"grade": false, "grade_id": "count", "locked": false, "schema_version": 3, "solution": true, "task": false}
def count_parameters(inputs, hidden, outputs):
    ### BEGIN SOLUTION
    sizes = [inputs, *hidden, outputs]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "count-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.parameters(count_parameters(784, [50], 10), 784, [50], 10)

# %% nbgrader={"grade": false, "grade_id": "interval", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np
import scipy.stats


def prediction_interval(values):
    ### BEGIN SOLUTION
    values = np.asarray(values, dtype=float)
    half = scipy.stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) * np.sqrt(1 + 1 / len(values))
    return values.mean() - half, values.mean() + half
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "interval-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.prediction_interval(prediction_interval, pd.DataFrame({"name": [], "test_accuracy": []}))

# %%
print("the end")
'''

COUNT = "def count_parameters(inputs, hidden, outputs):\n" \
        "    sizes = [inputs, *hidden, outputs]\n" \
        "    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))\n"
INTERVAL = "import numpy as np\nimport scipy.stats\n\n\ndef prediction_interval(values):\n" \
           "    v = np.asarray(values, dtype=float)\n" \
           "    half = scipy.stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) * np.sqrt(1 + 1 / len(v))\n" \
           "    return v.mean() - half, v.mean() + half\n"
TAMPER = ("import mnistlab.notebook.checks as sealed\n"
          "for name in dir(checks):\n"
          "    if not name.startswith('_') and callable(getattr(checks, name)):\n"
          "        setattr(checks, name, lambda *a, **k: print('✓ fine'))\n"
          "        setattr(sealed, name, lambda *a, **k: print('✓ fine'))\n"
          "def count_parameters(inputs, hidden, outputs):\n    return 0\n")
# student → (count cell, interval cell, expected points, what the reason says)
CLASS = {
    "correct": (COUNT, INTERVAL, 4, ""),
    "partial": (COUNT, None, 2, "NotImplementedError"),
    "stubs": (None, None, 0, "NotImplementedError"),
    "looping": ("while True:\n    pass\n" + COUNT, INTERVAL, 2, "timed out after 60 s"),
    "dying": ("import os\nos._exit(1)\n", INTERVAL, 0, "the kernel died"),
    "chatty": ("print('x' * 10_000_000)\n" + COUNT, INTERVAL, 4, ""),
    "tampering": (TAMPER, "def prediction_interval(values):\n    return 0, 1\n", 0, "AssertionError"),
    "escaping": ("open({outside!r}, 'w').write('student was here')\n" + COUNT, INTERVAL, 2, "OSError"),
}


def _class(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A scratch project whose one lab is MINI, built, and the class's hand-ins."""
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    (root / "notebooks" / "mini.py").write_text(MINI)
    [lab] = build(root=root, out=root / "labs", course=root / "build" / "labs")
    hand_ins = tmp_path / "hand-ins"
    hand_ins.mkdir()
    paths = []
    for student, (count, interval, _, _) in CLASS.items():
        notebook = nbformat.read(lab.path, as_version=4)
        solutions = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution")]
        for cell, source in zip(solutions, (count, interval)):
            if source is not None:
                cell.source = source.format(outside=str(tmp_path / "outside.txt"))
        paths.append(hand_ins / f"{student}.ipynb")
        nbformat.write(notebook, paths[-1])
    paths.append(hand_ins / "not-a-notebook.ipynb")
    paths[-1].write_text("These are my answers: 39760, and the interval is [0.96, 0.98].\n")
    return root, paths


def _grade(root: Path, paths: list[Path], *options: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MNISTLAB_ROOT=str(root), MNISTLAB_BUILD=str(root / "build"))
    for var in ("IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "KERAS_HOME"):
        env.pop(var, None)
    return subprocess.run([sys.executable, "-m", "mnistlab", "grade", "mini", *map(str, paths),
                           "--timeout", "60", *options], env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, mnist_dir):
    tmp_path = tmp_path_factory.mktemp("class")
    root, paths = _class(tmp_path)
    run = _grade(root, paths, "--jobs", "2")
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    return tmp_path, root, run.stdout


def test_every_hand_in_gets_its_score_and_a_one_line_reason(graded_class):
    _, root, output = graded_class
    rows = {row["student"]: row for row in csv.DictReader((root / "build/labs/grades.csv").open())}
    expected = {student: (points, reason) for student, (_, _, points, reason) in CLASS.items()}
    expected["not-a-notebook"] = (0, "not a Jupyter notebook")
    assert set(rows) == set(expected), output
    for student, (points, reason) in expected.items():
        row = rows[student]
        assert float(row["total"]) == points and row["lab"] == "mini", (student, row, output)
        assert reason in row["reason"] and "\n" not in row["reason"], (student, row)
        assert f"student {student!r}: {points:g} / 4 points" in output
    assert rows["partial"]["count-check"] == "2.0" and rows["partial"]["interval-check"] == "0.0"
    assert "graded in" in output and "gradebook table: " in output


def test_feedback_for_every_graded_student_and_the_paths_printed(graded_class):
    _, root, output = graded_class
    for student in ("correct", "partial", "tampering", "chatty"):
        page = root / "build/labs/feedback" / student / "mini" / "mini.html"
        assert page.is_file() and f"feedback for {student}: " in output
    assert page.stat().st_size < 1_000_000, "10 MB of output is trimmed before the feedback page"
    assert "MB of output trimmed" in output


def test_the_sandbox_kept_student_code_inside_its_folder(graded_class):
    tmp_path, _, output = graded_class
    assert not (tmp_path / "outside.txt").exists()
    if sandbox.choose("auto") == "bwrap":
        assert "Read-only file system" in output


def test_tampering_with_the_checks_earns_nothing():
    """The sealed checks are a fresh copy: patching the module a student can reach is moot."""
    import mnistlab.notebook.checks as reachable
    from mnistlab.pipeline.labs import SEALED_CHECKS

    namespace = {}
    original = reachable.parameters
    try:
        reachable.parameters = lambda *args, **kwargs: None
        exec(SEALED_CHECKS, namespace)
        with pytest.raises(AssertionError, match="has 0 parameters"):
            namespace["checks"].parameters(0, 784, [50], 10)
    finally:
        reachable.parameters = original


def test_graded_one_at_a_time_the_same_hand_ins_get_the_same_rows(graded_class, tmp_path):
    """Three of the class again, serially (the whole class serially takes minutes), in a
    project whose path is longer than a Unix socket's path may be (the kernel's sockets
    must not live under it)."""
    _, root, parallel_output = graded_class
    parallel = {row["student"]: row for row in csv.DictReader((root / "build/labs/grades.csv").open())}
    deep = tmp_path / ("a-project-folder-deep-in-a-home-directory-" * 2)
    assert len(str(deep / "project/build/labs/sandbox/correct/runtime/kernel-1")) > 107
    again_root, paths = _class(deep)
    some = [p for p in paths if p.stem in ("correct", "partial", "not-a-notebook")]
    run = _grade(again_root, some, "--jobs", "1")
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    rows = list(csv.DictReader((again_root / "build/labs/grades.csv").open()))
    assert len(rows) == 3 and all(row == parallel[row["student"]] for row in rows), rows
    print(f"simulated class, JOBS=2: {re.search(r'graded in [0-9]+ s', parallel_output).group()}")


def test_grading_options_are_checked_before_anything_runs(tmp_path):
    with pytest.raises(grading.LabError, match="not found"):
        grading.grade_batch("mini", {"ghost": tmp_path / "ghost.ipynb"})
    with pytest.raises(grading.LabError, match="allowed values are auto, bwrap, user, none"):
        sandbox.choose("docker")


def test_a_text_file_is_no_notebook(tmp_path):
    text = tmp_path / "a.ipynb"
    text.write_text("hello")
    assert grading._not_a_notebook(text).startswith("not a Jupyter notebook")
    good = tmp_path / "b.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), good)
    assert grading._not_a_notebook(good) == ""


def test_huge_outputs_are_trimmed(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "print()", outputs=[nbformat.v4.new_output("stream", name="stdout", text="y" * 300_000)])])
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook, path)
    assert grading.trim_outputs(path) == 300_000 - grading.OUTPUT_KEPT
    assert grading.trim_outputs(path) == 0


def test_the_user_fallback_is_refused_where_nobody_could_run_python(tmp_path, monkeypatch):
    closed = tmp_path / "home"
    (closed / "bin").mkdir(parents=True)
    (closed / "bin" / "python").write_text("")
    closed.chmod(0o700)
    monkeypatch.setattr(sandbox.sys, "executable", str(closed / "bin" / "python"))
    monkeypatch.setattr(sandbox.os, "getuid", lambda: 0)
    assert "closed to other users" in sandbox.user_problem()
    with pytest.raises(grading.LabError, match="--isolation user: the unprivileged user 'nobody'"):
        sandbox.choose("user")


def test_json_outputs_are_left_as_they_are(tmp_path):
    data = {"application/json": {"rows": [1, 2]}, "text/plain": ["a" * 200_000]}
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "x", outputs=[nbformat.v4.new_output("display_data", data=data)])])
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook, path)
    assert grading.trim_outputs(path) == 200_000 - grading.OUTPUT_KEPT
    assert nbformat.read(path, as_version=4).cells[0].outputs[0].data["application/json"] == {"rows": [1, 2]}
