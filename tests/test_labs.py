"""make labs / make grade: the experiment notebooks as nbgrader assignments, built and graded.

The grading tests run the real labs through ``python -m mnistlab grade`` (nbgrader autograde)
on a tiny copy of each lab's study (two configurations or so, 600 training images, one epoch):
once as handed out, once with the instructor's solutions spliced back in.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml

from mnistlab.notebook import checks
from mnistlab.pipeline.labs import STUB_MESSAGE, build, instructor_notebook, lab_sources
from mnistlab.notebook.study import locate_params

from .conftest import REPO

LABS = sorted(lab_sources(REPO))
TINY = {"quick": {"train_samples": 600, "test_samples": 300, "max_epochs": 1, "seeds": [0, 1]}}
# the weight path of a dynamics run needs snapshots after a few epochs
EPOCHS = {"dynamics": 6}
KEEP = {"depth": ["1", "2"], "loss": ["basic", "basic-raw-test", "f4-baseline", "f5-baseline"],
        "dynamics": ["model1", "gd_relu"]}  # gd_relu records the weight snapshots
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.DOTALL)


def _mark(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Every lab built once into a scratch course directory and ``labs/`` folder."""
    base = tmp_path_factory.mktemp("labs")
    build(root=REPO, out=base / "labs", course=base / "course")
    return base


def test_every_notebook_is_a_lab_with_at_least_two_exercises(built):
    assert set(LABS) == {path.stem for path in (REPO / "notebooks").glob("*.py")}
    for lab in LABS:
        student = nbformat.read(built / "labs" / f"{lab}.ipynb", as_version=4)
        solutions = [c for c in student.cells if _mark(c).get("solution")]
        tests = [c for c in student.cells if _mark(c).get("grade")]
        assert len(solutions) >= 2 and len(tests) >= 2, lab
        assert all(_mark(c)["points"] > 0 and _mark(c)["locked"] for c in tests), lab


def test_building_labs_is_deterministic_and_idempotent(built, tmp_path):
    first = {p.name: p.read_bytes() for p in sorted((built / "labs").glob("*.ipynb"))}
    assert sorted(first) == [f"{lab}.ipynb" for lab in LABS]
    again = build(root=REPO, out=built / "labs", course=built / "course")
    assert not any(lab.generated for lab in again), "an unchanged lab is not generated again"
    assert {p.name: p.read_bytes() for p in sorted((built / "labs").glob("*.ipynb"))} == first
    fresh = build(root=REPO, out=tmp_path / "labs", course=tmp_path / "course")
    assert all(lab.generated for lab in fresh)
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "labs").glob("*.ipynb"))} == first


@pytest.mark.parametrize("lab", LABS)
def test_no_solution_or_hidden_test_text_survives_in_the_student_version(built, lab):
    instructor = instructor_notebook(REPO / "notebooks" / f"{lab}.py")
    student_text = "\n".join(c.source for c in nbformat.read(built / "labs" / f"{lab}.ipynb",
                                                                 as_version=4).cells)
    everywhere_else = "\n".join(REGION.sub("", c.source) for c in instructor.cells)
    hidden = [line.strip() for c in instructor.cells for _, region in REGION.findall(c.source)
              for line in region.splitlines()]
    secret = [line for line in hidden if len(line) >= 8 and line not in everywhere_else]
    assert len(secret) >= 2, "the instructor version has solutions to hide"
    leaked = [line for line in secret if line in student_text]
    assert not leaked, f"solution text in labs/{lab}.ipynb: {leaked}"
    assert "BEGIN SOLUTION" not in student_text and "HIDDEN TESTS" not in student_text


@pytest.mark.parametrize("lab", LABS)
def test_student_version_has_stubs_no_outputs_and_the_quick_profile(built, lab):
    student = nbformat.read(built / "labs" / f"{lab}.ipynb", as_version=4)
    for cell in student.cells:
        assert not cell.get("outputs") and cell.get("execution_count") is None
        if _mark(cell).get("solution"):
            assert f'raise NotImplementedError("{STUB_MESSAGE}' in cell.source
    parameters = next(c for c in student.cells if "parameters" in c.metadata.get("tags", []))
    assert re.search(r'^profile = "quick"$', parameters.source, re.MULTILINE)
    assert "jupytext" not in student.metadata, "no .py twin appears when a student opens it"


# --- grading --------------------------------------------------------------------------------

def _tiny_params(lab: str, folder: Path) -> Path:
    """The lab's first study with a few configurations and a tiny quick profile."""
    raw = yaml.safe_load(sorted((REPO / "params" / lab).glob("*.yaml"))[0].read_text())
    keep = KEEP.get(lab, [c["name"] for c in raw["configurations"][:2]])
    raw["configurations"] = [c for c in raw["configurations"] if c["name"] in keep]
    raw["assumptions"] = [a for a in raw.get("assumptions", [])  # about configurations left out
                          if not str(a.get("key", "")).startswith("configurations[")]
    raw["profiles"] = {"quick": {**TINY["quick"], "max_epochs": EPOCHS.get(lab, 1)}}
    path = folder / f"tiny_{lab}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return path


