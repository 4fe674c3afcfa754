"""papermill → results → HTML and PDF on the quick profile, in a scratch copy of the project
(the ``project`` fixture in conftest, shared with the scorecard's browser test)."""

from __future__ import annotations

import json
from html import unescape
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistlab.spec.published import load_published
from mnistlab.notebook.study import open_study
from mnistlab.spec.params import load_params, resolve_runs
from mnistlab.pipeline.runner import discover, report_all

from .conftest import REPO


def _pdf_has_image(path: Path) -> bool:
    return b"/Subtype /Image" in path.read_bytes() or b"/Subtype/Image" in path.read_bytes()


def test_depth_report_holds_both_tables_with_the_published_values(project):
    html = (project / "reports/quick/depth/000_rim_shin.html").read_text()
    assert "QUICK PREVIEW PROFILE" in html
    assert "Table 1. Hidden layer changes by number of layers" in html
    assert "Table 2. Loss and accuracy by data" in html
    published = load_published(REPO / "params/published/000_rim_shin.yaml")
    for value in published["table1"].frame["loss"]:
        assert f"{value:.4f}" in html
    for value in published["table1"].frame["training_time_s"]:
        assert f"{value:.1f}" in html
    for value in published["table2"].frame["accuracy"]:
        assert f"{value:.4f}" in html
    assert "def " not in html, "reports show results, not code"
    assert "Exercise 1" not in html and "exercise not done" not in html, "labs stay out of reports"


def test_loss_report_holds_figures_4_and_5_with_every_published_row(project):
    html = (project / "reports/quick/loss/001_chu.html").read_text()
    assert "QUICK PREVIEW PROFILE" in html
    published = load_published(REPO / "params/published/001_chu.yaml")
    for name in ("figure4", "figure5"):
        table = published[name]
        assert table.caption.split(" (")[0] in html
        for _, row in table.frame.iterrows():
            assert row["description"] in html
            assert f"{row['loss']:.3f}" in html and f"{row['accuracy']:.3f}" in html
    assert "35.080" in html and "0.9100" in html, "the basic model's published pair is shown"
    assert "Is sparse really better" in html


def test_batch_size_report_has_the_grid_and_a_table_column_per_batch_size(project):
    html = (project / "reports/quick/batch_size/004_fouchier_yang.html").read_text()
    assert "QUICK PREVIEW PROFILE" in html
    sizes = [run["batch_size"] for run in
             resolve_runs(load_params(REPO / "params/batch_size/004_fouchier_yang.yaml"))]
    figure = html[html.index("4. The learning curves"):html.index("5. Every batch size")]
    assert figure.count("<img") == 1, "the Figure-2 grid"
    start = html.index("updates per run")
    table = html[html.rindex("<table", 0, start):html.index("</table>", start)]
    header = table[:table.index("</thead>")]
    assert [f"<th>{size}</th>" in header for size in sizes] == [True] * len(sizes)
    for row in ("val accuracy (%)", "test loss", "epoch of best val loss", "val-loss roughness",
                "wall time (s)"):
        assert row in table
    assert "95.00" in html, "the study's ≈95% at batch 36000"
    assert "claims, tested" in html and "claims are supported" in html


@pytest.mark.parametrize("report", ["depth/000_rim_shin", "loss/001_chu",
                                    "batch_size/004_fouchier_yang", "optimizer/003_mchunu",
                                    "optimizer/004_fouchier_yang"])
def test_pdf_exists_with_the_figures(project, report):
    pdf = project / f"reports/quick/{report}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and _pdf_has_image(pdf)
    index = (project / "reports/index.html").read_text()
    assert f'href="quick/{report}.pdf"' in index and "quick" in index


def test_optimizer_reports_render_both_studies_from_one_notebook_with_every_row(project):
    for study, tables in (("003_mchunu", ("one_softmax", "double_softmax")),
                          ("004_fouchier_yang", ("today", "raw_inputs", "keras2_defaults"))):
        html = (project / f"reports/quick/optimizer/{study}.html").read_text()
        assert "QUICK PREVIEW PROFILE" in html and "Lab — Which optimizer" in html
        published = open_study(REPO / f"params/optimizer/{study}.yaml").published
        assert list(published) == list(tables)
        for table in published.values():
            assert table.caption[:30] in unescape(html), "the caption, as typed"
            for _, row in table.frame.iterrows():
                assert f"<th>{row[table.compare.key]}</th>" in html
                for name, column in table.compare.columns.items():
                    if row[name] is not None and row[name] == row[name]:
                        assert f"{row[name]:.{column.digits}f}" in html
        assert html.count("<img") >= 2, "the validation curves and the dots"
    html003 = (project / "reports/quick/optimizer/003_mchunu.html").read_text()
    assert "3.1 784-512-10, SGD, softmax twice" in html003, "the double-softmax variant is run"
    assert "Which reading reproduces the text" in html003 and "Why softmax twice" in html003
    html004 = (project / "reports/quick/optimizer/004_fouchier_yang.html").read_text()
    assert "Which reading reproduces which row" in html004 and "Epochs implied" in html004


