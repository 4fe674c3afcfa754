"""Reliability at the edges (issue 24): mistakes in published files caught before training,
spreadsheet-safe summaries, corrupt probe files retrained, full disks and read-only builds
named in one line, bounded worker counts and unreachable schedulers refused quickly."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml

from mnistlab.core.errors import ParamsError
from mnistlab.pipeline.runner import Job, validate

from .conftest import REPO


def _project_with_published(tmp_path: Path, edit, params_edit=None) -> tuple[Job, Path]:
    """Study 000's params and published file in a scratch project, the published one edited."""
    shutil.copytree(REPO / "params/published", tmp_path / "params/published")
    published = tmp_path / "params/published/000_rim_shin.yaml"
    raw = yaml.safe_load(published.read_text())
    edit(raw["tables"])
    published.write_text(yaml.safe_dump(raw, sort_keys=False))
    params = yaml.safe_load((REPO / "params/depth/000_rim_shin.yaml").read_text())
    if params_edit:
        params_edit(params)
    path = tmp_path / "params/depth/000_rim_shin.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return Job("depth", path, REPO / "notebooks/depth.py"), published


def _refused(job: Job, root: Path) -> str:
    started = time.perf_counter()
    with pytest.raises(ParamsError) as error:
        validate([job], root)
    assert time.perf_counter() - started < 10, "refused before any training"
    return str(error.value)


def test_a_published_value_that_is_not_a_number_is_refused_with_its_cell(tmp_path):
    def text_in_table2(tables):
        tables["table2"]["rows"][2][2] = "n/a"

    job, published = _project_with_published(tmp_path, text_in_table2)
    message = _refused(job, tmp_path)
    assert str(published) in message and "tables.table2" in message
    assert "row 3" in message and "'n/a' is not a number" in message
    assert "allowed are numbers, or null" in message


def test_a_compared_metric_no_run_records_is_refused_with_the_allowed_ones(tmp_path):
    def typo(tables):
        tables["table2"]["compare"]["columns"]["accuracy"]["metric"] = "test_accuracyy"

    job, published = _project_with_published(tmp_path, typo)
    message = _refused(job, tmp_path)
    assert f"{published}: table 'table2', column 'accuracy'" in message
    assert "'test_accuracyy' is not recorded by any run" in message
    assert "test_accuracy, test_loss" in message


def test_a_published_row_no_configuration_answers_to_is_refused(tmp_path):
    def typo(tables):
        tables["table2"]["rows"][0][0] = 11

    job, published = _project_with_published(tmp_path, typo)
    message = _refused(job, tmp_path)
    assert f"{published}: table 'table2': published row '11' matches none of" in message
    assert "unmatched: allowed" in message and "published_rows: some" in message


def test_unmatched_rows_are_allowed_where_a_table_or_a_variant_says_so(tmp_path):
    def allowed(tables):
        tables["table2"]["rows"][0][0] = 11
        tables["table2"]["compare"]["unmatched"] = "allowed"

    job, _ = _project_with_published(tmp_path / "a", allowed)
    validate([job], tmp_path / "a")

    def trimmed(params):
        params["configurations"] = params["configurations"][:2]
        params["study"]["published_rows"] = "some"

    job, _ = _project_with_published(tmp_path / "b", lambda tables: None, trimmed)
    validate([job], tmp_path / "b")


