"""The scorecard on tiny hand-made frames: verdicts, tolerances, explanations, CSV, escaping."""

from __future__ import annotations

import csv
import json
import math

import pandas as pd
import pytest
import yaml

from mnistlab.analysis import compare, scorecard, verdicts
from mnistlab.analysis.compare import AGREEMENT_COLUMNS
from mnistlab.present.index_page import page
from mnistlab.core.errors import PublishedError
from mnistlab.spec.published import load_published, tolerance_of
from mnistlab.present.report import write_index

from .conftest import REPO


@pytest.mark.parametrize("published, mean, pi, n, tolerance, expected", [
    (0.970, 0.975, 0.006, 3, math.nan, "inside"),
    (0.5, 0.75, 0.25, 3, math.nan, "inside"),          # on the edge counts as inside
    (0.960, 0.975, 0.006, 3, math.nan, "far"),         # no tolerance stated: far
    (0.960, 0.975, 0.006, 3, 0.02, "close"),           # outside the PI, |Δ| = 0.015 <= 0.02
    (0.960, 0.975, 0.006, 3, 0.01, "far"),             # |Δ| = 0.015 > 0.01
    (0.960, 0.975, math.nan, 1, 0.02, "unjudged"),     # one run: no interval
    (0.960, math.nan, math.nan, 0, 0.02, "unjudged"),  # no runs at all
    (0.975, 0.975, 0.0, 3, math.nan, "inside"),        # identical runs, identical value
])
def test_verdict_rules(published, mean, pi, n, tolerance, expected):
    assert verdicts.value(published, mean, mean - pi, mean + pi, n, tolerance) == expected


def test_tolerance_is_absolute_or_a_percentage_of_the_published_value():
    assert tolerance_of(0.005, 0.97) == 0.005
    assert tolerance_of("20%", -0.5) == pytest.approx(0.1)
    assert math.isnan(tolerance_of(None, 0.97))
    for bad in ("20", "x%", "-5%"):
        with pytest.raises(ValueError, match="allowed are"):
            tolerance_of(bad, 1.0)


def _published_file(tmp_path, **column_extra) -> dict:
    spec = {"study": "123", "tables": {"t1": {
        "caption": "Table 1 <b>bold</b>", "columns": ["depth", "accuracy", "loss"],
        "rows": [[1, 0.97, 0.10], [2, 0.96, 0.20], [3, None, 0.30]],
        "compare": {"key": "depth", "match": "name", "columns": {
            "accuracy": {"metric": "test_accuracy", "tolerance": 0.005, **column_extra},
            "loss": {"metric": "test_loss", "tolerance": "50%"}}},
        "explanations": [{"section": "Why depth 2 <differs>", "rows": [2], "columns": ["accuracy"]}],
    }}}
    path = tmp_path / "123.yaml"
    path.write_text(yaml.safe_dump(spec))
    return load_published(path)


def _agreement(tables) -> pd.DataFrame:
    """``compare.agreement`` of the table above against three seeds per depth whose spread
    gives each cell the mean and single-run half-width written beside it (values m − d, m,
    m + d have sd d, so the interval is ± t·d·√(4/3) = ± 4.968 d), and a run of depth 4
    that has no published row (not a published number)."""
    cells = {("1", "test_accuracy"): (0.972, 0.001), ("2", "test_accuracy"): (0.970, 0.001),
             ("3", "test_accuracy"): (0.965, 0.001), ("4", "test_accuracy"): (0.960, 0.001),
             ("1", "test_loss"): (0.13, 0.002), ("2", "test_loss"): (0.21, 0.004),
             ("3", "test_loss"): (0.60, 0.01), ("4", "test_loss"): (0.70, 0.01)}
    runs = pd.DataFrame([{"name": depth, "group": "main", "seed": seed}
                         for depth in "1234" for seed in range(3)])
    for (depth, metric), (mean, d) in cells.items():
        runs.loc[runs["name"] == depth, metric] = [mean - d, mean, mean + d]
    return compare.agreement(runs, tables["t1"])


