"""The optimizer experiment: PyTorch's initialisation and the double softmax as run options,
both studies' joins to their published statements, the curve panels, and the studies'
analyses on synthetic results (no training here; the rendered reports are tested end to end)."""

from __future__ import annotations

import math

import keras
import numpy as np
import pandas as pd
import pytest
import yaml

from mnistlab.notebook.study import open_study
from mnistlab.train.models import build_model
from mnistlab.core.errors import ParamsError
from mnistlab.spec.params import load_params, resolve_runs
from mnistlab.present.plots import curve_panels
from mnistlab.notebook.plugins import analysis
from mnistlab.studies.fouchier_yang_004.optimizer import crossings, reaching_epochs
from mnistlab.studies.mchunu_003 import gradient_ratio, judge

from .conftest import REPO

P003 = REPO / "params/optimizer/003_mchunu.yaml"
P004 = REPO / "params/optimizer/004_fouchier_yang.yaml"


def _run(**options):
    return {"hidden": [64], "activation": ["relu"], "dropout": 0.0, "task": "digits", **options}


def _built(seed=0, **options):
    keras.utils.set_random_seed(seed)
    return build_model(_run(**options))


# --- run options ---------------------------------------------------------------------------

def test_extra_softmax_is_softmax_outputs_fed_to_a_from_logits_cross_entropy():
    x = np.random.default_rng(0).random((16, 784), dtype=np.float32)
    y = np.arange(16) % 10
    plain, twice = _built(), _built(extra_softmax=True)
    p, q = plain(x).numpy(), twice(x).numpy()
    np.testing.assert_allclose(q, keras.ops.softmax(p).numpy(), rtol=1e-6)
    pytorch_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, p)
    ours = keras.losses.SparseCategoricalCrossentropy()(y, q)
    assert float(ours) == pytest.approx(float(pytorch_loss), rel=1e-6)
    assert (q.argmax(1) == p.argmax(1)).all(), "a second softmax keeps every prediction"


def test_pytorch_init_draws_kernels_and_biases_from_plus_minus_one_over_sqrt_fan_in():
    model = _built(init="pytorch")
    for layer, fan_in in zip(model.layers, (784, 64)):
        kernel, bias = (w.numpy() for w in layer.weights)
        bound = fan_in ** -0.5
        assert np.abs(kernel).max() <= bound and np.abs(bias).max() <= bound
        assert kernel.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)  # uniform's sd
        assert np.abs(bias).max() > bound / 2, "biases are drawn, not zero"
    keras_model = _built()
    assert not keras_model.layers[0].weights[1].numpy().any(), "Keras's biases start at zero"
    assert np.abs(keras_model.layers[0].weights[0].numpy()).max() > 784 ** -0.5


def test_without_the_new_options_models_and_run_specs_are_unchanged():
    default, explicit = _built(), _built(init="keras")
    for a, b in zip(default.weights, explicit.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for path in ("params/depth/000_rim_shin.yaml", "params/loss/001_chu.yaml"):
        for run in resolve_runs(load_params(REPO / path)):
            assert "init" not in run and "extra_softmax" not in run, "cache keys unchanged"


def test_extra_softmax_on_a_sigmoid_task_is_refused(tmp_path):
    raw = yaml.safe_load(P003.read_text())
    raw["data"]["task"] = "zero_vs_rest"
    raw["defaults"]["loss"] = "binary_crossentropy"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ParamsError) as error:
        load_params(path)
    assert "configurations[3]" in str(error.value) and "extra_softmax needs a softmax" in str(error.value)


def test_bad_init_names_the_allowed_values(tmp_path):
    raw = yaml.safe_load(P003.read_text())
    raw["defaults"]["init"] = "he"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ParamsError) as error:
        load_params(path)
    assert "defaults.init" in str(error.value) and "'pytorch'" in str(error.value)


# --- synthetic results ---------------------------------------------------------------------

def _fake(path, accuracy, loss, epochs=6):
    """One row per (configuration, seed) with the test scores ``accuracy(run, seed)`` and
    ``loss(run, seed)`` and curves that end there (validation curves with a split)."""
    params = load_params(path)
    rows = []
    for run in resolve_runs(params):
        for seed in params.seeds:
            acc, los = accuracy(run, seed), loss(run, seed)
            ramp = np.linspace(0.5, 1.0, epochs)
            history = {"accuracy": list(acc * ramp), "loss": list(los / ramp)}
            if params.data.validation_split:
                history.update(val_accuracy=list(acc * ramp - 0.001), val_loss=list(los / ramp))
            rows.append({**run, "seed": seed, "test_accuracy": acc, "test_loss": los,
                         "train_loss": los, "history": history})
    return open_study(path, "quick"), pd.DataFrame(rows)