def test_text_cells_a_spreadsheet_would_evaluate_are_neutralised(tmp_path):
    import csv

    import pandas as pd

    from mnistlab.core.csvfile import write_csv

    hostile = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "plain", "a=b"]
    frame = pd.DataFrame({"row": hostile, "value": [-0.5, 1, 2, 3, 4, 5, 6]})
    with open(write_csv(frame, tmp_path / "summary.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["row"] for r in rows] == ["'" + h for h in hostile[:5]] + ["plain", "a=b"]
    assert rows[0]["value"] == "-0.5", "numbers stay numbers"


def test_a_truncated_or_altered_probes_file_is_named_moved_aside_and_retrained(
        tmp_path, mnist_dir, capsys):
    from mnistlab.spec.params import load_params
    from mnistlab.train.sweep import load_probes, plan, run_sweep

    raw = yaml.safe_load((REPO / "params/dynamics/002_abhinav.yaml").read_text())
    raw["configurations"] = [{"name": "p", "hidden": [4], "activation": "relu",
                              "probes": {"weights_every": 1, "grad_norm": "step"}}]
    raw["profiles"] = {"quick": {"train_samples": 100, "test_samples": 50, "max_epochs": 1,
                                 "seeds": [0, 1]}}
    raw["study"]["published_rows"] = "some"
    path = tmp_path / "params/dynamics/p.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    params, out = load_params(path), tmp_path / "build/quick/dynamics/p"
    first = run_sweep(params, path, "quick", out)
    truncated, flipped = (task.probes_path for task in plan(params, path, "quick", out))
    truncated.write_bytes(truncated.read_bytes()[:40])
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    capsys.readouterr()

    again = run_sweep(params, path, "quick", out)
    err = capsys.readouterr().err
    for probes in (truncated, flipped):
        line = next(line for line in err.splitlines() if f"probes file {probes} is not" in line)
        assert "rejected" in line and "training this run again" in line
    store = tmp_path / "build/quick/runs"  # the profile's run store
    assert again.attrs["store"] == str(store)
    assert len(list((store / "rejected").glob("*.npz"))) == 2, "kept for inspection"
    for (_, before), (_, after) in zip(first.iterrows(), again.iterrows()):
        assert (load_probes(store, after)["weights"] == load_probes(store, before)["weights"]).all()


def test_an_unreachable_scheduler_is_named_in_one_line_within_seconds(tmp_path):
    from mnistlab.core.errors import SchedulerUnreachable
    from mnistlab.train.cluster import training_client

    started = time.perf_counter()
    with pytest.raises(SchedulerUnreachable) as error:
        with training_client(2, "tcp://127.0.0.1:1", tmp_path / "workers.log"):
            pass
    assert time.perf_counter() - started < 20, "the connect timeout, not Dask's retries"
    message = str(error.value)
    assert "\n" not in message and "no Dask scheduler answered at tcp://127.0.0.1:1" in message
    assert "`dask scheduler`" in message and error.value.exit_code == 6


@pytest.mark.parametrize("jobs, refused", [("0", "at least 1"), ("9", "at most 8"),
                                           ("1000", "at most 8")])
def test_a_worker_count_beyond_four_per_core_is_refused_with_the_cap(jobs, refused, monkeypatch):
    import argparse

    from mnistlab.train import cluster

    monkeypatch.setattr(cluster.os, "cpu_count", lambda: 2)
    with pytest.raises(argparse.ArgumentTypeError, match=refused):
        cluster.worker_count(jobs)
    assert cluster.worker_count("8") == 8


def test_a_batch_larger_than_the_studys_rows_is_refused_and_a_quick_preview_says_full_batch(
        tmp_path):
    from mnistlab.notebook.study import open_study
    from mnistlab.spec.params import load_params

    raw = yaml.safe_load((REPO / "params/depth/000_rim_shin.yaml").read_text())
    raw["configurations"][1]["batch_size"] = 5000
    raw.setdefault("data", {})["train_samples"] = 1000
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ParamsError, match=r"configurations\[1\].batch_size': value 5000 is "
                                          r"larger than the 1000 training rows"):
        load_params(path)

    quick = open_study(REPO / "params/batch_size/004_fouchier_yang.yaml", "quick")
    assert ("Batches of 10,000 and 36,000 are larger than this profile's 1,800 training images: "
            "those runs train on one full batch of 1,800 per epoch.") in quick.banner()
    assert "full batch" not in open_study(REPO / "params/batch_size/004_fouchier_yang.yaml",
                                          "full").banner()


def test_a_full_disk_mid_write_leaves_the_whole_file_and_no_temporary(tmp_path, monkeypatch):
    import errno
    import tempfile

    from mnistlab.core import cache
    from mnistlab.core.errors import CannotWrite

    target = tmp_path / "run.json"
    cache.write_bytes_atomic(target, b'{"complete": true}')
    real = tempfile.NamedTemporaryFile

    class HalfWritten:
        """A temporary file on a disk that fills up after the first bytes."""

        def __init__(self, *args, **kwargs):
            self.file = real(*args, **kwargs)
            self.name = self.file.name

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        def write(self, data):
            self.file.write(data[:3])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache.tempfile, "NamedTemporaryFile", HalfWritten)
    with pytest.raises(CannotWrite) as error:
        cache.write_bytes_atomic(target, b'{"complete": false, "longer": 1}')
    assert str(error.value) == (f"no space left on device writing {target}: free space and run "
                                "the same command again")
    assert target.read_bytes() == b'{"complete": true}', "the whole file is still there"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"], "no temporary left"