def _submission(student: nbformat.NotebookNode, params: Path, solutions: dict[str, str] | None,
                path: Path) -> Path:
    """The student version pointed at ``params``, with the instructor's solutions spliced in."""
    for cell in student.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = re.sub(r"^params_file = .*$", f"params_file = {str(params)!r}",
                                 cell.source, flags=re.MULTILINE)
        if solutions is not None and _mark(cell).get("solution"):
            cell.source = solutions[_mark(cell)["grade_id"]]
    nbformat.write(student, path)
    return path


@pytest.fixture(scope="module")
def graded(built, tmp_path_factory, mnist_dir, request) -> dict[str, dict[str, tuple[str, nbformat.NotebookNode]]]:
    """Per lab and student: the CLI's report and the autograded notebook.  ``make grade`` of
    two submissions per lab, as handed out and with the solutions spliced back (solved
    first: it trains the tiny runs, the other reads them); the labs in parallel, each in its
    own build folder."""
    base = tmp_path_factory.mktemp("grading")
    runs = {}
    selected = {item.callspec.params["lab"] for item in request.session.items
                if "graded" in getattr(item, "fixturenames", ()) and hasattr(item, "callspec")}
    for lab in sorted(selected):  # only the labs whose tests run (pytest -k width)
        folder = base / lab
        folder.mkdir()
        params = _tiny_params(lab, folder)
        instructor = instructor_notebook(REPO / "notebooks" / f"{lab}.py")
        solutions = {_mark(c)["grade_id"]: c.source for c in instructor.cells
                     if _mark(c).get("solution")}
        paths = [_submission(nbformat.read(built / "labs" / f"{lab}.ipynb", as_version=4),
                             params, spliced, folder / f"{student}.ipynb")
                 for student, spliced in (("solved", solutions), ("as-is", None))]
        env = dict(os.environ, MNISTLAB_BUILD=str(folder / "build"), MNIST_DIR=str(mnist_dir),
                   MNISTLAB_THREADS="1")
        for var in ("IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "KERAS_HOME"):
            env.pop(var, None)
        command = [sys.executable, "-m", "mnistlab", "grade", lab, *map(str, paths)]
        runs[lab] = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
    done = {}
    for lab, run in runs.items():
        stdout, stderr = run.communicate(timeout=1800)
        assert run.returncode == 0, stdout + stderr[-3000:]
        autograded = base / lab / "build" / "labs" / "autograded"
        done[lab] = {student: (stdout, nbformat.read(autograded / student / lab / f"{lab}.ipynb",
                                                     as_version=4))
                     for student in ("solved", "as-is")}
    return done


def _errors(notebook: nbformat.NotebookNode) -> list[tuple[int, dict]]:
    return [(i, o) for i, cell in enumerate(notebook.cells) for o in cell.get("outputs", [])
            if o.get("output_type") == "error"]


@pytest.mark.parametrize("lab", LABS)
def test_lab_as_handed_out_stops_at_the_first_exercise_and_scores_zero(graded, lab):
    output, notebook = graded[lab]["as-is"]
    assert re.search(r"student 'as-is': 0 / \d+ points", output), output
    index, error = _errors(notebook)[0]
    first = next(i for i, c in enumerate(notebook.cells) if _mark(c).get("solution"))
    assert index in (first, first + 1), "the first error is the first exercise's (or its check's)"
    assert error["ename"] == "NotImplementedError" and STUB_MESSAGE in error["evalue"]
    assert all(not _mark(notebook.cells[i]) or _mark(notebook.cells[i]).get("grade")
               or _mark(notebook.cells[i]).get("solution") for i, _ in _errors(notebook)), \
        "only exercises fail: the rest of the lab runs"


@pytest.mark.parametrize("lab", LABS)
def test_lab_with_the_solutions_spliced_back_runs_to_the_end_with_full_points(graded, lab):
    output, notebook = graded[lab]["solved"]
    score = re.search(r"student 'solved': (\S+) / (\S+) points", output)
    assert score and score.group(1) == score.group(2) and float(score.group(2)) >= 4, output
    assert not _errors(notebook), [e["evalue"] for _, e in _errors(notebook)]
    passes = [o["text"] for c in notebook.cells if _mark(c).get("grade")
              for o in c.get("outputs", []) if o.get("name") == "stdout"]
    assert passes and all(text.startswith("✓") for text in passes)
    assert notebook.cells[-1].get("outputs"), "the last cell (environment) ran"


# --- what the checks tell a student ----------------------------------------------------------

def test_the_parameter_count_message_names_both_counts():
    with pytest.raises(AssertionError, match="your model has 12,345 parameters; one hidden layer "
                       "of 50 on 784 inputs with 10 outputs has 39,760"):
        checks.parameters(12345, 784, [50], 10)
    with pytest.raises(AssertionError, match="exactly the biases are missing"):
        checks.parameters(39760 - 60, 784, [50], 10)
    checks.parameters(39760 + 9 * 2550, 784, [50] * 10, 10)


def test_an_unbuilt_or_wrong_network_is_named_precisely():
    import keras

    unbuilt = keras.Sequential([keras.layers.Dense(50), keras.layers.Dense(10)])
    with pytest.raises(AssertionError, match=r"keras.Input\(shape=\(784,\)\)"):
        checks.architecture(unbuilt, 784, [50], 10)
    linear = keras.Sequential([keras.Input((784,)), keras.layers.Dense(50), keras.layers.Dense(10)])
    with pytest.raises(AssertionError, match="hidden layer 1 of your model uses activation 'linear'"):
        checks.architecture(linear, 784, [50], 10, "relu", "softmax")


def _results(values: dict[str, list[float]], histories: dict[str, list[float]] | None = None
             ) -> pd.DataFrame:
    rows = []
    for name, column in values.items():
        for seed, value in enumerate(column):
            losses = (histories or {}).get(name, [0.5, 0.4])
            rows.append({"name": name, "seed": seed, "test_accuracy": value,
                         "history": {"loss": losses}, "epochs_run": len(losses),
                         "early_stopping": {"monitor": "loss", "patience": 1}})
    return pd.DataFrame(rows)


def test_interval_slips_get_a_hint():
    from scipy import stats

    results = _results({"1": [0.972, 0.974, 0.973]})

    def confidence(values):
        v = np.asarray(values)
        half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
        return v.mean() - half, v.mean() + half

    def normal(values):
        v = np.asarray(values)
        half = 1.96 * v.std(ddof=1) * np.sqrt(1 + 1 / len(v))
        return v.mean() - half, v.mean() + half

    with pytest.raises(AssertionError, match="confidence interval of the mean"):
        checks.prediction_interval(confidence, results)
    with pytest.raises(AssertionError, match="Student's t with n − 1"):
        checks.prediction_interval(normal, results)
    with pytest.raises(AssertionError, match="inside \\(reproduced\\)"):
        checks.reproduced(lambda published, values: False, results)


def test_early_stopping_mismatches_name_the_curve_or_the_run():
    import keras

    class Never(keras.callbacks.Callback):
        def __init__(self, patience):
            super().__init__()

    with pytest.raises(AssertionError, match=r"\[0.5, 0.4, 0.41, 0.3\] with patience 1: Keras's "
                       r"EarlyStopping\(monitor='loss', patience=1\) stops training after epoch 3; "
                       "yours lets every epoch run"):
        checks.early_stopping(Never, _results({"1": [0.9, 0.9]}))

    class StopsOnTies(keras.callbacks.Callback):  # right on every sample curve but one kind
        def __init__(self, patience):
            super().__init__()
            self.patience = patience

        def on_train_begin(self, logs=None):
            self.best, self.waited = float("inf"), 0

        def on_epoch_end(self, epoch, logs=None):
            if logs["loss"] <= self.best:
                self.best, self.waited = logs["loss"], 0
            else:
                self.waited += 1
                self.model.stop_training = self.waited >= self.patience

    with pytest.raises(AssertionError, match=r"\[0.5, 0.5, 0.4\] with patience 1"):
        checks.early_stopping(StopsOnTies, _results({"1": [0.9, 0.9]}))


def test_cross_entropy_and_pairing_slips_get_a_hint():
    with pytest.raises(AssertionError, match="mind the sign"):
        checks.cross_entropies(lambda y, p: np.sum(y * np.log(p), axis=1),
                               lambda labels, p: -np.log(p[np.arange(len(labels)), labels]))
    with pytest.raises(AssertionError, match="one loss per example, not their mean"):
        checks.cross_entropies(lambda y, p: -np.mean(np.sum(y * np.log(p), axis=1)), None)

    class NoStudy:  # no configurations differ only in their loss: the sample pair alone
        params = None

    def unpaired(a, b):
        from scipy import stats
        half = stats.t.ppf(0.975, len(a) - 1) * np.hypot(a.std(ddof=1), b.std(ddof=1)) / np.sqrt(len(a))
        return float((a - b).mean()), float(half)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "_pairs", lambda study, setting: [])
        with pytest.raises(AssertionError, match="subtract seed by seed first"):
            checks.paired_difference(unpaired, _results({}), NoStudy())


def test_a_lab_outside_the_notebooks_folder_finds_its_params_in_the_kit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = locate_params("../params/depth/000_rim_shin.yaml")
    assert found == (REPO / "params/depth/000_rim_shin.yaml").resolve()
    assert locate_params(tmp_path / "mine.yaml") == tmp_path / "mine.yaml", "absolute paths stay"


def test_reports_leave_the_exercises_out(tmp_path):
    from mnistlab.present.report import notebook_to_html

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("RESULTS-TEXT"),
                      nbformat.v4.new_markdown_cell("EXERCISE-TEXT", metadata={"nbgrader": {
                          "grade": False, "grade_id": "task", "locked": True, "schema_version": 3,
                          "solution": False, "task": False}})]
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook, path)
    page = notebook_to_html(path, "t")
    assert "RESULTS-TEXT" in page and "EXERCISE-TEXT" not in page