REPORT = ('<h2 id="1.-Setup">1. Setup<a class="anchor-link" href="#1.-Setup">¶</a></h2>'
          '<h3 id="Why-depth-2-&lt;differs&gt;">Why depth 2 &lt;differs&gt;'
          '<a class="anchor-link" href="#x">¶</a></h3>')


def _entry(tmp_path, report: str = REPORT) -> dict:
    tables = _published_file(tmp_path)
    rows = scorecard.manifest_rows(_agreement(tables), tables, report)
    return {"experiment": "depth", "study": "123_x", "study_id": "123",
            "title": "<script>alert(1)</script> & co", "profile": "quick", "seconds": 3.0,
            "rendered": "2026-01-01 00:00 UTC", "seed_file": "123_abc.txt",
            "authors": ["A <B>"], "commit": "abc", "machine": "here", "notebook": True,
            "tables": scorecard.table_captions(tables),
            "scorecard": json.loads(json.dumps(rows))}  # as stored in the manifest


def test_manifest_keeps_only_published_numbers_with_their_tolerance_and_explanation(tmp_path):
    entry = _entry(tmp_path)
    rows = {(r["row"], r["column"]): r for r in entry["scorecard"]}
    assert set(rows) == {("1", "accuracy"), ("2", "accuracy"), ("1", "loss"), ("2", "loss"),
                         ("3", "loss")}, "unpublished cells (nulls, run 4) are not on the scorecard"
    assert rows[("2", "accuracy")]["explanation"] == "Why depth 2 <differs>"
    assert rows[("2", "accuracy")]["anchor"] == "Why-depth-2-<differs>"
    assert rows[("2", "loss")]["explanation"] is None, "the explanation names accuracy only"
    assert rows[("3", "loss")]["tolerance"] == pytest.approx(0.15), "50% of 0.30"


def test_frame_carries_the_verdict_each_row_got_from_its_interval(tmp_path):
    frame = scorecard.frame([_entry(tmp_path)]).set_index(["row", "column"])
    assert frame.loc[("1", "accuracy"), "verdict"] == "inside"    # |Δ| .002 <= PI .005
    assert frame.loc[("2", "accuracy"), "verdict"] == "far"       # |Δ| .010 > PI, > tol .005
    assert frame.loc[("1", "loss"), "verdict"] == "close"         # |Δ| .03 > PI .01, <= 50% of .1
    assert frame.loc[("3", "loss"), "verdict"] == "far"           # |Δ| .30 > 50% of .30
    assert frame.loc[("1", "accuracy"), "why"] == "inside: 0.9700 ∈ [0.9670, 0.9770]"
    row = frame.loc[("1", "loss")]
    assert (row["pi_low"], row["pi_high"]) == pytest.approx((0.12006, 0.13994), abs=1e-5)
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * 4.302653 * 0.002 / math.sqrt(3))
    counts = scorecard.counts(frame.reset_index()).iloc[0]
    assert (counts["numbers"], counts["inside"], counts["close"], counts["far"]) == (5, 2, 1, 2)
    assert scorecard.sentence(counts) == ("5 distinct published numbers: 2 inside, "
                                          "1 within tolerance, 2 far")


