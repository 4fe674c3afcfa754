"""Verdicts by kind of number, on tiny frames whose answers are computed by hand: bounds,
exact counts, trends, independent differences, explained numbers and the one-count headline."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mnistlab.analysis import scorecard, verdicts
from mnistlab.analysis.compare import agreement, agreement_of, inside_by_epoch
from mnistlab.analysis.curves import central_epoch, epoch_spans
from mnistlab.analysis.derived import connection_weights
from mnistlab.analysis.stats import independent_difference
from mnistlab.spec.published import CompareSpec, PublishedTable, ReadingSpec

T2 = 4.302652729911275  # Student t, 97.5%, 2 degrees of freedom
T4 = 2.7764451051977987  # 4 degrees of freedom


def _table(name: str, columns: list[str], rows: list, compare: dict,
           reading: dict | None = None) -> PublishedTable:
    return PublishedTable(name, f"Table {name}", pd.DataFrame(rows, columns=columns), "",
                          CompareSpec.model_validate(compare),
                          reading=ReadingSpec.model_validate(reading) if reading else None)


def _runs(values: dict[str, list[float]], metric: str = "test_accuracy", **extra) -> pd.DataFrame:
    return pd.DataFrame([{"name": name, "label": name, "group": "main", "seed": seed,
                          metric: value, **extra} for name, series in values.items()
                         for seed, value in enumerate(series)])


@pytest.mark.parametrize("direction, low, high, expected", [
    ("above", 96.0, 99.0, "holds"),      # the whole interval above 95
    ("above", 90.0, 94.0, "fails"),      # none of it above 95
    ("above", 93.0, 97.0, "undecided"),  # straddles 95
    ("above", 95.0, 97.0, "undecided"),  # touching the bound is not above it
    ("below", 20.0, 40.0, "holds"),
    ("below", 55.0, 70.0, "fails"),
    ("below", 45.0, 52.0, "undecided"),
])
def test_a_bound_is_judged_by_where_the_whole_interval_lies(direction, low, high, expected):
    bound = 95.0 if direction == "above" else 50.0
    assert verdicts.bound(bound, direction, low, high, n=3) == expected
    assert verdicts.bound(bound, direction, low, high, n=1) == "unjudged"


def test_a_bound_in_a_table_reads_its_side_per_row_and_is_not_a_value():
    """003's case: 97.8 % for "above 95 %" and 27 % for "below 50 %" both hold, although
    neither published bound lies inside our interval."""
    runs = _runs({"adam": [0.976, 0.978, 0.980], "sgd": [0.27, 0.273, 0.276]})
    table = _table("t", ["section", "accuracy", "side"], [["adam", 95, "above"], ["sgd", 50, "below"]],
                   {"key": "section", "columns": {"accuracy": {
                       "metric": "test_accuracy", "unit": "percent", "digits": 1,
                       "kind": "bound", "direction": "side"}}})
    frame = agreement(runs, table).set_index("row")
    assert list(frame["verdict"]) == ["holds", "holds"]
    assert not frame["inside_pi"].any()
    assert frame.loc["adam", "why"].startswith("holds: above 95.0; our single-run interval [")


def test_an_exact_count_is_equal_or_differs_and_the_text_counts_weights_without_biases():
    runs = _runs({"m1": [101770, 101770], "m2": [100437, 100437]}, metric="parameters")
    table = _table("t", ["model", "parameters"], [["m1", 101770], ["m2", 100112]],
                   {"key": "model", "columns": {"parameters": {"metric": "parameters",
                                                               "kind": "exact", "digits": 0}}})
    frame = agreement(runs, table).set_index("row")
    assert list(frame["verdict"]) == ["exact", "differs"]
    assert frame.loc["m2", "why"] == "differs: published 100,112 ≠ ours 100,437"
    assert connection_weights(pd.Series({"hidden": [128], "task": "digits"})) == 101632
    assert connection_weights(pd.Series({"hidden": "[107, 64, 64, 64, 16]", "task": "digits"})) \
        == 100112  # as read back from results.csv
    assert connection_weights(pd.Series({"hidden": [300], "task": "sinc_5pi"})) == 600


def test_a_time_from_another_machine_is_judged_by_its_trend_only():
    published = [10.0, 12.0, 11.0, 15.0, 18.0]          # rises: ρ = +0.9, p = 0.037
    ours = {str(k): [k + 0.1 * s for s in range(3)] for k in range(1, 6)}  # rises, far lower
    runs = _runs(ours, metric="train_cpu_s")
    table = _table("t", ["layers", "time"], [[k, v] for k, v in zip(range(1, 6), published)],
                   {"key": "layers", "columns": {"time": {"metric": "train_cpu_s",
                                                          "kind": "trend", "digits": 1}}})
    frame = agreement(runs, table)
    assert set(frame["verdict"]) == {"trend_reproduced"}, "never far by value"
    assert "published ρ = +0.90" in frame["why"].iloc[0] and "15 runs" in frame["why"].iloc[0]
    falling = _runs({str(k): [10 - k + 0.1 * s for s in range(3)] for k in range(1, 6)},
                    metric="train_cpu_s")
    assert set(agreement(falling, table)["verdict"]) == {"trend_differs"}


def test_trend_directions_need_significance():
    result = verdicts.Trend(published_rho=0.4, published_p=0.3, our_rho=0.1, our_p=0.8, runs=30)
    assert result.verdict == "trend_reproduced", "neither trend is significant: both 'none'"
    assert verdicts.Trend(0.9, 0.01, 0.1, 0.8, 30).verdict == "trend_differs"


def test_independent_difference_by_hand():
    s = independent_difference([0.6, 0.7, 0.8], [0.5, 0.6, 0.7])
    assert s.mean == pytest.approx(0.1)
    # two samples of sd 0.1, n = 3: Welch df = 4; one run each: sqrt(2 · 0.01 · 4/3)
    assert s.pi == pytest.approx(T4 * math.sqrt(2 * 0.01 * 4 / 3))
    assert s.ci == pytest.approx(T4 * math.sqrt(2 * 0.01 / 3))


def test_a_published_difference_is_judged_as_two_independent_runs_not_paired():
    """Seed-paired, "wide" is exactly 0.1 above "base" on every seed (paired interval of
    width 0), so a published +0.15 would be far; two independent single runs spread by
    ±0.45, so it is inside."""
    runs = _runs({"base": [0.5, 0.6, 0.7], "wide": [0.6, 0.7, 0.8]}, metric="test_loss")
    table = _table("t", ["d", "delta", "pct"], [["base", None, None], ["wide", 0.15, 25]],
                   {"key": "d", "columns": {
                       "delta": {"metric": "test_loss", "versus": "base"},
                       "pct": {"metric": "test_loss", "versus": "base", "relative": True}}})
    frame = agreement(runs, table).set_index(["row", "column"])
    delta = frame.loc[("wide", "delta")]
    assert delta["basis"] == "difference of two independent runs"
    assert delta["pi"] == pytest.approx(T4 * math.sqrt(2 * 0.01 * 4 / 3))
    assert delta["verdict"] == "inside"
    paired = np.array([0.1, 0.1, 0.1])
    assert paired.std(ddof=1) == pytest.approx(0.0, abs=1e-12), "the paired interval is empty"
    pct = frame.loc[("wide", "pct")]
    assert pct["mean"] == pytest.approx(100 * 0.1 / 0.6)
    assert pct["pi"] == pytest.approx(100 / 0.6 * delta["pi"])


def test_intervals_are_clipped_to_what_the_metric_can_be():
    runs = _runs({"a": [0.99, 0.999, 0.95], "b": [0.01, 0.3, 0.02]}, metric="test_accuracy")
    table = _table("t", ["m", "acc"], [["a", 0.98], ["b", 0.1]],
                   {"key": "m", "columns": {"acc": {"metric": "test_accuracy"}}})
    frame = agreement(runs, table).set_index("row")
    assert frame.loc["a", "pi_high"] == 1.0 and frame.loc["a", "mean"] + frame.loc["a", "pi"] > 1
    assert frame.loc["b", "pi_low"] == 0.0


def _readings() -> dict[str, PublishedTable]:
    """One published table (two numbers) under three readings; the second explains row x."""
    compare = {"key": "row", "match": "name", "unmatched": "allowed",
               "columns": {"acc": {"metric": "test_accuracy"}}}
    rows = [["x", 0.50], ["y", 0.90]]
    return {name: _table(name, ["row", "acc"], rows, compare | {"group": name},
                         {"numbers": "t3", "name": f"reading {name}", "primary": name == "a"})
            for name in ("a", "b", "c")}


def _reading_runs() -> pd.DataFrame:
    return pd.concat([
        _runs({"x": [0.80, 0.81, 0.82], "y": [0.89, 0.90, 0.91]}).assign(group="a"),
        _runs({"x": [0.49, 0.50, 0.51], "y": [0.60, 0.61, 0.62]}).assign(group="b"),
        _runs({"y": [0.90, 0.90, 0.91]}).assign(group="c"),  # c runs only y, by design
    ])


def test_a_far_number_inside_an_alternative_reading_is_explained():
    frame = agreement_of(_reading_runs(), _readings()).set_index(["table", "row"])
    assert frame.loc[("a", "x"), "verdict"] == "explained"
    assert frame.loc[("a", "x"), "explained_by"] == "reading b"
    assert 'under the reading "reading b": inside: 0.5000' in frame.loc[("a", "x"), "why"]
    assert frame.loc[("a", "y"), "verdict"] == "inside"
    assert frame.loc[("b", "x"), "verdict"] == "inside", "the alternative keeps its own verdict"
    assert frame.loc[("b", "y"), "verdict"] == "far"
    assert frame.loc[("c", "x"), "verdict"] == "not_run"


def test_the_headline_counts_each_published_number_once_across_readings():
    frame = agreement_of(_reading_runs(), _readings())
    entry = {"experiment": "optimizer", "study": "004_x", "study_id": "004", "profile": "full",
             "scorecard": [r | {"label": r["column"], "tolerance_stated": None,
                                "explanation": None, "anchor": None}
                           for r in frame.to_dict("records")]}
    card = scorecard.frame([entry])
    assert len(card) == 6, "summary.csv keeps one row per (number, reading)"
    assert scorecard.headline(card) == "2 distinct published numbers: 1 inside, 1 explained"
    assert scorecard.agreeing_share(card) == 1.0
    row = scorecard.counts(card).iloc[0]
    assert (row["numbers"], row["inside"], row["explained"], row["far"]) == (2, 1, 1, 0)


def test_readings_of_one_number_need_one_primary_and_the_same_values(tmp_path):
    import yaml

    from mnistlab.core.errors import PublishedError
    from mnistlab.spec.published import load_published

    def table(primary: bool, value: float) -> dict:
        return {"caption": "c", "columns": ["row", "acc"], "rows": [["x", value]],
                "reading": {"numbers": "t", "name": f"r{value}", "primary": primary},
                "compare": {"key": "row", "columns": {"acc": {"metric": "test_accuracy"}}}}

    path = tmp_path / "p.yaml"
    for tables, message in (({"a": table(True, 0.5), "b": table(True, 0.5)}, "exactly one"),
                            ({"a": table(True, 0.5), "b": table(False, 0.6)}, "differs")):
        path.write_text(yaml.safe_dump({"study": "123", "tables": tables}))
        with pytest.raises(PublishedError, match=message):
            load_published(path)
    bad = table(True, 0.5)
    bad["compare"]["columns"]["acc"] |= {"kind": "bound"}
    path.write_text(yaml.safe_dump({"study": "123", "tables": {"a": bad}}))
    with pytest.raises(PublishedError, match="kind: bound needs direction"):
        load_published(path)


def test_only_a_contradicted_number_is_explained():
    """An undecided bound is not contradicted: another reading's "holds" leaves it undecided."""
    from mnistlab.analysis.compare import AGREEMENT_COLUMNS, explain

    base = {c: "" for c in AGREEMENT_COLUMNS} | {"numbers": "s", "row": "3.1", "column": "text"}
    frame = pd.DataFrame([base | {"table": "a", "primary": True, "verdict": "undecided"},
                          base | {"table": "b", "primary": False, "verdict": "holds",
                                  "reading": "other"},
                          base | {"table": "a", "primary": True, "verdict": "fails",
                                  "row": "3.3"},
                          base | {"table": "b", "primary": False, "verdict": "holds",
                                  "row": "3.3", "reading": "other"}])
    assert list(explain(frame)["verdict"]) == ["undecided", "holds", "explained", "holds"]


