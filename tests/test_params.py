"""One schema: bad params are refused before any kernel starts, naming file, key, value, choices."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mnistlab.notebook.study import open_study
from mnistlab.core.errors import ParamsError
from mnistlab.spec.params import load_params, profile_settings, published_path, resolve_runs
from mnistlab.pipeline.runner import Job, discover, validate

from .conftest import REPO

DEPTH = REPO / "params/depth/000_rim_shin.yaml"


def _edited(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load(DEPTH.read_text())
    edit(raw)
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _error(path: Path) -> str:
    with pytest.raises(ParamsError) as error:
        load_params(path)
    return str(error.value)


def test_every_committed_params_file_is_valid():
    jobs = discover(REPO)
    assert {job.experiment for job in jobs} >= {"depth"}
    validate(jobs)


def test_every_study_the_scorecard_judges_runs_five_seeds_or_more_on_the_full_profile():
    """Three seeds put a single run's interval at ± 5.0 standard deviations, which accepts
    almost anything; five put it at ± 3.0 (docs/reports.md)."""
    for job in discover(REPO):
        study = open_study(job.params_path)
        if any(table.compare is not None for table in study.published.values()):
            seeds = profile_settings(study.params, "full")["seeds"]
            assert len(seeds) >= 5, f"{job.study} ({job.experiment}): {len(seeds)} seeds"


def test_typo_in_a_key_names_it_and_lists_the_allowed_keys(tmp_path):
    path = _edited(tmp_path, lambda raw: raw["defaults"].update(batch_sise=raw["defaults"].pop("batch_size")))
    message = _error(path)
    assert str(path) in message
    assert "defaults.batch_sise" in message and "unknown key" in message
    assert "batch_size" in message.split("allowed keys:")[1]


def test_bad_optimizer_name_lists_the_allowed_optimizers(tmp_path):
    path = _edited(tmp_path, lambda raw: raw["defaults"]["optimizer"].update(name="adamw"))
    message = _error(path)
    assert "defaults.optimizer.name" in message and "'adamw'" in message
    for allowed in ("sgd", "adam", "rmsprop", "nadam"):
        assert f"'{allowed}'" in message


def test_negative_batch_size_is_out_of_range(tmp_path):
    path = _edited(tmp_path, lambda raw: raw["configurations"][3].update(batch_size=-32))
    message = _error(path)
    assert "configurations[3].batch_size" in message and "-32" in message
    assert "greater than or equal to 1" in message


def test_wrong_type_is_refused_not_coerced(tmp_path):
    path = _edited(tmp_path, lambda raw: raw["defaults"].update(epochs="50"))
    assert "defaults.epochs" in _error(path)


def test_assumption_must_name_a_real_key(tmp_path):
    path = _edited(tmp_path, lambda raw: raw["assumptions"].append(
        {"key": "defaults.momentum", "reason": "not a key of this file at all"}))
    assert "defaults.momentum" in _error(path)


def test_missing_required_setting_names_the_configuration(tmp_path):
    path = _edited(tmp_path, lambda raw: raw["defaults"].pop("loss"))
    message = _error(path)
    assert "configurations[0]" in message and "loss" in message


def test_fewer_than_three_seeds_is_refused(tmp_path):
    assert "seeds" in _error(_edited(tmp_path, lambda raw: raw.update(seeds=[0])))


def test_profiles_and_defaults_merge():
    params = load_params(DEPTH)
    runs = resolve_runs(params)
    assert runs[0]["optimizer"] == {"name": "adam", "learning_rate": 0.001}
    assert runs[9]["activation"] == ["relu"] * 10
    assert profile_settings(params, "full")["max_epochs"] is None
    assert profile_settings(params, "quick")["max_epochs"] == 2


def test_cli_refuses_a_bad_file_with_exit_code_2(tmp_path):
    path = _edited(tmp_path, lambda raw: raw["defaults"]["optimizer"].update(name="adamw"))
    result = subprocess.run([sys.executable, "-m", "mnistlab", "validate", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "adamw" in result.stderr


@pytest.mark.parametrize("module", ["mnistlab", "mnistlab.pipeline.queue_bench"])
def test_cli_refuses_no_workers_with_exit_code_2(module):
    command = [sys.executable, "-m", module] + (["report"] if module == "mnistlab" else
                                               ["--executor", "dask"])
    result = subprocess.run(command + ["--jobs", "0"], capture_output=True, text=True)
    assert result.returncode == 2 and "at least 1 worker process, got 0" in result.stderr


def test_cli_unknown_experiment_lists_the_known_ones():
    result = subprocess.run([sys.executable, "-m", "mnistlab", "run", "depht", "--profile", "quick"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "depth" in result.stderr and "depht" in result.stderr


def test_a_params_copy_kept_elsewhere_still_finds_its_published_tables(tmp_path):
    copy = tmp_path / "my_lab.yaml"
    copy.write_text(DEPTH.read_text())
    assert published_path(copy, load_params(copy)) == REPO / "params/published/000_rim_shin.yaml"
    assert set(open_study(copy).published) == {"table1", "table2"}


def test_optimizer_options_are_keras_arguments_validated_per_optimizer(tmp_path):
    good = _edited(tmp_path, lambda raw: raw["configurations"][0].update(
        optimizer={"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True}))
    assert resolve_runs(load_params(good))[0]["optimizer"] == {
        "name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True}
    wrong = _edited(tmp_path, lambda raw: raw["configurations"][1].update(
        optimizer={"name": "adam", "momentum": 0.9}))
    message = _error(wrong)
    assert "configurations[1].optimizer.momentum" in message and "unknown key" in message
    assert "beta_1" in message, "the allowed keys are Adam's"
    out_of_range = _edited(tmp_path, lambda raw: raw["defaults"].update(
        optimizer={"name": "rmsprop", "rho": 1.5}))
    assert "defaults.optimizer.rho" in _error(out_of_range)


def test_every_optimizer_option_is_a_keyword_of_its_keras_class():
    import inspect

    from mnistlab.train.models import OPTIMIZERS
    from mnistlab.spec.params import OPTIMIZER_SPECS

    assert {spec.model_fields["name"].annotation.__args__[0] for spec in OPTIMIZER_SPECS} == set(OPTIMIZERS)
    for spec in OPTIMIZER_SPECS:
        name = spec.model_fields["name"].annotation.__args__[0]
        accepted = inspect.signature(OPTIMIZERS[name]).parameters
        assert set(spec.model_fields) - {"name"} <= set(accepted), name


def test_unknown_kind_analysis_and_a_hessian_too_big_are_refused(tmp_path):
    kind = _edited(tmp_path, lambda raw: raw["configurations"][2].update(kind="cnn"))
    assert "configurations[2].kind" in _error(kind) and "mlp" in _error(kind)
    hessian = _edited(tmp_path, lambda raw: raw["defaults"].update(probes={"hessian": True}))
    assert "at most 5000 weights" in _error(hessian)


def test_seeds_must_be_valid_numpy_seeds(tmp_path):
    assert "seeds[0]" in _error(_edited(tmp_path, lambda raw: raw.update(seeds=[-1, 1, 2])))
    assert "seeds[2]" in _error(_edited(tmp_path, lambda raw: raw.update(seeds=[0, 1, 2**32])))


def test_analysis_names_are_checked_by_the_pipeline_not_the_schema(tmp_path):
    """The schema loads no study code; the pipeline's validation resolves the plugins."""
    path = _edited(tmp_path, lambda raw: raw.update(analyses=["000.nope", "999.x"]))
    load_params(path)
    with pytest.raises(ParamsError) as error:
        validate([Job("", path, Path())])
    message = str(error.value)
    assert "key 'analyses'" in message and "'000.nope'" in message
    assert "000.depth_claim" in message and "no study '999'" in message


def test_the_training_digest_covers_spec_and_train_only(tmp_path, monkeypatch):
    """A file of ``train`` or ``spec`` changes the key of every run; one of ``core`` or
    ``present`` (a path constant, a plot) retrains nothing."""
    import shutil

    import mnistlab
    from mnistlab.train import code

    copy = tmp_path / "mnistlab"
    shutil.copytree(Path(mnistlab.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(code, "PACKAGE_DIR", copy)
    before = code.training_digest()
    for layer in ("core", "present", "analysis", "pipeline"):
        (copy / layer / "paths_moved.py").write_text("X = 1\n")
    assert code.training_digest() == before
    (copy / "spec" / "published.py").write_text("# how numbers are judged\n", encoding="utf-8")
    assert code.training_digest() == before
    (copy / "train" / "models.py").write_text("# edited\n", encoding="utf-8")
    assert code.training_digest() != before
