"""Issue 22, a study's analyses serve its variants: an instructor's copy of a params file that
keeps only some configurations still renders its analyses.  An analysis that needs what the
copy left out says so in one line (``MissingRuns``, raised by ``mnistlab.studies.require``);
the others show what they can with the runs there are.

Each study's trimmed copy is trained with a tiny quick profile (two seeds, so that intervals
exist), and its analyses shown as a notebook shows them; smaller trims are slices of those
runs, so that no test trains more than one copy."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import matplotlib
import pandas as pd
import pytest
import yaml

from mnistlab.core import markup
from mnistlab.core.errors import MissingRuns
from mnistlab.notebook import plugins
from mnistlab.notebook.study import Study, open_study
from mnistlab.studies import require

from .conftest import REPO

matplotlib.use("Agg")

TINY = {"train_samples": 600, "test_samples": 300, "max_epochs": 1, "seeds": [0, 1]}


def _trimmed(folder: Path, source: str, keep: list[str], edit=None, **profile) -> Path:
    """A copy of ``params/<source>`` kept outside the project (as a lab hands it out) with
    only the configurations ``keep`` and a tiny quick profile."""
    raw = yaml.safe_load((REPO / "params" / source).read_text())
    raw["configurations"] = [c for c in raw["configurations"] if c["name"] in keep]
    assert [c["name"] for c in raw["configurations"]] == keep
    raw["assumptions"] = [a for a in raw.get("assumptions", [])  # they name dropped indices
                          if not a["key"].startswith("configurations")]
    raw["profiles"] = {"quick": {**TINY, **profile}}
    raw["study"]["published_rows"] = "some"
    if edit:
        edit(raw)
    path = folder / Path(source).name
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return path


def _trained(tmp_path_factory, source: str, keep: list[str], edit=None, **profile
             ) -> tuple[Study, pd.DataFrame]:
    folder = tmp_path_factory.mktemp(Path(source).parent.name)
    study = open_study(_trimmed(folder, source, keep, edit, **profile), "quick")
    from IPython.utils.capture import capture_output

    with capture_output():  # the progress lines
        results = study.run(folder / "results")
    return study, results


def _show(study: Study, results: pd.DataFrame, monkeypatch) -> tuple[dict, list]:
    """What ``study.show_analyses`` displays, and per analysis what it returned (a list) or
    the ``MissingRuns`` it raised."""
    import IPython.display
    import matplotlib.pyplot as plt

    shown, outcome, real = [], {}, plugins.analysis

    def spy(name):
        function = real(name)

        def wrapped(study, results):
            try:
                outcome[name] = function(study, results)
            except MissingRuns as missing:
                outcome[name] = missing
                raise
            return outcome[name]
        return wrapped

    with monkeypatch.context() as patch:
        patch.setattr(plugins, "analysis", spy)
        patch.setattr(IPython.display, "display", lambda *items, **_: shown.extend(items))
        study.show_analyses(results)
    plt.close("all")
    return outcome, shown


def _check(study: Study, results: pd.DataFrame, monkeypatch, left_out: set[str]) -> dict:
    """Every analysis ran without error; exactly ``left_out`` were left out, each with one
    line naming it; the others returned output.  Returns the outcome per analysis."""
    outcome, shown = _show(study, results, monkeypatch)
    assert list(outcome) == list(study.params.analyses)
    assert {name for name, got in outcome.items() if isinstance(got, MissingRuns)} == left_out
    lines = [item.data for item in shown if isinstance(getattr(item, "data", None), str)
             and "is left out" in item.data]
    assert len(lines) == len(left_out)
    for name, line in zip([n for n in outcome if n in left_out], lines):
        assert line.startswith(f"*Analysis {markup.text(name)} is left out: it needs ")
        assert line.endswith(".*") and "\n" not in line, "one line in the report"
        assert markup.text(outcome[name].needs) in line
    for name, got in outcome.items():
        if name not in left_out:
            assert got and any(not isinstance(item, str) or item.startswith("###") for item in got)
    return outcome


def _message(outcome: dict, name: str) -> str:
    return outcome[name].needs


# --- the requirement helper -----------------------------------------------------------------

def _frame() -> pd.DataFrame:
    runs = [("a", "g1", 1), ("b", "g1", 2), ("c", None, 2)]
    return pd.DataFrame([{"name": name, "group": group, "batch_size": batch, "seed": seed,
                          "history": {"loss": [1.0], "accuracy": [0.5]}}
                         for name, group, batch in runs for seed in (0, 1)])


def test_require_passes_when_everything_needed_is_there():
    study = SimpleNamespace(published={"t": object()})
    require(study, _frame(), configurations=["a", "c"], any_configuration=["x", "b"],
            groups=["g1"], any_group=["g9", "g1"], levels={"batch_size": 2, "name": 3},
            curves=["loss"], published=["t"])
    require(study, _frame(), any_configuration=[("a", "b"), ("x", "y")])


def test_require_names_what_is_missing_and_what_the_study_has():
    study = SimpleNamespace(published={"t": object()})
    with pytest.raises(MissingRuns) as raised:
        require(study, _frame(), configurations=["a", "x", "y"], any_group=["basic", "ablation"],
                curves=["val_loss"], published=["t", "u"])
    needs = raised.value.needs
    assert needs.startswith("the configurations x and y, which this study does not run "
                            "(it runs a, b and c)")
    assert ("runs of the group basic or ablation, which this study does not run (its groups: "
            "g1)") in needs
    assert ("the epoch log val_loss, which these runs do not record (they record accuracy and "
            "loss)") in needs
    assert ("the published table u, which this study's published file does not have (it has "
            "t)") in needs
    assert needs.count("; and ") == 3, "one message naming everything missing"
    assert str(raised.value) == "this analysis needs " + needs
    assert isinstance(raised.value, LookupError) and raised.value.exit_code == 1


def test_require_counts_levels_and_pairs():
    one = _frame()[lambda f: f["batch_size"] == 2]
    with pytest.raises(MissingRuns, match=r"runs at 2 or more values of batch size, which this "
                       r"study does not run \(its runs have batch size 2\)"):
        require(None, one, levels={"batch_size": 2})
    with pytest.raises(MissingRuns, match=r"one of the sets of configurations a \+ c or x, "):
        require(None, one, any_configuration=[("a", "c"), "x"])
    with pytest.raises(MissingRuns, match=r"runs of 4 or more configurations, which this study "
                       r"does not run \(it runs a, b and c\)"):
        require(None, _frame(), levels={"name": 4})


def test_require_rows_joins_runs_to_one_published_table():
    study = open_study(REPO / "params/optimizer/004_fouchier_yang.yaml", "quick")
    runs = pd.DataFrame([{"name": name, "group": "today", "seed": 0, "history": {}}
                         for name in ("adam", "sgd")])
    require(study, runs, rows=())
    require(study, runs, rows=("adam", "SGD"))  # the published key, which sgd joins
    with pytest.raises(MissingRuns) as raised:
        require(study, runs, rows=("adam", "adamax"))
    assert raised.value.needs == (
        "runs of the published rows adam and adamax in one table, which this study does not run "
        "(the rows its runs join, by table: today: adam and SGD; raw_inputs: none; "
        "keras2_defaults: none)")


def test_the_facade_shows_one_escaped_line_and_lets_other_errors_through(monkeypatch):
    import IPython.display

    def lacking(study, results):
        raise MissingRuns("the configuration <b>x_1</b>, which this study does not run")

    def broken(study, results):
        raise KeyError("test_loss_mean")

    functions = {"900.lacking": lacking, "900.shown": lambda s, r: ["### shown"],
                 "900.broken": broken}
    shown = []
    monkeypatch.setattr(plugins, "analysis", functions.__getitem__)
    monkeypatch.setattr(IPython.display, "display", lambda *items, **_: shown.extend(items))
    study = SimpleNamespace(params=SimpleNamespace(analyses=["900.lacking", "900.shown"]))
    Study.show_analyses(study, pd.DataFrame())
    assert [item.data for item in shown] == [
        "*Analysis 900.lacking is left out: it needs the configuration &lt;b&gt;x&#95;1&lt;/b&gt;, "
        "which this study does not run.*", "### shown"]
    study.params.analyses = ["900.broken"]
    with pytest.raises(KeyError, match="test_loss_mean"):
        Study.show_analyses(study, pd.DataFrame())


# --- one trimmed copy per study -------------------------------------------------------------

def test_depth_with_two_depths_and_with_one(tmp_path_factory, mnist_dir, monkeypatch):
    study, results = _trained(tmp_path_factory, "depth/000_rim_shin.yaml", ["1", "2"])
    _check(study, results, monkeypatch, set())
    one = _check(study, results[results["name"] == "1"], monkeypatch,
                 {"000.depth_claim", "000.time_trend"})
    assert _message(one, "000.depth_claim") == (
        "runs at 2 or more values of hidden layers, which this study does not run (its runs "
        "have hidden layers 1)")


def test_the_issue_s_loss_variant_the_two_baselines_and_50_dropout_with_rmsprop(
        tmp_path_factory, mnist_dir, monkeypatch):
    def rmsprop(raw):
        raw["defaults"]["optimizer"] = {"name": "rmsprop"}
    study, results = _trained(tmp_path_factory, "loss/001_chu.yaml",
                              ["f4-baseline", "f4-drop50", "f5-baseline", "f5-drop50"], rmsprop)
    outcome = _check(study, results, monkeypatch, {"001.input_scaling"})
    assert _message(outcome, "001.input_scaling").startswith(
        "runs of the group basic or ablation, which this study does not run (its groups: "
        "figure4 and figure5)")
    pairs = outcome["001.loss_pairing"][2]
    assert set(pairs.index) == {"Baseline", "Increasing Dropout to 50%"}
    twins = outcome["001.twin_deltas"][2]
    assert twins.loc["Increasing Dropout to 50%", "Figure 5 verdict"] != "–"
    assert twins.loc["Decrease Neurons in 1st layer", "Figure 5 verdict"] == "–", "not run here"
    only4 = _check(study, results[results["group"] == "figure4"], monkeypatch,
                   {"001.input_scaling", "001.loss_pairing", "001.twin_deltas"})
    assert "runs of the group figure5" in _message(only4, "001.loss_pairing")
    unpaired = results[results["name"].isin(["f4-baseline", "f5-drop50"])]
    outcome = _check(study, unpaired, monkeypatch, {"001.input_scaling", "001.loss_pairing"})
    assert _message(outcome, "001.loss_pairing").startswith(
        "a figure4 configuration and its figure5 twin (the same label)")


def test_function_fit_with_models_1_and_2(tmp_path_factory, mnist_dir, monkeypatch):
    def shorter(raw):
        raw["defaults"]["passes_per_epoch"] = 50
        raw["defaults"]["probes"]["critical"]["steps"] = 1
    study, results = _trained(tmp_path_factory, "function_fit/002_abhinav.yaml",
                              ["model1", "model2"], shorter, train_samples=100, test_samples=100)
    outcome = _check(study, results, monkeypatch, set())
    lines = outcome["002.equal_size"][-1].split("\n")
    assert len(lines) == 2 and lines[0].startswith("- **Depth, equal size")
    assert lines[1].startswith("- The study concludes that more layers fit better (supported")
    assert lines[1].endswith("at the 5% level).")
    one = _check(study, results[results["name"] == "model1"], monkeypatch, {"002.equal_size"})
    assert _message(one, "002.equal_size").startswith(
        "one of the sets of configurations model2 + model1, model2 + model1_300, "
        "model3_tanh + model3 or model2 + model3, which this study does not run (it runs model1)")


def test_dynamics_with_models_1_and_3(tmp_path_factory, mnist_dir, monkeypatch):
    study, results = _trained(tmp_path_factory, "dynamics/002_abhinav.yaml", ["model1", "model3"],
                              max_epochs=2)
    outcome = _check(study, results, monkeypatch, {"002.dynamics"})
    assert _message(outcome, "002.dynamics") == (
        "the configuration gd_relu, which this study does not run (it runs model1 and model3)")
    claims = outcome["002.model_pairs"][-1].split("\n")
    assert len(claims) == 1 and "Model 3's test accuracy is" in claims[0], "1 against 3 only"
    assert len(outcome["002.model_pairs"][-2]) == 2, "one table row per model run"
    outcome = _check(study, results[results["name"] == "model1"], monkeypatch,
                     {"002.model_pairs", "002.dynamics"})
    assert _message(outcome, "002.model_pairs") == (
        "one of the configurations model2 or model3, which this study does not run (it runs "
        "model1)")


def test_optimizer_003_with_section_3_1_only(tmp_path_factory, mnist_dir, monkeypatch):
    study, results = _trained(tmp_path_factory, "optimizer/003_mchunu.yaml",
                              ["sgd-512", "sgd-512-double"])
    outcome = _check(study, results, monkeypatch, set())
    table, summary = outcome["003.claims"][3], outcome["003.claims"][4]
    assert set(table.index.get_level_values("statement")) == {"slightly less than 50%"}
    assert "is not judged: no reading has runs of all of sections 3.1, 3.2, 3.3." in summary
    outcome = _check(study, results[results["name"] == "sgd-512-double"], monkeypatch,
                     {"003.double_softmax"})
    assert _message(outcome, "003.double_softmax").startswith("the configuration sgd-512, which")


def test_activation_with_relu_and_tanh(tmp_path_factory, mnist_dir, monkeypatch):
    study, results = _trained(tmp_path_factory, "activation/004_fouchier_yang.yaml",
                              ["relu", "tanh"], max_epochs=2)
    outcome = _check(study, results, monkeypatch, {"004.training_length"})
    assert outcome["004.activation_claims"][2].startswith("- relu − tanh: ")
    assert "both others" not in outcome["004.activation_claims"][1]
    assert _message(outcome, "004.training_length").startswith("runs of the group longer")
    outcome = _check(study, results[results["name"] == "tanh"], monkeypatch,
                     {"004.activation_claims", "004.training_length"})
    assert _message(outcome, "004.activation_claims") == (
        "the configuration relu, which this study does not run (it runs tanh); and runs of 2 or "
        "more configurations, which this study does not run (it runs tanh)")


def test_width_with_16_and_32_units(tmp_path_factory, mnist_dir, monkeypatch):
    study, results = _trained(tmp_path_factory, "width/004_fouchier_yang.yaml", ["16", "32"],
                              max_epochs=2)
    outcome = _check(study, results, monkeypatch, {"004.training_length"})
    assert "From 16 to 32 units" in outcome["004.width_claims"][1]
    outcome = _check(study, results[results["name"] == "16"], monkeypatch,
                     {"004.width_claims", "004.training_length"})
    assert _message(outcome, "004.width_claims").startswith("runs at 2 or more values of units")


def test_batch_size_without_the_whole_split(tmp_path_factory, mnist_dir, monkeypatch):
    study, results = _trained(tmp_path_factory, "batch_size/004_fouchier_yang.yaml",
                              ["100", "1000"], max_epochs=3)
    outcome = _check(study, results, monkeypatch, set())
    claims = outcome["004.figure2_claims"][2].data
    assert "batch size 36,000 (the whole training split)" in claims, "the study's size, not ours"
    outcome = _check(study, results[results["name"] == "100"], monkeypatch,
                     {"004.figure2_claims"})
    assert _message(outcome, "004.figure2_claims").startswith(
        "runs at 2 or more values of batch size")


def test_optimizer_004_with_adam_and_adamax(tmp_path_factory, mnist_dir, monkeypatch):
    study, results = _trained(tmp_path_factory, "optimizer/004_fouchier_yang.yaml",
                              ["adam", "adamax"])
    outcome = _check(study, results, monkeypatch, set())
    assert list(outcome["004.readings"][2].index) == ["adam", "adamax"], "only the rows run"
    outcome = _check(study, results[results["name"] == "adam"], monkeypatch,
                     {"004.adamax_loss"})
    assert _message(outcome, "004.adamax_loss").startswith(
        "runs of the published rows adam and adamax in one table")
