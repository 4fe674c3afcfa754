"""The comparison builder and its statistics, on tiny frames whose answers are computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mnistlab.present import conclusions
from mnistlab.analysis.compare import agreement, counts
from mnistlab.present.tables import side_by_side
from mnistlab.spec.published import PublishedTable, load_published
from mnistlab.analysis.stats import spread, summarise
from mnistlab.studies.chu_001 import _scaling_verdict

from .conftest import REPO

T2 = 4.302652729911275  # Student t, 97.5%, 2 degrees of freedom


def test_both_intervals_by_hand():
    s = spread([1.0, 2.0, 3.0])  # mean 2, sd 1
    assert (s.n, s.mean, s.sd) == (3, 2.0, 1.0)
    assert s.ci == pytest.approx(T2 / math.sqrt(3))
    assert s.pi == pytest.approx(T2 * math.sqrt(1 + 1 / 3))
    assert s.inside_pi(6.9) and not s.inside_ci(6.9)  # 2 + 4.97 > 6.9 > 2 + 2.48
    assert not s.inside_pi(7.0)


def test_one_run_has_no_interval_and_judges_nothing():
    s = spread([0.5, np.nan])
    assert s.n == 1 and math.isnan(s.ci) and not s.inside_pi(0.5)


def _table(columns: dict, rows: list, compare: dict) -> PublishedTable:
    from mnistlab.spec.published import CompareSpec

    return PublishedTable("t", "caption", pd.DataFrame(rows, columns=list(columns)), "",
                          CompareSpec.model_validate(compare))


def _runs(values: dict[str, list[float]], metric: str = "test_accuracy") -> pd.DataFrame:
    return pd.DataFrame([{"name": name, "label": name.upper(), "group": "main", "seed": seed,
                          metric: value} for name, series in values.items()
                         for seed, value in enumerate(series)])


def test_inside_and_outside_the_prediction_interval():
    runs = _runs({"a": [0.90, 0.91, 0.92], "b": [0.50, 0.50, 0.50]})
    table = _table({"model": 0, "accuracy": 0}, [["a", 0.95], ["b", 0.51]],
                   {"key": "model", "columns": {"accuracy": {"metric": "test_accuracy"}}})
    frame = agreement(runs, table).set_index("row")
    assert frame.loc["a", "delta"] == pytest.approx(-0.04)
    assert bool(frame.loc["a", "inside_pi"]) and not bool(frame.loc["a", "inside_ci"])
    assert not bool(frame.loc["b", "inside_pi"]), "no spread at all: only 0.50 itself is inside"
    tally = counts(frame)
    assert (tally["published"], tally["inside"], tally["far"]) == (2, 1, 1)


def test_percent_columns_are_compared_in_percent():
    runs = _runs({"relu": [0.99, 0.99, 0.99]})
    table = _table({"activation": 0, "accuracy": 0}, [["relu", 99.0]],
                   {"key": "activation", "columns": {
                       "accuracy": {"metric": "test_accuracy", "unit": "percent", "digits": 2}}})
    row = agreement(runs, table).iloc[0]
    assert row["mean"] == pytest.approx(99.0) and row["delta"] == pytest.approx(0.0)


def test_a_missing_published_row_and_an_unpublished_run():
    runs = _runs({"1": [0.9, 0.9, 0.9], "2": [0.8, 0.8, 0.8]})
    table = _table({"layers": 0, "accuracy": 0}, [[1, 0.9], [3, 0.7]],
                   {"key": "layers", "columns": {"accuracy": {"metric": "test_accuracy"}}})
    frame = agreement(runs, table).set_index("row")
    assert list(frame.index) == ["1", "3", "2"], "published order, then runs without a row"
    assert frame.loc["3", "n"] == 0 and math.isnan(frame.loc["3", "mean"])
    assert math.isnan(frame.loc["2", "published"])
    shown = side_by_side(frame.reset_index(), table)
    assert shown.loc["3", ("accuracy", "mean ± CI")] == "not run"
    assert shown.loc["2", ("accuracy", "published")] == "–"
    hidden = _table({"layers": 0, "accuracy": 0}, [[1, 0.9]],
                    {"key": "layers", "unpublished": "hide",
                     "columns": {"accuracy": {"metric": "test_accuracy"}}})
    assert list(agreement(runs, hidden)["row"]) == ["1"]


def test_descriptive_columns_show_as_printed_and_differences_at_published_precision():
    runs = _runs({"a": [0.9912, 0.9912, 0.9912], "b": [0.5, 0.6, 0.7]})
    table = _table({"model": 0, "third layer": 0, "accuracy": 0},
                   [["a", None, 0.9912], ["b", 128, 0.6]],
                   {"key": "model", "columns": {"accuracy": {"metric": "test_accuracy"}}})
    shown = side_by_side(agreement(runs, table), table)
    assert list(shown[("third layer", "")]) == ["", "128"], "not 128.0 beside a blank"
    assert shown.loc["a", ("accuracy", "Δ")] == "+0.0000", "float noise is no difference"


def test_aliases_and_groups_select_the_runs_a_row_is():
    runs = pd.concat([_runs({"f4-base": [0.1, 0.1, 0.1]}).assign(group="figure4"),
                      _runs({"f5-base": [0.9, 0.9, 0.9]}).assign(group="figure5")])
    table = _table({"description": 0, "accuracy": 0}, [["Text baseline", 0.1]],
                   {"key": "description", "aliases": {"Text baseline": "f4-base"},
                    "unpublished": "hide", "columns": {"accuracy": {"metric": "test_accuracy"}}})
    frame = agreement(runs, table)
    assert list(frame["row"]) == ["Text baseline"] and frame["mean"].iloc[0] == pytest.approx(0.1)


def test_the_committed_published_files_join_their_study_runs():
    """Every compared column names a kind of metric the trainer reports (train_, val_, test_)."""
    for path in (REPO / "params/published").glob("*.yaml"):
        for table in load_published(path).values():
            for column in table.compare.columns.values():
                assert column.metric.split("_")[0] in {"train", "val", "test", "epochs", "parameters", "weights"}, path


def test_a_nan_loss_is_left_out_of_the_mean_and_counted():
    runs = pd.DataFrame({"label": ["raw"] * 3, "test_loss": [2.3, np.nan, np.nan],
                         "test_accuracy": [0.11, 0.10, 0.10]})
    summary = summarise(runs, ["label"], ["test_loss", "test_accuracy"])
    row = summary.iloc[0]
    assert (row["seeds"], row["test_loss_n"], row["test_accuracy_n"]) == (3, 1, 3)
    assert row["test_loss_mean"] == 2.3
    text = _scaling_verdict(row, pd.Series({"loss": 35.08, "accuracy": 0.91}))
    assert "diverged to a NaN loss in 2 of 3 runs" in text and "nan" not in text


@pytest.mark.parametrize("ys, word", [([1, 2, 3, 4, 5, 6], "rises"), ([6, 5, 4, 3, 2, 1], "falls"),
                                      ([1, 3, 2, 2, 3, 1], "no significant")])
def test_a_trend_sentence_is_worded_by_its_test(ys, word):
    runs = pd.DataFrame({"depth": [1, 2, 3, 4, 5, 6], "seconds": ys})
    text = conclusions.trend(runs, "depth", "seconds", "depth", "Time per epoch")
    assert word in text and "Spearman ρ" in text


@pytest.mark.parametrize("value, digits, signed, shown", [
    (0.97312, 4, False, "0.9731"), (113.1314, 1, False, "113.1"), (55251190.9, 3, False, "5.53×10⁷"),
    (0.0, 4, False, "0.0000"), (1e-9, 4, False, "1.00×10⁻⁹"), (-0.0123, 3, True, "-0.012"),
    (0.004, 3, True, "+0.004"), (12345, 0, False, "12,345"), (1234.5, 1, False, "1,234.5"),
    (True, 4, False, "✓"), (False, 4, False, "✗"), (float("nan"), 4, False, "–"), (None, 2, False, "–"),
])
def test_the_house_number_format(value, digits, signed, shown):
    from mnistlab.present import style

    assert style.number(value, digits, signed) == shown


@pytest.mark.parametrize("value, digits, shown", [
    (0.9912 - 0.9912000000000004, 4, "+0.0000"), (-4e-16, 4, "+0.0000"), (0.00044, 4, "+0.0004"),
    (-0.00006, 4, "-0.0001"), (-104.83, 1, "-104.8"), (float("nan"), 4, "–"),
])
def test_a_difference_is_shown_at_the_published_precision(value, digits, shown):
    from mnistlab.present import style

    assert style.difference(value, digits) == shown


@pytest.mark.parametrize("mean, half, digits, shown", [
    (0.1234, 0.0038, 2, "0.12 ± 0.004"), (0.9731, 0.0012, 4, "0.9731 ± 0.0012"),
    (97.39, 0.21, 2, "97.39 ± 0.21"), (0.5, 0.0, 2, "0.50 ± 0.00"), (0.5, float("nan"), 2, "0.50"),
    (0.5, 1e-9, 2, "0.50 ± 0.00"), (0.5, 4e-5, 2, "0.50 ± 0.00004"),
])
def test_a_narrow_interval_keeps_one_significant_figure(mean, half, digits, shown):
    from mnistlab.present import style

    assert style.mean_ci(mean, half, digits) == shown


@pytest.mark.parametrize("mean, half, scale, shown", [
    (5.96e-08, 8e-09, 1, "(5.96 ± 0.80)×10⁻⁸"), (5.96e-08, 8e-07, 1, "(0.60 ± 8.00)×10⁻⁷"),
    (-5.96e-10, 8e-11, 100, "(-5.96 ± 0.80)×10⁻⁸"), (0.0, 1e-09, 1, "(0.00 ± 1.00)×10⁻⁹"),
    (1.2e6, 3000.0, 1, "(1.200 ± 0.003)×10⁶"), (9.999e-8, 1e-9, 1, "(1.00 ± 0.01)×10⁻⁷"),
])
def test_a_tiny_or_huge_mean_and_its_interval_share_one_power_of_ten(mean, half, scale, shown):
    from mnistlab.present import style

    assert style.mean_ci(mean, half, 4, scale) == shown


@pytest.mark.parametrize("mean", [0.0, 3.2e-9, 5.96e-8, 0.004, 0.97, 113.1, 2.5e7])
@pytest.mark.parametrize("half", [1e-10, 8e-7, 0.0012, 2.0, 3e6])
def test_mean_and_half_width_are_never_written_in_two_notations(mean, half):
    """Either both in decimals, or both inside one bracket before one power of ten."""
    from mnistlab.present import style

    shown = style.runs_mean_ci(mean, half, 3, 4)
    assert "e" not in shown, shown
    if "×10" in shown:
        assert shown.startswith("(") and shown.count("×10") == 1 and ")×10" in shown, shown


def test_a_summary_reads_as_labels_and_intervals():
    from mnistlab.present import style

    summary = summarise(pd.DataFrame({"hidden_layers": [1, 1, 1], "epochs_run": [4, 5, 6]}),
                        ["hidden_layers"], ["epochs_run"])
    table = style.summary_table(summary, "hidden_layers", {"epochs_run": 1})
    assert table.index.name == "hidden layers"
    assert table.iloc[0, 0] == f"5.0 ± {T2 / math.sqrt(3):.1f}"
    assert list(table.columns) == ["epochs run (mean ± 95% CI)", "seeds"]


@pytest.mark.parametrize("written, shown", [
    ("{'name': 'adam', 'learning_rate': 0.001}", "adam (learning rate 0.001)"),
    ("{'name': 'adam'}", "adam"),
    ("0.08333333333333333", "0.08333"),
    ("[{'name': '1', 'batch_size': 1}, {'name': '10', 'batch_size': 10}]",
     "2 configurations (listed under What varies)"),
    ("[0, 1, 2]", "0, 1, 2"),
    ("unit", "unit"),
])
def test_assumed_settings_read_as_words_not_python(written, shown):
    from mnistlab.present import style

    assert style.setting_text(written) == shown