def _tiny_depth_project(root: Path) -> Path:
    shutil.copytree(REPO / "params/published", root / "params/published")
    shutil.copytree(REPO / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    raw = yaml.safe_load((REPO / "params/depth/000_rim_shin.yaml").read_text())
    raw["configurations"] = [{"name": "1", "hidden": [8]}]
    raw["study"]["published_rows"] = "some"
    raw["profiles"] = {"quick": {"train_samples": 200, "test_samples": 100, "max_epochs": 1,
                                 "seeds": [0, 1]}}
    path = root / "params/depth/000_rim_shin.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _mnistlab(root: Path, build: Path, *args: str, user: list[str] | None = None):
    import os
    import subprocess
    import sys

    env = dict(os.environ, MNISTLAB_ROOT=str(root), MNISTLAB_BUILD=str(build))
    return subprocess.run([*(user or []), sys.executable, "-m", "mnistlab", *args], env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture
def small_disk(tmp_path):
    """A 40 MB tmpfs to fill (needs the right to mount, as root in CI's container has)."""
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small filesystem here; the unit test above still runs")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_and_the_same_command_then_finishes(tmp_path, mnist_dir,
                                                                     small_disk):
    import os

    project = tmp_path / "project"
    params = _tiny_depth_project(project)
    command = ("run", "depth", "--params", str(params), "--profile", "quick", "--force")
    first = _mnistlab(project, small_disk, *command)
    assert first.returncode == 0, first.stderr[-3000:]
    executed = next(small_disk.rglob("depth.executed.ipynb"))
    whole = executed.read_bytes()
    filler = small_disk / "filler"
    stat = os.statvfs(small_disk)  # leave room for half the executed notebook: it fails mid-run
    filler.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - len(whole) // 2))
    full = _mnistlab(project, small_disk, *command)
    assert full.returncode != 0
    lines = [line for line in full.stderr.splitlines() if "no space left on device" in line]
    assert lines and "free space and run the same command again" in lines[0], full.stderr[-3000:]
    assert "Traceback" not in full.stderr
    assert executed.read_bytes() == whole, "no truncated notebook where a whole one was"
    filler.unlink()
    again = _mnistlab(project, small_disk, *command)
    assert again.returncode == 0, again.stderr[-3000:]
    assert not list(small_disk.rglob(".*.tmp*")), "leftover temporaries are cleaned"


def _as_nobody(tmp_path: Path) -> list[str]:
    """The command prefix that runs as an unprivileged user, or a skip where that user could
    not run this checkout (root writes anywhere, so chmod alone proves nothing for root)."""
    import os
    import subprocess
    import sys

    user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    for folder in (tmp_path, *tmp_path.parents):
        folder.chmod(folder.stat().st_mode | 0o005)
    probe = subprocess.run([*user, sys.executable, "-c", "import mnistlab.pipeline.cli"],
                           capture_output=True, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    if probe.returncode != 0:
        pytest.skip("an unprivileged user cannot run this checkout here")
    return user


def test_a_build_folder_this_user_cannot_write_is_one_line(tmp_path, mnist_dir):
    import os

    project = tmp_path / "project"
    params = _tiny_depth_project(project)
    build = tmp_path / "build"
    build.mkdir()
    if os.geteuid() == 0:
        user = _as_nobody(tmp_path)
    else:
        user = None
        build.chmod(0o555)
    done = _mnistlab(project, build, "run", "depth", "--params", str(params), "--profile",
                     "quick", user=user)
    assert done.returncode == 5, done.stderr[-3000:]
    assert done.stderr.strip() == (f"error: {build} is not writable by this user: give this "
                                   "user write access (or set MNISTLAB_BUILD to a folder you "
                                   "can write, for build/) and run the same command again")


def test_temporaries_a_crash_left_are_removed_by_the_next_holder_of_the_lock(tmp_path, monkeypatch):
    import io

    from mnistlab.core.lock import build_lock

    monkeypatch.setenv("MNISTLAB_BUILD", str(tmp_path / "build"))
    leftovers = [tmp_path / "build/quick/depth/.run.json.k2j3.tmp",
                 tmp_path / "build/quick/depth/.depth.executed.tmp.ipynb"]
    kept = tmp_path / "build/quick/depth/run.json"
    for path in (*leftovers, kept):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    stream = io.StringIO()
    with build_lock(tmp_path, stream):
        pass
    assert not any(path.exists() for path in leftovers) and kept.exists()
    assert "removed 2 temporary file(s) an interrupted run left in" in stream.getvalue()