TABLE3 = {"adam": (96.91, 0.20), "rmsprop": (96.72, 0.18), "sgd": (95.28, 0.16),
          "adagrad": (90.24, 0.40), "adadelta": (84.12, 0.83), "adamax": (96.86, 0.08),
          "nadam": (96.76, 0.22), "ftrl": (77.65, 0.95)}


def _table3(run, seed, column):
    """Today's runs land on Table III (± a little); raw runs far below; Keras 2 far above."""
    base = TABLE3[run["name"].split("-")[0]][column]
    offset = {"today": 0.0, "raw": -20.0 if column == 0 else 5.0, "keras2": 5.0 if column == 0
              else -0.05}[run["group"]]
    noise = (seed - 1) * (0.05 if column == 0 else 0.005)
    value = base + offset + noise
    return value / 100 if column == 0 else value


@pytest.fixture(scope="module")
def study004():
    return _fake(P004, lambda r, s: _table3(r, s, 0), lambda r, s: _table3(r, s, 1))


def _statements(run, seed):
    """Softmax twice: SGD just under 50% and the deeper net lower; one softmax: SGD near 88%."""
    once_twice = {"sgd-512": (88.0, 47.5), "adam-512": (97.5, 97.0), "sgd-512-64": (86.0, 30.0),
                  "sgd-512-glorot": (90.0, 48.0)}
    value = once_twice[run["name"].removesuffix("-double")][bool(run.get("extra_softmax"))]
    return (value + 0.3 * (seed - 2)) / 100  # seeds 0-4: the mean is the value


@pytest.fixture(scope="module")
def study003():
    return _fake(P003, _statements, lambda r, s: 0.3)


def test_every_published_row_of_both_studies_is_joined_to_its_seeds(study003, study004):
    for study, results in (study003, study004):
        agreement = study.agreement(results)
        for name, table in study.published.items():
            part = agreement[(agreement["table"] == name) & agreement["published"].notna()]
            assert set(part["row"]) == set(table.frame[table.compare.key].astype(str))
            unchanged = {"adam", "rmsprop", "SGD", "Ftrl"} if name == "keras2_defaults" else set()
            assert (part[part["row"].isin(unchanged)]["n"] == 0).all(), "no runs: same defaults"
            seeds = len(study.params.seeds)
            assert (part[~part["row"].isin(unchanged)]["n"] == seeds).all(), name
    assert "double_softmax" in study003[0].published


def test_curves_use_validation_when_there_is_a_split_and_mark_published_values(study003, study004):
    curves, marks = study004[0].curves(study004[1], ["accuracy", "loss"])
    assert set(curves["source"]) == {"validation"}
    assert set(curves["hue"]) == {"Table III, reading A (today's defaults)", "Table III, reading B (raw pixels)", "Table III, reading C (Keras 2.2 defaults)"}
    adam = marks[(marks["panel"] == "adam") & (marks["metric"] == "accuracy")]
    assert adam["value"].tolist() == [pytest.approx(0.9691)]
    assert adam["label"].tolist() == ["published test value"]
    curves3, marks3 = study003[0].curves(study003[1], ["accuracy", "loss"])
    assert set(curves3["source"]) == {"training"}
    adam3 = marks3[(marks3["panel"] == "3.2") & (marks3["metric"] == "accuracy")]
    assert sorted(adam3["value"]) == [pytest.approx(0.90), pytest.approx(0.95)]
    figure = curve_panels(curves, marks)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert len(visible) == 8 * 2
    adam_accuracy = visible[0]
    assert any(np.allclose(line.get_ydata(), 96.91) for line in adam_accuracy.get_lines()), "in %"
    assert visible[1].get_yscale() == "log", "loss panels span readings on a log axis"


def test_readings_analysis_names_the_reading_that_reproduces_each_row(study004):
    study, results = study004
    items = analysis("004.readings")(study, results)
    verdicts = next(i for i in items if isinstance(i, str) and i.startswith("Readings that"))
    assert "- **adam**: accuracy and loss: *Table III, reading A (today's defaults)*." in verdicts
    assert "- **Adadelata [sic]**: accuracy and loss: *Table III, reading A (today's defaults)*." in verdicts
    assert "*Table III, reading A (today's defaults)*: 8 of 8 rows in both numbers" in items[-1]
    assert "*Table III, reading B (raw pixels)*: 0 of 8" in items[-1]


def test_epochs_and_adamax_analyses_run_on_validation_curves(study004):
    study, results = study004
    epochs = analysis("004.epochs")(study, results)
    table = epochs[2]
    assert ("Table III, reading A (today's defaults)", "adam") in table.index and len(table) == 8 + 8 + 4
    adamax = analysis("004.adamax_loss")(study, results)
    assert "Adamax has the lower loss and the lower accuracy" in adamax[-1].split("\n")[0]