def test_index_and_csv_from_manifests(tmp_path):
    reports = tmp_path / "reports"
    (reports / "depth").mkdir(parents=True)
    (reports / "depth/123_x.json").write_text(json.dumps(_entry(tmp_path)))
    index = write_index(reports).read_text()
    with open(reports / "summary.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 5 and list(rows[0]) == scorecard.SUMMARY_COLUMNS
    assert {r["verdict"] for r in rows} == {"inside", "close", "far"}
    assert index.count('<tr class="number primary"') == 5
    assert "<script>alert(1)</script>" not in index and "&lt;script&gt;alert(1)" in index
    assert "A &lt;B&gt;" in index and "Table 1 &lt;b&gt;bold&lt;/b&gt;" in index
    assert 'href="depth/123_x.html#Why-depth-2-&lt;differs&gt;"' in index
    assert "5 distinct published numbers: 2 inside, 1 within tolerance, 2 far" in index
    assert 'title="inside: 0.9700 ∈ [0.9670, 0.9770]"' in index, "the verdict's reason"
    assert 'class="quick"' in index and "<svg" in index
    assert "http://" not in index.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in index


def test_an_explanation_whose_section_is_missing_says_so(tmp_path):
    entry = _entry(tmp_path, report="<h2 id='other'>Other</h2>")
    html = page([entry], scorecard.frame([entry]))
    assert 'href="depth/123_x.html">Why depth 2 &lt;differs&gt;</a> <small>(section not found' in html


def test_explanations_must_name_published_rows_and_compared_columns(tmp_path):
    spec = {"study": "123", "tables": {"t1": {
        "caption": "c", "columns": ["depth", "accuracy"], "rows": [[1, 0.97]],
        "compare": {"key": "depth", "columns": {"accuracy": {"metric": "test_accuracy"}}},
        "explanations": [{"section": "s", "rows": [7]}]}}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(PublishedError, match=r"rows \[7\] are not published keys"):
        load_published(path)
    spec["tables"]["t1"]["explanations"] = []
    spec["tables"]["t1"]["compare"]["columns"]["accuracy"]["tolerance"] = "five"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(PublishedError, match="tolerance 'five': allowed are"):
        load_published(path)


def test_every_committed_explanation_names_a_heading_its_notebook_or_study_writes():
    """A section renamed in a notebook or a study module would leave a dead explanation link;
    the rendered check is in the end-to-end test, this one runs without training."""
    sources = "".join(p.read_text() for p in [*(REPO / "notebooks").glob("*.py"),
                                                *(REPO / "lib/mnistlab/studies").rglob("*.py")])
    for path in sorted((REPO / "params/published").glob("*.yaml")):
        for table in load_published(path).values():
            for explanation in table.explanations:
                assert f"# {explanation.section}" in sources, (path.name, explanation.section)


def test_a_study_with_nothing_published_is_listed_without_a_scorecard(tmp_path):
    entry = {"experiment": "loss", "study": "900_own", "study_id": "900", "title": "Own",
             "profile": "full", "scorecard": []}
    html = page([entry], scorecard.frame([entry]))
    assert "no published numbers to compare" in html and "No published numbers compared" in html
    assert '<tr class="number"' not in html and 'class="quick"' not in html


def test_the_agreement_travels_as_notebook_output_and_stays_out_of_the_report(tmp_path):
    """``Study.agreement`` writes no file: its frame is a cell output the runner reads back
    from the executed notebook, and the report leaves that output out."""
    import nbformat

    from mnistlab.present.report import notebook_to_html

    frame = pd.DataFrame([{column: None for column in AGREEMENT_COLUMNS}
                          | {"table": "t1", "row": "1", "column": "acc", "published": 0.97,
                             "mean": 0.9712, "n": 3}])
    record = scorecard.agreement_record(frame)
    assert record["text/plain"].startswith("1 published numbers compared")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("agreement = study.agreement(results)", outputs=[
            nbformat.v4.new_output("display_data", data=record)]),
        nbformat.v4.new_markdown_cell("## Results")])
    assert scorecard.agreement_from_notebook(nbformat.v4.new_notebook()) is None
    back = scorecard.agreement_from_notebook(notebook)
    assert back.loc[0, "published"] == 0.97 and back.loc[0, "row"] == "1"
    executed = tmp_path / "executed.ipynb"
    nbformat.write(notebook, executed)
    page_html = notebook_to_html(executed, "a study")
    assert "published numbers compared" not in page_html and "0.9712" not in page_html
    assert "Results" in page_html


def test_a_manifest_from_an_older_version_does_not_break_the_index(tmp_path):
    """Studies render one at a time and each rewrites the index from every manifest: one
    left by an older mnistlab (no verdicts) must not stop the others."""
    old = _entry(tmp_path) | {"study": "old", "scorecard": [
        {k: v for k, v in r.items() if k not in ("verdict", "primary")}
        for r in _entry(tmp_path)["scorecard"]]}
    frame = scorecard.frame([_entry(tmp_path), old])
    assert len(frame) == 5 and set(frame["study"]) == {"123_x"}
