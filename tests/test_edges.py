"""Reliability at the edges (issue 24): mistakes in published files caught before training,
spreadsheet-safe summaries, corrupt probe files retrained, full disks and read-only builds
named in one line, bounded worker counts and unreachable schedulers refused quickly."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml

from mnistlab.core.errors import ParamsError
from mnistlab.pipeline.runner import Job, validate

from .conftest import REPO


def _project_with_published(tmp_path: Path, edit, params_edit=None) -> tuple[Job, Path]:
    """Study 000's params and published file in a scratch project, the published one edited."""
    shutil.copytree(REPO / "params/published", tmp_path / "params/published")
    published = tmp_path / "params/published/000_rim_shin.yaml"
    raw = yaml.safe_load(published.read_text())
    edit(raw["tables"])
    published.write_text(yaml.safe_dump(raw, sort_keys=False))
    params = yaml.safe_load((REPO / "params/depth/000_rim_shin.yaml").read_text())
    if params_edit:
        params_edit(params)
    path = tmp_path / "params/depth/000_rim_shin.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return Job("depth", path, REPO / "notebooks/depth.py"), published


def _refused(job: Job, root: Path) -> str:
    started = time.perf_counter()
    with pytest.raises(ParamsError) as error:
        validate([job], root)
    assert time.perf_counter() - started < 10, "refused before any training"
    return str(error.value)


def test_a_published_value_that_is_not_a_number_is_refused_with_its_cell(tmp_path):
    def text_in_table2(tables):
        tables["table2"]["rows"][2][2] = "n/a"

    job, published = _project_with_published(tmp_path, text_in_table2)
    message = _refused(job, tmp_path)
    assert str(published) in message and "tables.table2" in message
    assert "row 3" in message and "'n/a' is not a number" in message
    assert "allowed are numbers, or null" in message


def test_a_compared_metric_no_run_records_is_refused_with_the_allowed_ones(tmp_path):
    def typo(tables):
        tables["table2"]["compare"]["columns"]["accuracy"]["metric"] = "test_accuracyy"

    job, published = _project_with_published(tmp_path, typo)
    message = _refused(job, tmp_path)
    assert f"{published}: table 'table2', column 'accuracy'" in message
    assert "'test_accuracyy' is not recorded by any run" in message
    assert "test_accuracy, test_loss" in message


def test_a_published_row_no_configuration_answers_to_is_refused(tmp_path):
    def typo(tables):
        tables["table2"]["rows"][0][0] = 11

    job, published = _project_with_published(tmp_path, typo)
    message = _refused(job, tmp_path)
    assert f"{published}: table 'table2': published row '11' matches none of" in message
    assert "unmatched: allowed" in message and "published_rows: some" in message


def test_unmatched_rows_are_allowed_where_a_table_or_a_variant_says_so(tmp_path):
    def allowed(tables):
        tables["table2"]["rows"][0][0] = 11
        tables["table2"]["compare"]["unmatched"] = "allowed"

    job, _ = _project_with_published(tmp_path / "a", allowed)
    validate([job], tmp_path / "a")

    def trimmed(params):
        params["configurations"] = params["configurations"][:2]
        params["study"]["published_rows"] = "some"

    job, _ = _project_with_published(tmp_path / "b", lambda tables: None, trimmed)
    validate([job], tmp_path / "b")


def test_text_cells_a_spreadsheet_would_evaluate_are_neutralised(tmp_path):
    import csv

    import pandas as pd

    from mnistlab.core.csvfile import write_csv

    hostile = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "plain", "a=b"]
    frame = pd.DataFrame({"row": hostile, "value": [-0.5, 1, 2, 3, 4, 5, 6]})
    with open(write_csv(frame, tmp_path / "summary.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["row"] for r in rows] == ["'" + h for h in hostile[:5]] + ["plain", "a=b"]
    assert rows[0]["value"] == "-0.5", "numbers stay numbers"
