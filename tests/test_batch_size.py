"""The batch-size experiment: curve statistics, its table and figure, and study 004's claims
decided by the numbers (synthetic curves, so each verdict is known in advance)."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest

from mnistlab.analysis import curves
from mnistlab.present import tables
from mnistlab.present import plots
from mnistlab.spec.published import load_published
from mnistlab.notebook.plugins import analysis
from mnistlab.studies.fouchier_yang_004.batch_size import claims
from mnistlab.train.training import prepare_arrays, train_run

from .conftest import REPO

matplotlib.use("Agg")

SIZES = [1, 10, 30, 100, 1000, 10000, 36000]
ROWS = 36000
EPOCHS = 100


def test_roughness_tells_a_zigzag_from_a_steady_descent():
    epochs = np.arange(100)
    steady = 0.6 * np.exp(-epochs / 40)              # large epoch-to-epoch changes, smooth
    zigzag = 0.03 + 0.002 * (-1.0) ** epochs         # small changes, rough
    assert np.mean(np.abs(np.diff(steady))) > np.mean(np.abs(np.diff(zigzag)))
    assert curves.roughness(steady) < curves.roughness(zigzag) / 10
    assert curves.roughness([1.0, 2.0, 3.0, 4.0]) == 0
    assert np.isnan(curves.roughness([1.0, 2.0]))


def test_reversals_slope_and_last_change():
    assert curves.reversals([3, 2, 1, 0]) == 0
    assert curves.reversals([0, 1, 0, 1, 0]) == 1
    assert curves.reversals([3, 2, 1, 2, 3]) == pytest.approx(1 / 3)
    assert curves.slope(np.arange(10) * 0.5) == pytest.approx(0.5)
    assert curves.slope([5, 4, 3, 2, 1, 5, 6, 7, 8, 9]) == pytest.approx(1.0)  # second half only
    assert curves.last_change(np.linspace(1.0, 0.5, 101)) == pytest.approx(0.5 / 0.55 - 1)


def test_run_statistics_count_updates_and_the_best_epoch():
    history = {"loss": [0.5, 0.4, 0.3], "accuracy": [0.9, 0.95, 0.97],
               "val_loss": [0.4, 0.2, 0.3], "val_accuracy": [0.92, 0.96, 0.95]}
    stats = curves.run_statistics(history, batch_size=10000, rows=36000)
    assert stats["steps_per_epoch"] == 4, "three full batches and one of 6000, as fit makes"
    assert stats["updates"] == 12 and stats["updates_to_best"] == 8
    assert stats["best_val_epoch"] == 2 and stats["val_loss"] == 0.3
    assert stats["first_val_accuracy"] == 0.92 and stats["val_accuracy"] == 0.95


def test_curve_statistics_need_validation_curves():
    with pytest.raises(ValueError, match="validation_split"):
        curves.run_statistics({"loss": [1.0], "accuracy": [0.5]}, 32, 1000)


def test_training_rows_follow_the_validation_cut():
    assert curves.training_rows(3000, 0.4) == 1800
    assert curves.training_rows(60_000, 0.4) == 36000


def _history(batch: int, seed: int, paper_like: bool) -> dict[str, list[float]]:
    """Curves shaped as Section V.A describes them (``paper_like``), or the opposite: the
    smallest batch then behaves as the largest and the other way round."""
    rng = np.random.default_rng(seed * 100 + SIZES.index(batch))
    rank = SIZES.index(batch) if paper_like else len(SIZES) - 1 - SIZES.index(batch)
    e = np.arange(1, EPOCHS + 1)
    noise = 0.004 / (rank + 1) ** 2
    if rank == len(SIZES) - 1:      # slow, smooth, still falling: the whole split
        val_loss = 0.17 + 0.45 * np.exp(-e / 35)
        val_acc = 0.955 + rng.normal(0, 0.005) - 0.17 * np.exp(-e / 35)
        train_acc = val_acc - 0.002
    else:                            # fast, then over-fitting sooner the smaller the batch
        best = 3 + 15 * rank
        val_loss = 0.027 + 0.0002 * np.abs(e - best) + 0.3 * np.exp(-e * (6 - rank) / 3)
        val_acc = 0.991 - 0.00002 * np.maximum(e - best, 0) - 0.2 * np.exp(-e * (6 - rank) / 3)
        train_acc = val_acc + 0.00004 * np.maximum(e - best, 0)
    val_loss = val_loss + rng.normal(0, noise, EPOCHS)
    val_acc = val_acc + rng.normal(0, noise / 4, EPOCHS)
    return {"loss": list(val_loss * 0.9), "accuracy": list(train_acc),
            "val_loss": list(val_loss), "val_accuracy": list(val_acc)}


def _results(paper_like: bool = True) -> pd.DataFrame:
    rows = []
    for batch in SIZES:
        for seed in (0, 1, 2):
            history = _history(batch, seed, paper_like)
            rows.append({"name": str(batch), "batch_size": batch, "seed": seed,
                         "group": "main", "epochs_run": EPOCHS, "train_time_s": 10.0 + seed,
                         "history": history,
                         "test_accuracy": history["val_accuracy"][-1] + 0.001,
                         "test_loss": history["val_loss"][-1] * 0.95})
    return curves.with_statistics(pd.DataFrame(rows), ROWS)


def test_table_has_every_batch_size_and_statistic():
    table = tables.curve_statistics(_results(), by="batch_size")
    assert list(table.columns) == SIZES
    assert table.loc["updates per run", 1] == "3,600,000"
    assert table.loc["updates per run", 36000] == "100"
    assert table.loc["seeds"].tolist() == ["3"] * len(SIZES)
    assert all(" ± " in cell for cell in table.loc["val accuracy (%)"])


def test_grid_has_an_accuracy_and_a_loss_panel_per_batch_size():
    figure = plots.curve_grid(_results(), by="batch_size")
    panels = [(ax.get_title(), ax.get_ylabel()) for ax in figure.axes
              if ax.get_visible() and ax.axison]
    for batch in SIZES:  # the metric is each panel's y-label, accuracy in % as in the tables
        assert (f"batch size {batch}", "accuracy (%)") in panels
        assert (f"batch size {batch}", "loss") in panels
    assert len(panels) == 2 * len(SIZES)
    matplotlib.pyplot.close(figure)


def test_the_published_accuracy_is_drawn_on_the_panel_it_describes():
    """Study 004's "around 95%" (its published file, not the plotting code) is a labelled line
    on the accuracy panel of batch 36000 and nowhere else."""
    from matplotlib.colors import to_hex

    results = _results()
    published = load_published(REPO / "params/published/004_fouchier_yang_batch_size.yaml")
    marks = plots.published_marks(results, published.values(), by="batch_size")
    figure = plots.curve_grid(results, by="batch_size", marks=marks)
    lines = {(ax.get_title(), ax.get_ylabel()): [line.get_ydata()[0] for line in ax.get_lines()
                                                 if to_hex(line.get_color()) == plots.PUBLISHED]
             for ax in figure.axes if ax.axison}
    assert lines.pop(("batch size 36000", "accuracy (%)")) == [95.0]
    assert not any(lines.values()), "no other panel has a published line"
    legend = [text.get_text() for ax in figure.axes if ax.get_legend()
              for text in ax.get_legend().get_texts()]
    assert "published validation accuracy: 95%" in legend
    matplotlib.pyplot.close(figure)


def _verdicts(results: pd.DataFrame) -> list[str]:
    published = load_published(REPO / "params/published/004_fouchier_yang_batch_size.yaml")
    return claims(SimpleNamespace(published=published), results)["verdict"].tolist()


def test_claims_are_decided_by_the_numbers():
    supported = _verdicts(_results(paper_like=True))
    reversed_ = _verdicts(_results(paper_like=False))
    assert len(supported) == len(reversed_) == 9
    # 2: over-fitting sooner, 3: quick accuracy, 4: ≈95%, 5: not converged, 7: smoother.
    for index in (1, 2, 3, 4, 6):
        assert supported[index] == "supported", (index, supported)
        assert reversed_[index] != "supported", (index, reversed_)


def test_the_analysis_is_registered_and_shows_the_claims():
    published = load_published(REPO / "params/published/004_fouchier_yang_batch_size.yaml")
    shown = analysis("004.figure2_claims")(SimpleNamespace(published=published), _results())
    html = next(item.data for item in shown if hasattr(item, "data"))
    assert "Training and validation accuracy diverge" in html and "verdict" in html
    assert any(isinstance(item, str) and "claims are supported" in item for item in shown)


@pytest.mark.parametrize("batch_size", [1, 7])
def test_compiled_engine_matches_fit_at_tiny_batches(mnist_dir, batch_size):
    # Batch 1 (every image its own update) and a batch leaving a partial last one, with the
    # per-epoch validation the experiment reads.
    arrays = prepare_arrays("zero_vs_rest", "unit", "unit", 200, 100, 0.4)
    run = {"name": "t", "hidden": [], "activation": [], "dropout": 0.0,
           "loss": "binary_crossentropy", "optimizer": {"name": "adam"},
           "batch_size": batch_size, "epochs": 2, "train_inputs": "unit", "test_inputs": "unit",
           "task": "zero_vs_rest"}
    plain = train_run(run, seed=0, arrays=arrays, engine="plain")
    fast = train_run(run, seed=0, arrays=arrays)
    for key, values in plain["history"].items():
        assert fast["history"][key] == pytest.approx(values, rel=1e-5), key
    assert fast["test_loss"] == pytest.approx(plain["test_loss"], rel=1e-5)