def test_the_interval_width_in_standard_deviations_by_seeds():
    from mnistlab.analysis.stats import single_run_width

    assert single_run_width(3) == pytest.approx(T2 * math.sqrt(4 / 3))  # 4.97
    assert single_run_width(5) == pytest.approx(T4 * math.sqrt(6 / 5))  # 3.04
    assert math.isnan(single_run_width(1))


def _curve_runs() -> pd.DataFrame:
    """Two settings, three seeds each, test losses after epochs 1-4 (u's third seed stops
    after epoch 3)."""
    histories = {"u": [[0.9, 0.5, 0.30, 0.40], [0.85, 0.5, 0.32, 0.42], [0.8, 0.5, 0.34]],
                 "v": [[0.6, 0.2, 0.10, 0.10], [0.6, 0.3, 0.12, 0.12], [0.6, 0.4, 0.14, 0.14]]}
    return pd.DataFrame([{"name": name, "label": name, "group": "main", "seed": seed,
                          "test_loss": curve[-1], "history": {"test_loss": curve}}
                         for name, curves in histories.items()
                         for seed, curve in enumerate(curves)])


def test_a_column_read_at_an_epoch_takes_each_runs_test_curve_there():
    compare = {"key": "k", "columns": {"loss": {"metric": "test_loss", "epoch": 3}}}
    frame = agreement(_curve_runs(), _table("t", ["k", "loss"], [["u", 0.31], ["v", 0.5]],
                                            compare)).set_index("row")
    # u after epoch 3: 0.30, 0.32, 0.34: mean 0.32, s = 0.02, PI ± T2·0.02·√(4/3)
    assert frame.loc["u", "mean"] == pytest.approx(0.32)
    assert frame.loc["u", "pi"] == pytest.approx(T2 * 0.02 * math.sqrt(4 / 3))
    assert frame.loc["u", "verdict"] == "inside"
    assert frame.loc["v", "mean"] == pytest.approx(0.12)
    assert frame.loc["v", "verdict"] == "far"  # 0.5 ∉ 0.12 ± 0.099
    late = agreement(_curve_runs(), _table("t", ["k", "loss"], [["u", 0.4]],
                                           {**compare, "columns": {"loss": {"metric": "test_loss",
                                                                            "epoch": 9}}}))
    assert late["verdict"].iloc[0] == "not_run", "a quick profile's runs stop before the reading"
    assert "no test score after epoch 9" in late["why"].iloc[0]