def test_crossings_are_the_epochs_a_curve_reaches_a_value():
    assert crossings([0.5, 0.7, 0.9, 0.95, 0.93], 0.94) == [4, 5]
    assert crossings([2.0, 1.0, 0.5], 3.0) == []
    assert crossings([1.0, 0.8, 0.8], 0.8) == [2, 3]


def test_a_curve_past_the_target_from_the_start_reaches_it_at_epoch_1():
    assert reaching_epochs([0.97, 0.98], 0.96, rising=True) == [1]
    assert reaching_epochs([0.5, 0.97], 0.96, rising=True) == [2]
    assert reaching_epochs([0.10, 0.05], 0.20, rising=False) == [1]
    assert reaching_epochs([0.30, 0.25], 0.20, rising=False) == []


def test_the_epochs_sentence_and_its_table_cell_read_the_same_row(study004):
    """A reading whose curve starts above a published accuracy: the table said "never: above
    throughout" while the sentence beside it said "at epoch 1" (issue 27)."""
    study, results = study004
    high = results.assign(history=results["history"].map(
        lambda h: {**h, "val_accuracy": [0.999] * len(h["val_accuracy"])}))
    items = analysis("004.epochs")(study, high)
    table, text = items[2], items[3]
    cells = table["val. accuracy reaches it at epoch"]
    assert (cells == "1 (past it from the start)").all(), cells.unique()
    assert "never within" not in text
    assert "first reaches the published test accuracy at epoch 1 for every row" in text


def test_judge_reads_a_statement_by_the_single_run_interval():
    assert judge([47.9, 48, 48.1], 45, 50)["verdict"] == "holds"   # [47.5, 48.5]
    assert judge([47.9, 48, 48.1], 45, 50)["chance"] > 0.8
    assert judge([47.5, 48, 48.5], 45, 50)["verdict"] == "undecided"  # [45.5, 50.5]
    far = judge([88, 89, 90], 45, 50)
    assert far["verdict"] == "fails" and far["inside"] == 0 and far["chance"] < 0.01


def test_claims_analysis_picks_the_double_softmax_reading(study003):
    study, results = study003
    items = analysis("003.claims")(study, results)
    readings, table, summary = items[2], items[3], items[4]
    assert readings.loc["3.1", "read in full as"] == "45 to 50"
    assert table.loc[("Sections 3.1-3.3, reading 2 (softmax twice)", "below 50% and less than 3.1"), "in full"] == "holds"
    assert table.loc[("Sections 3.1-3.3, reading 2 (softmax twice)", "slightly less than 50%"), "bound alone"] == "holds"
    assert table.loc[("Sections 3.1-3.3, reading 1 (one softmax)", "slightly less than 50%"), "in full"] == "fails"
    assert table.loc[("Sections 3.1-3.3, reading 1 (one softmax)", "above 95%"), "bound alone"] == "holds"
    assert "*Sections 3.1-3.3, reading 2 (softmax twice)*: the bound of 4 of 4 statements holds, 3 of 4 hold in full" in summary
    assert "(both SGD networks below 50%, Adam above 95%) is reproduced by *Sections 3.1-3.3, reading 2 (softmax twice)*." in summary


def test_a_deeper_network_above_the_shallow_one_fails_the_less_than_clause(study003):
    study, results = study003
    flipped = results.assign(test_accuracy=results.apply(
        lambda r: 0.495 + 0.0005 * r["seed"] if r["name"] == "sgd-512-64-double" else r["test_accuracy"],
        axis=1))
    table = analysis("003.claims")(study, flipped)[3]
    clause = ("Sections 3.1-3.3, reading 2 (softmax twice)", "below 50% and less than 3.1")
    assert table.loc[clause, "bound alone"] == "holds"
    assert table.loc[clause, "in full"] == "fails"
    assert float(table.loc[clause, "P(one run)"]) < 0.5, \
        "the chance of one run reads the whole sentence, as the verdict beside it does"


def test_double_softmax_shrinks_the_initial_gradients_about_tenfold(study003, mnist_dir):
    ratios = gradient_ratio(study003[0], rows=256)
    assert set(ratios) == {"784×512", "512×10"}
    assert all(0.05 < r < 0.15 for r in ratios.values()), ratios


def test_double_softmax_analysis_sets_the_initialisation_beside_the_softmax(study003, mnist_dir):
    items = analysis("003.double_softmax")(*study003)
    table = next(i for i in items if isinstance(i, pd.DataFrame))
    assert list(table.columns) == ["softmax once", "softmax twice"]
    assert table.iloc[0, 0].startswith("88.0 ±") and table.iloc[1, 1].startswith("48.0 ±")
    effects = items[-1]
    assert "Keras's initial weights instead of PyTorch's, softmax once: +2.0" in effects
    assert "the initialisation matters" in effects
    assert "ln(1 + 9/e) = 1.461" in items[2]
