"""README "Add a study": an instructor's params file, kept anywhere, renders with no code change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import REPO, copy_project

TINY = {"quick": {"train_samples": 600, "test_samples": 300, "max_epochs": 1, "seeds": [0, 1]}}


@pytest.fixture(scope="module")
def project(tmp_path_factory, mnist_dir) -> Path:
    """A scratch copy of the project's params and notebooks, as a fresh checkout has them."""
    return copy_project(tmp_path_factory.mktemp("variant"))


def _variant(source: str, path: Path, edit) -> Path:
    raw = yaml.safe_load((REPO / "params" / source).read_text())
    edit(raw)
    raw["profiles"] = TINY
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return path


def _run(project: Path, experiment: str, params: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, MNISTLAB_ROOT=str(project), MNISTLAB_BUILD=str(project / "build"))
    command = [sys.executable, "-m", "mnistlab", "run", experiment, "--params", str(params),
               "--profile", "quick"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def test_a_depth_variant_with_100_units_renders_beside_the_published_tables(project, tmp_path):
    def wider(raw):
        raw["configurations"] = [{"name": "1", "hidden": [100]}, {"name": "2", "hidden": [100, 100]}]
        raw["study"]["published_rows"] = "some"
        raw["study"]["title"] = "Depth with 100 units <b>per</b> layer"
    params = _variant("depth/000_rim_shin.yaml", tmp_path / "my_depth.yaml", wider)
    full = project / "reports/depth/my_depth.html"  # a full report made earlier
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text("the full reproduction")
    done = _run(project, "depth", params)
    assert done.returncode == 0, done.stderr[-2000:]
    assert full.read_text() == "the full reproduction", "a preview never replaces a full report"
    page = (project / "reports/quick/depth/my_depth.html").read_text()
    assert (project / "reports/quick/depth/my_depth.pdf").read_bytes().startswith(b"%PDF")
    assert "Depth with 100 units &lt;b&gt;per&lt;/b&gt; layer" in page, "params strings are escaped"
    assert "2 of 100 units" in page and "2 of 50 units" not in page, \
        "the variant's own settings are shown, not the default study's 50-unit layers"
    assert "Table 2. Loss and accuracy by data" in page, "the study's published tables still join"
    assert "0.9730" in page


def test_a_loss_variant_of_your_own_with_nothing_published_still_renders(project, tmp_path):
    def own(raw):
        raw["study"].update(id="900", title="Cross-entropies on a small net", published=None)
        raw["analyses"] = []
        raw["configurations"] = [
            {"name": "cce", "label": "categorical", "hidden": [32]},
            {"name": "scce", "label": "sparse", "hidden": [32],
             "loss": "sparse_categorical_crossentropy"}]
        raw["assumptions"] = [a for a in raw["assumptions"] if a["key"] != "defaults.optimizer"]
    params = _variant("loss/001_chu.yaml", tmp_path / "my_loss.yaml", own)
    done = _run(project, "loss", params)
    assert done.returncode == 0, done.stderr[-2000:]
    page = (project / "reports/quick/loss/my_loss.html").read_text()
    assert "Cross-entropies on a small net" in page
    assert "no published tables to compare against" in page
    assert "asks for no analyses of its own" in page