def test_an_epoch_reads_only_a_test_curve():
    with pytest.raises(ValueError, match="epoch reads a test curve"):
        CompareSpec.model_validate({"key": "k", "columns": {"acc": {"metric": "val_accuracy",
                                                                    "epoch": 3}}})


def test_published_numbers_inside_the_test_curves_interval_epoch_by_epoch():
    table = _table("t", ["k", "loss"], [["u", 0.5], ["v", 0.13]],
                   {"key": "k", "columns": {"loss": {"metric": "test_loss"}}})
    inside = inside_by_epoch(_curve_runs(), table)
    # u: epoch 1 is 0.85 ± T2·0.05·√(4/3) = [0.60, 1.10] ∌ 0.5; epoch 2 has no spread (s = 0): 0.5 is its mean;
    # epoch 4 has two runs (0.41 ± 12.7·0.0141·√1.5): wide enough for 0.5.
    assert inside.loc[("u", "loss")].tolist() == [False, True, False, True]
    # v: epoch 2 is 0.3 ± 0.4·... (s = 0.1) ∋ 0.13; epochs 3-4 are 0.12 ± 0.099 ∋ 0.13.
    assert inside.loc[("v", "loss")].tolist() == [False, True, True, True]
    assert epoch_spans(inside.all()) == [(2, 2), (4, 4)]


def test_a_training_length_is_read_in_the_middle_of_the_longest_span():
    assert central_epoch([False, True, True, True, False, True]) == 3
    assert central_epoch([True, True, False, True, True]) == 1, "a tie: the earliest span"
    assert central_epoch([False, True, True, True, True]) == 3, "2-5: rounded down"
    assert central_epoch([False, False]) is None


def test_a_reason_prints_enough_digits_to_show_the_side():
    """Adamax's loss: 0.08 lies just below our interval [0.0824, 0.1074]; at the table's two
    digits the reason would read "0.08 ∉ [0.08, 0.11]"."""
    why = verdicts.reason("far", 0.08, 0.0824, 0.1074, 2, mean=0.0949)
    assert why.startswith("far: 0.080 ∉ [0.082, 0.107]")
    assert verdicts.reason("inside", 0.5, 0.2, 0.9, 2) == "inside: 0.50 ∈ [0.20, 0.90]"