def test_results_file_has_every_configuration_and_seed(project):
    results = (project / "build/quick/depth/000_rim_shin/results.csv").read_text().splitlines()
    header = results[0].split(",")
    for column in ("name", "seed", "epochs_run", "train_loss", "train_accuracy", "test_loss",
                   "test_accuracy", "train_time_s"):
        assert column in header
    assert len(results) == 1 + 10 * 2, "ten depths × two quick seeds"


def test_executed_notebooks_open_clean_without_stderr(project):
    """TensorFlow's start-up chatter (absl, oneDNN) is written to file descriptor 2, which the
    kernel turns into a pink stderr box in the first code cell; ``mnistlab.train.backend`` sends it to
    a log.  No cell of any executed notebook may carry a stderr stream: neither that chatter
    nor a warning our own code provokes."""
    import nbformat

    notebooks = sorted((project / "reports").rglob("*.ipynb"))
    assert len(notebooks) == len(discover(project))
    for path in notebooks:
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            for output in cell.get("outputs", []):
                assert output.get("name") != "stderr", (
                    f"{path.relative_to(project)} cell {index}: {output['text'][:400]}")
    # The import ran with descriptor 2 on the log.  What TensorFlow writes there depends on
    # its build and the processor (this machine's TensorFlow 2.21 writes nothing at level 2),
    # so the log's presence is the check, not a particular notice.
    assert (project / "build/state/tensorflow-startup.log").is_file()


def test_unchanged_rerun_is_instant_and_trains_nothing(project):
    manifest = project / "reports/quick/depth/000_rim_shin.json"
    before = json.loads(manifest.read_text())
    started = time.perf_counter()
    lines = report_all("quick", jobs=2, root=project)
    assert time.perf_counter() - started < 5
    assert lines == [f"{job.name}: up to date (quick)" for job in discover(project)]
    assert json.loads(manifest.read_text()) == before


def test_changed_notebook_reexecutes_but_reuses_trained_runs(project):
    notebook = project / "notebooks/depth.py"
    notebook.write_text(notebook.read_text().replace("# ## 8. Environment", "# ## 8. The machine"))
    runs = sorted((project / "build/quick/runs").glob("*.json"))  # every study's
    stamps = [p.stat().st_mtime_ns for p in runs]
    report_all("quick", root=project, experiment="depth")
    assert "The machine" in (project / "reports/quick/depth/000_rim_shin.html").read_text()
    assert [p.stat().st_mtime_ns for p in runs] == stamps, "no run was retrained"


STUDY_002 = {  # report → figures it must hold, and the arrays its runs must have saved
    "function_fit/002_abhinav": (4, {"loss_step", "grad_norm_step", "predictions", "targets",
                                     "critical_eigenvalues", "critical_grad_norm",
                                     "critical_loss", "minimal_ratio"}),
    "dynamics/002_abhinav": (5, {"weights", "weights_epoch", "grad_norm_step", "loss_step"}),
}


@pytest.mark.parametrize("report", list(STUDY_002))
def test_study_002_reports_draw_every_figure_from_numbers_saved_with_the_runs(project, report):
    figures, arrays = STUDY_002[report]
    html = (project / f"reports/quick/{report}.html").read_text()
    assert "QUICK PREVIEW PROFILE" in html and "Traceback" not in html
    assert html.count("<img") >= figures
    assert _pdf_has_image(project / f"reports/quick/{report}.pdf")
    results = pd.read_csv(project / f"build/quick/{report}/results.csv")
    files = results["probes_file"].dropna()
    saved = [np.load(project / "build/quick/runs" / name) for name in files]
    assert saved and any(arrays <= set(data.files) for data in saved)
    published = load_published(REPO / f"params/published/002_abhinav_{report.split('/')[0]}.yaml")
    for count in published["sizes"].frame["parameters"]:
        assert f">{count:,}<" in html, "the stated parameter counts, in the house number format"


def test_study_002_function_fit_answers_its_questions(project):
    html = (project / "reports/quick/function_fit/002_abhinav.html").read_text()
    for heading in ("Depth at an equal parameter count", "The study&#x27;s reading of its fits",
                    "Minimal ratio: what the Hessian says"):
        assert heading in html or heading.replace("&#x27;", "'") in html

