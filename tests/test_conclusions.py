"""Every claim a conclusion makes flips when synthetic data built to flip it are fed in."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from mnistlab.present import conclusions
from mnistlab.spec.published import PublishedTable
from mnistlab.studies.chu_001 import _equivalence, _scaling_verdict
from mnistlab.studies.rim_shin_000 import depth_claim, time_trend
from mnistlab.analysis.stats import paired_difference


def _depth_runs(accuracy_slope: float, time_slope: float) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for layers in range(1, 7):
        for seed in range(3):
            rows.append({"hidden": [50] * layers, "seed": seed, "epochs_run": 5,
                         "test_accuracy": 0.95 + accuracy_slope * layers + rng.normal(0, 1e-4),
                         "train_cpu_s": 10 + time_slope * layers + rng.normal(0, 0.01)})
    return pd.DataFrame(rows)


def _study(**tables) -> SimpleNamespace:
    return SimpleNamespace(published={name: PublishedTable(name, "", frame)
                                      for name, frame in tables.items()})


@pytest.mark.parametrize("slope, verdict", [(0.002, "is **not supported**"),
                                            (-0.002, "is **supported**"),
                                            (0.0, "is **supported**")])
def test_the_depth_claim_follows_the_accuracy_trend(slope, verdict):
    text = "\n".join(depth_claim(_study(), _depth_runs(slope, 1.0)))
    assert verdict in text and "Spearman ρ" in text


@pytest.mark.parametrize("time_slope, published_times, ours, theirs", [
    (1.0, [1, 2, 3, 4, 5, 6], "rises", "rises"),
    (-1.0, [6, 5, 4, 3, 2, 1], "falls", "falls"),
    (1.0, [3, 1, 2, 3, 1, 2], "rises", "no significant")])
def test_the_time_trend_is_worded_by_each_side_s_test(time_slope, published_times, ours, theirs):
    published = pd.DataFrame({"hidden_layers": range(1, 7), "training_time_s": published_times})
    lines = time_trend(_study(table1=published), _depth_runs(0.0, time_slope))
    assert theirs in lines[1] and ours in lines[2].split("the cleaner figure")[0]


def test_the_agreement_sentence_counts_the_verdicts_its_cells_show():
    frame = pd.DataFrame({"table": ["t"] * 3 + ["u"] * 2, "published": [1.0, 2.0, np.nan, 3.0, 4.0],
                          "verdict": ["inside", "far", "", "explained", "holds"],
                          "reading": ["", "", "", "as written", "as written"],
                          "primary": [True] * 5, "explained_by": ["", "", "", "raw <pixels>", ""]})
    text = conclusions.agreement_summary(frame, {"u": "Table 2"})
    assert "- **t**: 2 published numbers: 1 inside, 1 far." in text
    assert ("- **Table 2** (the study as written: counted on the scorecard): 2 published "
            "numbers: 1 holds, 1 explained; explained by the reading *raw &lt;pixels&gt;*.") in text


@pytest.mark.parametrize("loss, accuracy, word", [(35.0, 0.92, "reproduces"),
                                                  (0.27, 0.92, "does not reproduce"),
                                                  (36.0, 0.50, "does not reproduce")])
def test_the_input_scaling_verdict(loss, accuracy, word):
    row = pd.Series({"label": "x", "test_loss_mean": loss, "test_loss_ci": 1.0, "test_loss_n": 3,
                     "test_accuracy_mean": accuracy, "test_accuracy_ci": 0.01, "seeds": 3})
    text = _scaling_verdict(row, pd.Series({"loss": 35.08, "accuracy": 0.91}))
    assert f": {word} the published loss" in text


@pytest.mark.parametrize("gap, claim", [(0.0, "is not supported"), (0.01, "needs a closer look")])
def test_the_sparse_better_claim_follows_the_paired_differences(gap, claim):
    rows = []
    for label in ("a", "b", "c"):
        for seed in range(3):
            base = 0.97 + 0.001 * seed
            rows += [{"group": "figure4", "label": label, "seed": seed, "test_accuracy": base,
                      "test_loss": 0.1},
                     {"group": "figure5", "label": label, "seed": seed,
                      "test_accuracy": base + gap + 1e-4 * seed, "test_loss": 0.1}]
    results = pd.DataFrame(rows)
    published = pd.DataFrame({"description": ["a", "b", "c"], "accuracy": [0.97, 0.97, 0.98]})
    study = _study(figure4=published, figure5=published)
    accuracy = paired_difference(results, "group", "figure5", "figure4", "test_accuracy")
    loss = paired_difference(results, "group", "figure5", "figure4", "test_loss")
    assert claim in _equivalence(loss, accuracy, results, study)


def test_figure5_differences_are_set_beside_their_figure4_twins():
    """Our runs: every setting's test loss 0.072 ± seed noise, Δ ≈ 0; Figure 5's −0.011 rows
    are then far, and the section names them with their Figure 4 twins' printed Δ."""
    from mnistlab.notebook.plugins import analysis
    from mnistlab.notebook.study import open_study
    from mnistlab.spec.params import load_params, resolve_runs

    from .conftest import REPO

    path = REPO / "params/loss/001_chu.yaml"
    rows = [{**run, "seed": seed, "test_loss": 0.072 + 0.0004 * (seed - 2),
             "test_accuracy": 0.979 + 0.0002 * (seed - 2), "history": {}}
            for run in resolve_runs(load_params(path)) for seed in range(5)]
    items = analysis("001.twin_deltas")(open_study(path), pd.DataFrame(rows))
    table = next(i for i in items if isinstance(i, pd.DataFrame))
    text = items[-1]
    assert table.loc["Decrease Neurons in 1st layer", "Figure 5 − Figure 4"] == "-0.012"  # −0.011 against +0.001
    assert table.loc["Decrease Neurons in 1st layer", "Figure 5 verdict"] == "far"
    assert "disagree by up to 0.017" in text, "Increasing number of layers: +0.005 against +0.017"
    assert "Figure 5's are 0.0064 lower on average" in text
    assert "its baseline run prints 0.079 against Figure 4's 0.073" in text
    assert "(Decrease Neurons in 1st layer: -0.011; " in text
    assert "not repeated by the study's own Figure 4 twins (+0.001; " in text
