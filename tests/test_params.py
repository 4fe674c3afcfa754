"""One schema: bad params are refused before any kernel starts, naming file, key, value, choices."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mnistlab.lab import open_study
from mnistlab.params import ParamsError, load_params, profile_settings, published_path, resolve_runs
from mnistlab.runner import discover, validate

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


def test_cli_unknown_experiment_lists_the_known_ones():
    result = subprocess.run([sys.executable, "-m", "mnistlab", "run", "depht", "--profile", "quick"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "depth" in result.stderr and "depht" in result.stderr


def test_a_params_copy_kept_elsewhere_still_finds_its_published_tables(tmp_path):
    copy = tmp_path / "my_lab.yaml"
    copy.write_text(DEPTH.read_text())
    assert published_path(copy, load_params(copy)) == REPO / "params/published/000_rim_shin.yaml"
    assert set(open_study(copy).published) == {"table1", "table2"}
