"""The floor plan holds: layers import only downward (lazy and TYPE_CHECKING imports included),
no module imports itself back through others, and reading a params file loads neither a
study's code nor TensorFlow."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from .conftest import REPO

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGE = REPO / "lib" / "mnistlab"


def _lint(package_parent: Path, config: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the ``mnistlab`` found under ``package_parent``."""
    return subprocess.run([str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
                          cwd=package_parent, capture_output=True, text=True,
                          env={"PYTHONPATH": str(package_parent), "PATH": "/usr/bin:/bin"})


def test_the_import_contracts_are_kept():
    result = _lint(PACKAGE.parent, REPO / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_lazy_upward_import_breaks_the_layers_contract(tmp_path):
    """The contract can fail: an import inside a function of ``core`` that reaches ``train``."""
    copy = tmp_path / "mnistlab"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "core" / "paths.py").open("a") as module:
        module.write("\n\ndef _sneaky():\n    from mnistlab.train import sweep\n    return sweep\n")
    result = _lint(tmp_path, REPO / "pyproject.toml")
    assert result.returncode != 0
    assert "Each layer imports only downward BROKEN" in result.stdout
    assert "mnistlab.core.paths -> mnistlab.train.sweep" in result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), i.e. import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_back():
    graph = grimp.build_graph("mnistlab", cache_dir=None)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    assert _cycles(graph) == []
    graph.add_import(importer="c", imported="a")
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", ["mnistlab.spec.params", "mnistlab.spec.published",
                                    "mnistlab.pipeline.runner"])
def test_reading_the_schema_loads_no_study_and_no_tensorflow(module):
    code = (f"import json, sys; import {module}; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('mnistlab', "
            "'tensorflow', 'keras')))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout)
    assert not [m for m in loaded if m.startswith(("tensorflow", "keras", "mnistlab.studies",
                                                   "mnistlab.train.backend"))], loaded
