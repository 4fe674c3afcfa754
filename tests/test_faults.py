"""Faults a hostile but fair user meets (issue 17), one test per kind, on tiny quick runs.

Each test asserts the message the user sees and that nothing was lost: the other studies'
reports, the cached runs that were good, the bad files themselves (moved aside, not deleted).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mnistlab.core.lock import build_lock
from mnistlab.core.errors import ParamsError
from mnistlab.spec.params import load_params
from mnistlab.pipeline.runner import Job, validate

from .conftest import REPO

TINY = {"quick": {"train_samples": 300, "test_samples": 200, "max_epochs": 1, "seeds": [0, 1]}}
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
ATTACH = '<a rel="attachment" href="file:///etc/hostname">hostname</a>'
LINK = "[click](javascript:alert(3))"


def _depth(edit=None) -> dict:
    """The depth study cut to two small configurations on the tiny quick profile."""
    raw = yaml.safe_load((REPO / "params/depth/000_rim_shin.yaml").read_text())
    raw["configurations"] = [{"name": "1", "hidden": [8]}, {"name": "2", "hidden": [8, 8]}]
    raw["study"]["published_rows"] = "some"
    raw["profiles"] = copy.deepcopy(TINY)
    if edit:
        edit(raw)
    return raw


def _write(path: Path, raw: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return path


def _hostile(raw: dict) -> None:
    raw["study"]["title"] = f"Depth {SCRIPT} {LINK} $\\nosuchsymbol$"
    raw["study"]["authors"] = [IMG]
    raw["configurations"][0]["label"] = IMG
    raw["assumptions"][0]["reason"] = f"{SCRIPT} because the study is silent"
    raw["notes"] = [ATTACH, LINK]


def _cli(project: Path, *args: str, **kwargs) -> subprocess.Popen | subprocess.CompletedProcess:
    env = dict(os.environ, MNISTLAB_ROOT=str(project), MNISTLAB_BUILD=str(project / "build"))
    for var in ("IPYTHONDIR", "JUPYTER_RUNTIME_DIR", "KERAS_HOME", "MNISTLAB_THREADS",
                "MNISTLAB_LOCK_OWNER"):
        env.pop(var, None)
    command = [sys.executable, "-m", "mnistlab", *args]
    if kwargs.pop("background", False):
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=project)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600,
                          cwd=project)


@pytest.fixture(scope="module")
def project(tmp_path_factory, mnist_dir) -> Path:
    """A scratch project with two studies: ``crash/000_crash`` (its notebook fails in its
    first cell) sorted before ``depth/000_rim_shin`` (hostile strings in every field that
    reaches the report), rendered once by ``python -m mnistlab report --jobs 2``."""
    root = tmp_path_factory.mktemp("faults")
    (root / "notebooks").mkdir()
    shutil.copy(REPO / "notebooks/depth.py", root / "notebooks/depth.py")
    source = (REPO / "notebooks/depth.py").read_text()
    parameters = 'results_dir = ""\n'
    assert parameters in source
    (root / "notebooks/crash.py").write_text(source.replace(
        parameters, parameters + '\n# %%\n{}["no_such_setting"]\n', 1))
    shutil.copytree(REPO / "params/published", root / "params/published")
    published = yaml.safe_load((root / "params/published/000_rim_shin.yaml").read_text())
    table1, table2 = published["tables"]["table1"], published["tables"]["table2"]
    table1["caption"] = f"Table 1 {SCRIPT} with $\\nosuchsymbol$"
    table1["notes"] = ATTACH
    table2["columns"].append("comment")
    table2["rows"] = [row + [IMG] for row in table2["rows"]]
    _write(root / "params/published/000_rim_shin.yaml", published)
    _write(root / "params/depth/000_rim_shin.yaml", _depth(_hostile))
    def crash(raw: dict) -> None:
        raw.update(experiment="crash", configurations=raw["configurations"][:1])
        raw["profiles"]["quick"]["seeds"] = [0]
    _write(root / "params/crash/000_crash.yaml", _depth(crash))
    root.joinpath("first_run.json").write_text(json.dumps(
        vars(_cli(root, "report", "--profile", "quick", "--jobs", "2"))))
    return root


def _first_run(project: Path) -> dict:
    return json.loads((project / "first_run.json").read_text())


def test_1_strings_from_params_and_published_files_reach_the_report_as_text(project, tmp_path):
    page = (project / "reports/quick/depth/000_rim_shin.html").read_text()
    for raw_markup in ("<script>alert", "<img src=x", '<a rel="attachment"', 'href="javascript:'):
        assert raw_markup not in page, raw_markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, "the title shows as typed"
    assert "&lt;img src=x onerror=alert(2)&gt;" in page, "labels and published cells too"
    assert "[click](javascript:alert(3))" in page, "no Markdown link is made"
    assert page.count("file:///etc/hostname") >= 2, "the notes and the caption show as text"
    pdf = (project / "reports/quick/depth/000_rim_shin.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/EmbeddedFile" not in pdf
    assert "<script>alert" not in (project / "reports/index.html").read_text()

    # Had such a link reached the PDF renderer raw, it would fetch nothing outside the folder.
    from mnistlab.present.report import html_to_pdf

    (tmp_path / "inside.txt").write_text("a file of the report's own folder")
    raw = html_to_pdf(f'<p>{ATTACH}<a rel="attachment" href="../../etc/passwd">p</a>'
                      '<img src="http://192.0.2.1/x.png"></p>', tmp_path)
    assert b"/EmbeddedFile" not in raw
    inside = html_to_pdf('<p><a rel="attachment" href="inside.txt">i</a></p>', tmp_path)
    assert b"/EmbeddedFile" in inside, "the fetcher is confined, not broken"


def test_3_a_bad_cached_run_is_named_moved_aside_and_trained_again(tmp_path, mnist_dir, capsys):
    from mnistlab.train.sweep import plan, run_sweep

    params_path = _write(tmp_path / "params/depth/study.yaml", _depth())
    shutil.copytree(REPO / "params/published", tmp_path / "params/published")
    params, out = load_params(params_path), tmp_path / "build/quick/depth/study"
    first = run_sweep(params, params_path, "quick", out)
    tasks = plan(params, params_path, "quick", out)
    assert len(first) == len(tasks) == 4
    truncated, empty, foreign, good = (task.path for task in tasks)
    truncated.write_bytes(b'{"epochs_run": ')
    empty.write_text("{}")
    foreign.write_bytes(good.read_bytes())  # complete, but another run's result
    good_mtime = good.stat().st_mtime_ns
    capsys.readouterr()

    again = run_sweep(params, params_path, "quick", out)
    err = capsys.readouterr().err
    for path, why in ((truncated, "Expecting value"), (empty, "stored under key 'None'"),
                      (foreign, "stored under key")):
        line = next(line for line in err.splitlines() if str(path) in line)
        assert "rejected" in line and why in line and "training this run again" in line
    rejected = sorted((tmp_path / "build/quick/runs/rejected").iterdir())
    assert len(rejected) == 3, "the bad files are kept for inspection"
    assert sorted(p.read_bytes() for p in rejected) == sorted(
        [b'{"epochs_run": ', b"{}", good.read_bytes()])
    assert good.stat().st_mtime_ns == good_mtime, "the good run was not retrained"
    assert again["test_accuracy"].notna().all() and len(again) == 4
    assert (again.sort_values(["name", "seed"])["test_accuracy"].to_numpy()
            == first.sort_values(["name", "seed"])["test_accuracy"].to_numpy()).all()
    run_sweep(params, params_path, "quick", out)
    assert "rejected" not in capsys.readouterr().err, "the retrained files are trusted"


def _refused(path: Path) -> str:
    started = time.perf_counter()
    with pytest.raises(ParamsError) as error:
        load_params(path)
    assert time.perf_counter() - started < 2
    message = str(error.value)
    assert message.startswith(str(path)) and len(message) < 5000
    return message


def test_4_the_schema_refuses_each_hole_by_name(tmp_path):
    def case(name: str, edit=None, text: str | None = None) -> str:
        path = tmp_path / "params/depth" / f"{name}.yaml"
        if text is None:
            return _refused(_write(path, _depth(edit)))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return _refused(path)

    base = yaml.safe_dump(_depth(), sort_keys=False)
    assert "seeds must differ; 1 is listed twice" in case(
        "dup_seeds", lambda raw: raw.update(seeds=[0, 1, 1]))
    assert "seeds[0]" in case("negative", lambda raw: raw.update(seeds=[-1, 1, 2]))
    assert "seeds[2]" in case("huge", lambda raw: raw.update(seeds=[0, 1, 2**32]))
    assert "profiles.quick.seeds" in case(
        "many", lambda raw: raw["profiles"]["quick"].update(seeds=list(range(10000))))
    assert "at most 20,000,000 are allowed" in case(
        "wide", lambda raw: raw["configurations"][0].update(hidden=[100000, 100000]))
    assert "less than or equal to 100000" in case(
        "units", lambda raw: raw["configurations"][0].update(hidden=[100_000_000]))
    assert "optimizer steps per run" in case(
        "epochs", lambda raw: raw["defaults"].update(epochs=90000))
    for where in ("/etc/passwd", "../../etc/passwd.yaml"):
        assert "plain name of a .yaml file in params/published/" in case(
            "published", lambda raw: raw["study"].update(published=where))
    message = case("dup_key", text=base + "seeds: [7, 8, 9]\n")
    assert "found key 'seeds' twice (first on line" in message
    message = case("rate", text=base.replace("learning_rate: 0.001", "learning_rate: 1e-3"))
    assert "value 1e-3 was read by YAML as text" in message and "write 0.001" in message
    bomb = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'] + [
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    assert "aliases expand to more than" in case("bomb", text=base + "\n".join(bomb) + "\n")
    latin = tmp_path / "params/depth/latin.yaml"
    latin.write_bytes(base.replace("Youju", "Yéuju").encode("latin-1"))
    assert "not UTF-8 text: byte 0xe9 on line" in _refused(latin)
    assert "is a directory, not a params file" in _refused(tmp_path / "params/depth")

    outside = _write(tmp_path / "elsewhere/my_loss.yaml", _depth())
    with pytest.raises(ParamsError) as error:
        validate([Job("loss", outside, REPO / "notebooks/loss.py")], REPO)
    assert "does not match the experiment being run ('loss')" in str(error.value)
    assert "params/" not in str(error.value).split("run `")[0], "no folder it is not in"
    assert f"python -m mnistlab run depth --params {outside}" in str(error.value)
    assert not (tmp_path / "build").exists(), "nothing ran on a bad file"


def test_5_a_failing_study_is_named_with_its_cell_and_the_others_still_render(project):
    first = _first_run(project)
    assert first["returncode"] == 1
    summary = first["stderr"].split("error: ")[-1]
    assert "1 of 2 studies failed" in summary
    assert "crash/000_crash: cell [" in summary and '`{}["no_such_setting"]`' in summary
    assert "KeyError: 'no_such_setting'" in summary
    executed = project / "build/quick/crash/000_crash/crash.executed.ipynb"
    assert f"open {executed.relative_to(project)}" in summary and executed.is_file()
    assert "no_such_setting" in executed.read_text()
    assert (project / "reports/quick/depth/000_rim_shin.pdf").is_file(), "the study after it rendered"
    assert "000_rim_shin" in (project / "reports/index.html").read_text()
    report = (project / "reports/quick/depth/000_rim_shin.html").read_bytes()

    # JOBS=1: the failure happens in this process, not a child, and is named all the same.
    second = _cli(project, "report", "--profile", "quick", "--jobs", "1")
    assert second.returncode == 1
    assert "depth/000_rim_shin: up to date" in second.stdout
    assert "crash/000_crash: cell [" in second.stderr.split("error: ")[-1]
    assert (project / "reports/quick/depth/000_rim_shin.html").read_bytes() == report

    # A copy kept elsewhere with a registered study's name is refused, and replaces nothing.
    copy = project / "elsewhere/000_rim_shin.yaml"
    copy.parent.mkdir()
    shutil.copy(project / "params/depth/000_rim_shin.yaml", copy)
    refused = _cli(project, "run", "depth", "--profile", "quick", "--params", str(copy))
    assert refused.returncode == 2
    assert "would replace that study's reports/depth/000_rim_shin.html" in refused.stderr
    assert (project / "reports/quick/depth/000_rim_shin.html").read_bytes() == report


def test_5_a_second_run_on_the_tree_waits_for_the_first_and_names_it(project):
    with build_lock(project):
        holder = (project / "build/mnistlab.lock").read_text()
        second = _cli(project, "run", "depth", "--profile", "quick", background=True)
        line = _line_with(second.stderr, "[lock]", timeout=60)
        assert f"is held by pid {os.getpid()}" in line and "waiting" in line
        assert holder.strip() in line
        time.sleep(1)
        assert second.poll() is None, "it waits while the lock is held"
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "depth/000_rim_shin: up to date" in out, "it then finds the first run's work"


def _line_with(stream, text: str, timeout: float) -> str:
    """The first line of ``stream`` that holds ``text``, waiting at most ``timeout`` seconds."""
    import select

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if ready:
            line = stream.readline()
            if text in line or not line:
                return line
    return ""
