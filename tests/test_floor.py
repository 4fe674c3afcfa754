"""The FLOP floor of ``make bench``: hand-computed FLOPs of run specs, and the per-study table
on stand-in runs with an injected matmul rate (no training, no TensorFlow, no measurement)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from mnistlab.analysis.floor import run_flops, split_rows
from mnistlab.pipeline.floor import StudyFloor, cached_result, render_floor, study_floor
from mnistlab.spec.params import load_params, resolve_runs

from .conftest import REPO

W_784_50_10 = 784 * 50 + 50 * 10  # multiply-adds per sample, biases left out


def _digits(hidden: list[int], **extra) -> dict:
    return {"name": "r", "task": "digits", "hidden": hidden, **extra}


def test_a_784_50_10_run_is_six_flops_per_weight_per_sample_per_epoch():
    assert run_flops(_digits([50]), epochs_run=2, train_rows=1000) == 6 * W_784_50_10 * 1000 * 2


def test_validation_adds_a_forward_pass_over_its_rows_each_epoch():
    assert run_flops(_digits([50]), 2, 1000, validation_rows=250) \
        == 6 * W_784_50_10 * 1000 * 2 + 2 * W_784_50_10 * 250 * 2


def test_passes_per_epoch_multiply_the_training_samples_not_the_validation():
    once = run_flops(_digits([50]), 2, 1000)
    assert run_flops(_digits([50], passes_per_epoch=2), 2, 1000) == 2 * once
    assert run_flops(_digits([50], passes_per_epoch=2), 2, 1000, 250) \
        == 2 * once + 2 * W_784_50_10 * 250 * 2


def test_the_epochs_run_count_not_the_epochs_asked_for():
    stopped = _digits([50], epochs=100)
    assert run_flops(stopped, 3, 1000) == 6 * W_784_50_10 * 1000 * 3


def test_a_single_neuron_and_a_deep_net_count_their_own_layers():
    assert run_flops({"task": "zero_vs_rest", "hidden": []}, 1, 10) == 6 * 784 * 10
    assert run_flops(_digits([50] * 3), 1, 1) == 6 * (784 * 50 + 2 * 50 * 50 + 50 * 10)


def test_the_function_fit_study_counts_one_input_and_one_output():
    """Study 002's sin(5πx)/(5πx): 1-220-1 (440 multiply-adds), 500 points, 1000 passes."""
    path = REPO / "params" / "function_fit" / "002_abhinav.yaml"
    params = load_params(path)
    model1 = next(run for run in resolve_runs(params) if run["name"] == "model1")
    assert model1["hidden"] == [220] and model1["passes_per_epoch"] == 1000
    rows = split_rows(model1["task"], params.data.train_samples, params.data.validation_split)
    assert rows == (500, 0)
    assert run_flops(model1, 20, *rows) == 6 * (1 * 220 + 220 * 1) * 500 * 1000 * 20


def test_rows_are_cut_as_the_trainer_cuts_them():
    assert split_rows("digits", None, 0.0) == (60000, 0)
    assert split_rows("zero_vs_rest", None, 0.4) == (36000, 24000)
    assert split_rows("digits", 1000, 0.25) == (750, 250)
    assert split_rows("sinc_5pi", None, 0.0) == (1000, 0)  # the function's default grid


def _task(hidden: list[int], train_samples: int | None = 1000, split: float = 0.0):
    return SimpleNamespace(run=_digits(hidden), settings={"train_samples": train_samples},
                           validation_split=split)


def _result(epochs: int, cpu_s: float, threads: int = 1) -> dict:
    return {"epochs_run": epochs, "train_cpu_s": cpu_s, "threads": threads}


def test_the_study_table_sums_cached_runs_and_flags_the_missing_ones():
    tasks = [_task([50]), _task([50]), _task([50])]
    results = {id(tasks[0]): _result(2, 1.5), id(tasks[2]): _result(1, 0.5)}
    row = study_floor("depth/000", tasks, load=lambda task: results.get(id(task)))
    assert (row.runs, row.cached, row.missing, row.cpu_s) == (3, 2, 1, 2.0)
    assert row.flops == 6 * W_784_50_10 * 1000 * 3
    rate = 6 * W_784_50_10 * 1000 * 3 / 1e9  # GFLOP per CPU-second: the floor is 1 s
    assert row.floor_s(rate) == pytest.approx(1.0)
    text = "\n".join(render_floor([row], rate, rate_threads=1))
    assert "| depth/000 | 2/3 (1 missing) | 2.0 | 1.00 | 2.0× |" in text
    assert "| total | 2/3 (1 missing) | 2.0 | 1.00 | 2.0× |" in text
    assert "1 run(s) are not in the cache" in text
    assert "MNISTLAB_THREADS" not in text  # rate and runs on the same threads


def test_a_study_with_nothing_cached_has_no_ratio_and_the_total_adds_up():
    empty = study_floor("width/004", [_task([50])], load=lambda task: None)
    full = StudyFloor("loss/001", 4, 4, 30.0, 10**10, frozenset({1}))
    lines = render_floor([empty, full], 10.0, rate_threads=2)
    assert "| width/004 | 0/1 (1 missing) | — | — | — |" in lines
    assert "| loss/001 | 4/4 | 30.0 | 1.00 | 30× |" in lines
    assert "| total | 4/5 (1 missing) | 30.0 | 1.00 | 30× |" in lines
    assert any("`MNISTLAB_THREADS=1`" in line for line in lines)  # measured on 2, ran on 1


def test_a_bad_cached_file_counts_as_missing_and_stays_where_it_is(tmp_path):
    def verify(result):
        if result.get("key") != "k":
            raise ValueError("not this run's")

    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    bad.write_text(json.dumps({"key": "other"}))
    good.write_text(json.dumps({"key": "k"}))
    assert cached_result(SimpleNamespace(path=tmp_path / "absent.json", verify=verify)) is None
    assert cached_result(SimpleNamespace(path=bad, verify=verify)) is None
    assert bad.is_file()
    assert cached_result(SimpleNamespace(path=good, verify=verify)) == {"key": "k"}
