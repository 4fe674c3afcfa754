"""Activation and width experiments (study 004, Tables I and II and the best multiclass
network): the per-configuration task, seed-paired pairwise conclusions, curves by setting,
the study's claims, and both reports rendered on the quick profile with every published row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mnistlab.present import conclusions, plots
from mnistlab.analysis import stats
from mnistlab.spec.published import load_published
from mnistlab.notebook.study import open_study
from mnistlab.core.errors import ParamsError
from mnistlab.spec.params import assumption_table, load_params, resolve_runs
from mnistlab.notebook.plugins import analysis
from mnistlab.analysis.curves import roughness

from .conftest import REPO

ACTIVATION = REPO / "params/activation/004_fouchier_yang.yaml"
WIDTH = REPO / "params/width/004_fouchier_yang.yaml"
P004_OPTIMIZER = REPO / "params/optimizer/004_fouchier_yang.yaml"


def _edited(tmp_path: Path, source: Path, edit) -> Path:
    raw = yaml.safe_load(source.read_text())
    edit(raw)
    path = tmp_path / source.parent.name / "edited.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return path


def _error(path: Path) -> str:
    with pytest.raises(ParamsError) as error:
        load_params(path)
    return str(error.value)


# --- one params file, a binary table and a multiclass row -------------------------------------

def test_a_configuration_may_name_its_own_task():
    runs = {run["name"]: run for run in resolve_runs(load_params(WIDTH))}
    assert {runs[name]["task"] for name in ("16", "32", "64", "128")} == {"zero_vs_rest"}
    assert runs["best"]["task"] == "digits"
    assert runs["best"]["loss"] == "categorical_crossentropy" and runs["best"]["epochs"] == 80


def test_a_configuration_task_is_checked_against_its_loss(tmp_path):
    path = _edited(tmp_path, WIDTH, lambda raw: raw["configurations"][4].pop("loss"))
    message = _error(path)
    assert "configurations[4]" in message
    assert "binary_crossentropy" in message and "task digits" in message


def test_the_study_task_has_one_place(tmp_path):
    path = _edited(tmp_path, WIDTH, lambda raw: raw["defaults"].update(task="digits"))
    assert "defaults.task" in _error(path) and "data.task" in _error(path)


def test_an_assumption_may_name_one_configuration(tmp_path):
    rows = {row["setting"]: row for row in assumption_table(load_params(WIDTH), WIDTH)}
    assert rows["configurations[4].loss"]["value"] == "categorical_crossentropy"
    path = _edited(tmp_path, WIDTH,
                   lambda raw: raw["assumptions"].append({"key": "configurations[9].loss",
                                                          "reason": "no such configuration here"}))
    assert "'configurations[9].loss' names no key" in _error(path)


def _fake_results(params_path: Path, seeds=(0, 1, 2)) -> pd.DataFrame:
    """One row per configuration × seed, as Study.run returns them, without training."""
    rows = []
    for run in resolve_runs(load_params(params_path)):
        for seed in seeds:
            accuracy, loss, epochs = 0.99 + 0.001 * seed, 0.03, run["epochs"]
            curves = {"test_accuracy": [accuracy] * epochs, "test_loss": [loss] * epochs} \
                if run.get("test_curve") else {}
            rows.append({**run, "seed": seed, "test_accuracy": accuracy, "test_loss": loss,
                         "train_time_s": 1.0, "epochs_run": epochs, "history": curves})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("params_path", [ACTIVATION, WIDTH])
def test_every_published_row_joins_runs(params_path):
    study = open_study(params_path)
    agreement = study.agreement(_fake_results(params_path))
    published = sum(len(t.frame) * len(t.compare.columns) for t in study.published.values())
    assert len(agreement) == published, "no unpublished run shown, no published row missing"
    assert (agreement["n"] == 3).all()


def test_percent_columns_are_compared_in_percent():
    study = open_study(ACTIVATION)
    agreement = study.agreement(_fake_results(ACTIVATION))
    accuracy = agreement[agreement["column"] == "accuracy"]
    assert accuracy["mean"].round(3).tolist() == [99.1] * 6, "after 30 epochs and along the test curve"


# --- generic statistics and conclusions ---------------------------------------------------------

def test_holm_adjusts_in_step_down_order():
    assert np.allclose(stats.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    adjusted = stats.holm([0.5, np.nan])
    assert adjusted[0] == 0.5 and np.isnan(adjusted[1])


def _paired_runs() -> pd.DataFrame:
    """Seeds that move every setting together by a lot; a is b + 0.01 (plus a little), c ≈ b."""
    rng = np.random.default_rng(0)
    seed_effect = rng.normal(0, 0.05, 6)
    rows = []
    for seed, shift in enumerate(seed_effect):
        rows += [{"group": "g", "name": "a", "seed": seed, "acc": shift + 0.01 + rng.normal(0, 1e-3)},
                 {"group": "g", "name": "b", "seed": seed, "acc": shift},
                 {"group": "g", "name": "c", "seed": seed, "acc": shift + rng.normal(0, 1e-3)}]
    return pd.DataFrame(rows)


def test_pairwise_differences_are_paired_by_seed():
    pairs = stats.pairwise_differences(_paired_runs(), "name", "acc").set_index(["first", "second"])
    assert list(pairs.index) == [("a", "b"), ("a", "c"), ("b", "c")]
    ab = pairs.loc[("a", "b")]
    assert ab["mean"] == pytest.approx(0.01, abs=2e-3) and ab["ci"] < 3e-3, \
        "pairing removes the seed effect (sd 0.05) from the interval"
    assert ab["excludes_zero"] and ab["p_holm"] < 0.05
    assert not pairs.loc[("b", "c"), "excludes_zero"]


def test_paired_resolution_shrinks_with_seeds():
    three, ten = stats.paired_resolution(0.1, 3), stats.paired_resolution(0.1, 10)
    assert three == pytest.approx(4.303 * 0.1 / np.sqrt(3), rel=1e-3) and ten < three
    assert np.isnan(stats.paired_resolution(0.1, 1))


def test_differences_say_which_pairs_are_beyond_seed_noise():
    runs = pd.concat([_paired_runs(),
                      pd.DataFrame([{"group": "alone", "name": "x", "seed": 0, "acc": 0.5}])])
    text = conclusions.differences(runs, "name", "acc", "Accuracy", scale=100, unit=" pp")
    assert "| a − b | +0.9" in text and text.count("| yes |") == 2  # a − b and a − c
    assert "b − c" in text.split("| yes |")[-1], "b − c is within seed noise"
    assert "Ranking by mean, highest first: a > " in text
    assert "three seeds would resolve" in text
    assert "alone" not in text, "a group with one setting has nothing to compare"
    assert "Spearman" not in text
    assert "Spearman" in conclusions.differences(_paired_runs().assign(
        units=lambda f: f["name"].map({"a": 3, "b": 1, "c": 2})), "units", "acc", "Accuracy",
        ordered=True)


def test_differences_escape_names_from_params():
    runs = _paired_runs().replace({"name": {"a": "<b>a|x</b>"}})
    text = conclusions.differences(runs, "name", "acc", "Accuracy")
    assert "<b>" not in text and "&lt;b&gt;a&#124;x" in text


def _history_runs() -> pd.DataFrame:
    """Two groups; in one, two settings whose validation loss falls to epoch 4, then rises."""
    rows = []
    for seed in range(3):
        for name, level in (("sigmoid", 0.02), ("relu", 0.01)):
            loss = [level + 0.001 * (e - 4) ** 2 / 16 + 1e-4 * seed for e in range(12)]
            rows.append({"group": "Table I", "name": name, "seed": seed, "units": 64,
                         "test_loss": loss[-1] + 1e-4 * seed,
                         "history": {"val_loss": loss, "val_accuracy": [0.9975] * 12,
                                     "loss": loss}})
        rows.append({"group": "best network", "name": "best", "seed": seed, "units": 300,
                     "history": {"val_loss": [0.3, 0.2], "val_accuracy": [0.9, 0.95],
                                 "loss": [0.3, 0.2]}})
    return pd.DataFrame(rows)


def test_curves_by_setting_draw_one_figure_per_group_and_one_line_per_setting():
    figures = plots.curves_by_setting(_history_runs(), hue="name")
    assert len(figures) == 2
    first = figures[0].axes
    assert [ax.get_ylabel() for ax in first[:2]] == ["validation accuracy (%)", "validation loss"]
    assert len(first[1].get_lines()) == 2 and len(figures[1].axes[1].get_lines()) == 1
    assert first[1].get_lines()[1].get_ydata()[4] == pytest.approx(0.0101)
    import matplotlib.pyplot as plt

    plt.close("all")


# --- study 004's claims --------------------------------------------------------------------------

def test_roughness_is_zero_for_a_steady_curve_and_large_for_a_zigzag():
    assert roughness(np.linspace(1, 0, 10)) == pytest.approx(0)
    assert roughness([0, 1] * 5) == pytest.approx(2)
    assert np.isnan(roughness([0.1, 0.2]))


def test_the_curves_claims_are_read_off_the_histories():
    study = open_study(ACTIVATION)
    items = analysis("004.hidden_layer_curves")(study, _history_runs())
    text = "\n".join(i for i in items if isinstance(i, str))
    table = next(i for i in items if isinstance(i, pd.DataFrame))
    assert list(table["val loss lowest at epoch"]) == [5, 5]
    assert "2 of 2 settings end there" in text, "99.75% is the claimed level"
    assert "for 2 of 2 settings the validation loss at the end is above its minimum" in text
    assert "best" not in table.index.get_level_values("setting"), "only Tables I and II"
    levels = [i for i in items if isinstance(i, pd.DataFrame)][1]
    assert list(levels.index) == ["sigmoid", "relu"] and levels.loc["relu", "published test loss"] == 0.032
    assert "still rises over the last 50% of training for 2 of 2 settings" in text
    # relu: loss rises by 0.01·(2e−7)/16 per epoch late on; its test loss 0.0301 → 0.032 is a few epochs
    assert "closing the gap would take about" in text


def _table1_runs(relu_gain: float) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(5):
        shift = rng.normal(0, 3e-4)
        for name, gain, wiggle in (("sigmoid", 0, 1e-4), ("relu", relu_gain, 4e-3),
                                   ("tanh", relu_gain / 2, 1e-3)):
            curve = [0.02 + wiggle * (-1) ** e for e in range(10)]
            rows.append({"group": "Table I", "name": name, "seed": seed,
                         "test_accuracy": 0.997 + shift + gain + rng.normal(0, 2e-5),
                         "history": {"val_loss": curve}})
    return pd.DataFrame(rows)


def test_relu_best_is_supported_only_beyond_seed_noise():
    study = open_study(ACTIVATION)
    clear = "\n".join(i for i in analysis("004.activation_claims")(study, _table1_runs(1e-3))
                      if isinstance(i, str))
    assert "is **supported**" in clear
    assert "is **supported**: same order, each step beyond seed noise" in clear
    tied = "\n".join(i for i in analysis("004.activation_claims")(study, _table1_runs(0.0))
                     if isinstance(i, str))
    assert "relu has the highest test accuracy is **supported**" not in tied


def test_width_claims_test_the_trend_and_the_network_printed_twice():
    study = open_study(WIDTH)
    rows = []
    rng = np.random.default_rng(2)
    for seed in range(5):
        for units in (16, 32, 64, 128):
            rows.append({"group": "Table II", "name": str(units), "hidden": [units], "seed": seed,
                         "test_accuracy": 0.996 + 1e-5 * units + rng.normal(0, 1e-5),
                         "train_time_s": 0.01 * units, "epochs_run": 30})
        rows.append({"group": "best network", "name": "best", "hidden": [300], "seed": seed,
                     "test_accuracy": 0.978, "train_time_s": 80.0, "epochs_run": 80,
                     "history": {"val_accuracy": [0.96, 0.98, 0.97], "val_loss": [0.2, 0.1, 0.15]}})
    text = "\n".join(i for i in analysis("004.width_claims")(study, pd.DataFrame(rows))
                     if isinstance(i, str))
    assert "is **supported**: test accuracy rises with width" in text
    assert "time per epoch on this machine rises with width" in text
    assert "printed as 99.80% and 99.73%" in text and "is beyond that" in text
    assert "16 → 32: +0.01" in text and "64 → 128: +0.06" in text, "each doubling, seed-paired"
    assert "0 of the 3 steps between Table II's neighbouring rows" in text
    assert "validation accuracy peaks at epoch 2 (0.9800)" in text
    assert "0 of our 5 runs reach the published 0.9823" in text


# --- both reports, quick profile -----------------------------------------------------------------

# `project` (tests/conftest.py): every study rendered once with the quick profile.


@pytest.mark.parametrize("experiment, tables", [("activation", ["table1"]),
                                                ("width", ["table2", "best"])])
def test_quick_reports_show_every_published_row(project, experiment, tables):
    html = (project / f"reports/quick/{experiment}/004_fouchier_yang.html").read_text()
    assert "QUICK PREVIEW PROFILE" in html
    assert (project / f"reports/quick/{experiment}/004_fouchier_yang.pdf").read_bytes().startswith(b"%PDF")
    published = load_published(REPO / f"params/published/004_fouchier_yang_{experiment}.yaml")
    for name in tables:
        table = published[name]
        assert table.caption[:40] in html
        key = table.compare.key
        for _, row in table.frame.astype(object).iterrows():
            assert f">{row[key]}<" in html, f"{name} row {row[key]} is in the report"
            for column, spec in table.compare.columns.items():
                assert f"{row[column]:.{spec.digits}f}" in html
    assert "beyond seed noise" in html and "three seeds would resolve" in html
    assert "Figures 3 and 4 in numbers" in html
    assert "def " not in html, "reports show results, not code"


def test_width_report_keeps_the_multiclass_row_apart(project):
    html = (project / "reports/quick/width/004_fouchier_yang.html").read_text()
    assert html.count("<img") == 6, ("Table II's lines at 30 epochs and at the longer reading; "
                                     "curves for Table II, the best network and the longer "
                                     "runs apart; the longer runs' test curves")
    assert "The best multiclass network" in html and "0.9823" in html
    assert "Does accuracy rise with width?" in html and "One network, printed twice" in html


OFFSETS = (-0.001, -0.0005, 0.0, 0.0005, 0.001)  # five seeds: s = 0.00079, PI ± 0.0024


def _longer_runs() -> pd.DataFrame:
    """Table I's three settings trained 9 epochs with test curves: loss rising by 0.005 an
    epoch from 0.01 (0.030 after epoch 5, 0.035 after 6), accuracy flat at 99.75%."""
    longer = [{"group": "longer", "name": f"{name}-150", "label": name, "seed": seed,
               "epochs_run": 9, "hidden": [64], "activation": name,
               "history": {"test_loss": [0.01 + 0.005 * e + offset for e in range(9)],
                           "test_accuracy": [0.9975 + offset] * 9}}
              for name in ("sigmoid", "relu", "tanh") for seed, offset in enumerate(OFFSETS)]
    # sigmoid's 5-epoch runs: the longer ones after epoch 5, but seed 4's differs
    shorter = [{"group": "Table I", "name": "sigmoid", "label": "sigmoid", "seed": seed,
                "epochs_run": 5, "hidden": [64], "activation": "sigmoid", "history": {},
                "test_loss": 0.01 + 0.005 * 4 + offset + (seed == 4)}
               for seed, offset in enumerate(OFFSETS)]
    return pd.DataFrame(longer + shorter)


def test_the_training_length_reading_finds_the_epochs_each_published_pair_fits():
    items = analysis("004.training_length")(open_study(ACTIVATION), _longer_runs())
    table = next(i for i in items if isinstance(i, pd.DataFrame))
    text = "\n".join(i for i in items if isinstance(i, str))
    # sigmoid 0.034: inside after epoch 6 only (|0.035 − 0.034| < 0.0024); relu 0.032 and tanh
    # 0.028 after epoch 5 only; every published accuracy is inside at every epoch.
    assert list(table["both at epochs"]) == ["6", "5", "5"]
    assert list(table["accuracy inside at epochs"]) == ["1–9"] * 3
    assert "At no epoch do all 6 published numbers fall inside together" in text
    assert "the most at once is 5 of 6, after epoch 5" in text
    assert "The middle of the longest such span is epoch 5." in text
    assert "judges the numbers after epoch 127, which these 9-epoch runs do not reach" in text
    assert "4 of 5 longer runs score exactly the test loss of the shorter run" in text
    assert any(type(i).__name__ == "Figure" for i in items), "the test curves are drawn"


def test_one_training_length_for_table_iii_is_tested_row_by_row():
    runs = pd.DataFrame([
        {"group": "today", "name": name, "label": name, "seed": seed, "epochs_run": 9,
         "history": {"test_loss": [start + step * e + offset for e in range(9)],
                     "test_accuracy": [accuracy + offset] * 9,
                     "val_loss": [0.1] * 9, "val_accuracy": [0.9] * 9}}
        for name, start, step, accuracy in (("adam", 0.10, 0.05, 0.9691),
                                            ("sgd", 0.30, -0.02, 0.9528))
        for seed, offset in enumerate(OFFSETS)])
    items = analysis("004.test_epochs")(open_study(P004_OPTIMIZER), runs)
    table = next(i for i in items if isinstance(i, pd.DataFrame))
    text = "\n".join(i for i in items if isinstance(i, str))
    # adam's loss reaches 0.20 after epoch 3; SGD's falls to 0.16 after epoch 8.
    assert list(table["both at epochs"]) == ["3", "8"]
    assert "no single training length fits every row: at most 1 of 2 rows at once, after epochs 3, 8" in text
