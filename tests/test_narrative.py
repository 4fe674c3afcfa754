"""Issue 22: every notebook is true for any study of its experiment.

A notebook's own prose is generic; the sentences true of one study only (the question it
opens with, the figures and numbers it quotes, what to try next) live in that study's params
``narrative`` block and reach the page through ``Study.narrative``, escaped like every params
string.  A variant without them shows nothing there, never another study's words.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import jupytext
import pytest
import yaml
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from mnistlab.notebook.study import open_study
from mnistlab.spec.params import load_params, published_path

from .conftest import REPO, copy_project
from .test_variant_study import _run, _variant

NOTEBOOKS = REPO / "notebooks"
EXPERIMENTS = sorted(path.stem for path in NOTEBOOKS.glob("*.py"))
ASKED = re.compile(r"""study\.narrative\(\s*["']([a-z][a-z0-9_]*)["']\s*\)""")
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
FIGURE = re.compile(r"\b(?:Table|Figure|Fig\.)\s+[IVX\d]+\b")
SHARED_WORDS = 6  # a run of this many words shared with a study's narrative is its sentence


def _defaults(experiment: str) -> list[Path]:
    """The kit's own params files of an experiment: the studies its notebook opens by default."""
    return sorted((REPO / "params" / experiment).glob("*.yaml"))


def _prose(source: str) -> str:
    """Every markdown cell of a notebook's py:percent source, as a reader sees them."""
    notebook = jupytext.reads(source, fmt="py:percent")
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def _plain(text: str) -> str:
    """Narrative Markdown as words: bold and code marks dropped, whitespace collapsed."""
    return " ".join(text.replace("**", "").replace("`", "").split())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:[.'’][a-z0-9]+)*", text.lower())


def _runs(text: str, n: int = SHARED_WORDS) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _numbers(text: str) -> set[float]:
    return {float(match.replace(",", "")) for match in NUMBER.findall(text)}


def _distinctive(numbers: set[float]) -> set[float]:
    """Numbers that point at one study: a decimal, or an integer of 100 or more.  Smaller
    integers (section and exercise numbers, points, 95% intervals, the 50-unit layer of
    exercise 1's worked example) are too common in generic prose to say which study it is."""
    return {x for x in numbers if x != int(x) or x >= 100}


def _study_words(path: Path) -> tuple[list[str], set[float], set[str]]:
    """A default study's narrative texts, its distinctive numbers (narrative and published
    rows) and the names of the figures and tables it publishes."""
    params = load_params(path)
    texts = [_plain(value) for value in params.narrative.values()]
    numbers = set().union(*(_numbers(text) for text in texts))
    published = published_path(path, params)
    if published:
        for table in (yaml.safe_load(published.read_text()).get("tables") or {}).values():
            for row in table.get("rows") or []:
                numbers |= set().union(*(_numbers(str(cell)) for cell in row if cell is not None))
    figures = {name for entry in params.study.tables for name in FIGURE.findall(entry)}
    return texts, _distinctive(numbers), figures


def leaks(experiment: str, source: str) -> list[str]:
    """What a notebook's markdown says that only its default studies make true."""
    prose = _prose(source)
    shown_numbers, shown_runs = _distinctive(_numbers(prose)), _runs(prose)
    found = []
    for path in _defaults(experiment):
        texts, numbers, figures = _study_words(path)
        found += [f"{path.name}: number {x:g}" for x in sorted(numbers & shown_numbers)]
        found += [f"{path.name}: names its {name}" for name in sorted(figures) if name in prose]
        found += [f"{path.name}: sentence '{' '.join(run)} ...'" for text in texts
                  for run in sorted(_runs(text) & shown_runs)[:1]]
    return found


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_a_notebooks_prose_quotes_none_of_its_default_studies(experiment):
    assert _defaults(experiment), f"no params file opens notebooks/{experiment}.py"
    assert leaks(experiment, (NOTEBOOKS / f"{experiment}.py").read_text()) == []


# Sentences the notebooks said before issue 22, each true of one study only: the check above
# must find every one of them (so it would have failed on those notebooks).
BEFORE = {
    "activation": "On a task most networks solve to 99.7%, how large a difference between them "
                  "do you expect?",
    "batch_size": "As the study's Figure 2: accuracy and loss by epoch on the training images",
    "depth": "copy the params file, set 100 units per layer or `patience: 3`, and run",
    "dynamics": "**Question for you:** eight runs of the same network start from eight random "
                "points in weight space. Do they end in the same place?",
    "function_fit": "The study prints no loss, only each network's size; here are its counts "
                    "beside the networks we built.",
    "loss": "(`mnistlab.train.training.train_run(run, seed, arrays, engine=\"plain\")`, no "
            "XLA). Is the gap still exactly zero? Why might the order of the arithmetic matter?",
    "optimizer": "Does it catch up with Adam, and does its validation loss start rising like "
                 "Adam's?",
    "width": "a hidden layer of 16 units has about 12,600 weights, one of 128 units about "
             "100,000. Which should over-fit first on 36,000 images?",
}


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_the_check_finds_a_sentence_of_the_old_notebook(experiment):
    source = (NOTEBOOKS / f"{experiment}.py").read_text()
    assert leaks(experiment, source + f"\n# %% [markdown]\n# {BEFORE[experiment]}\n")


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_each_default_study_writes_exactly_what_its_notebook_asks_for(experiment):
    asked = set(ASKED.findall((NOTEBOOKS / f"{experiment}.py").read_text()))
    assert asked, f"notebooks/{experiment}.py shows no narrative"
    for path in _defaults(experiment):
        written = set(load_params(path).narrative)
        assert written == asked, (f"{path.name}: narrative keys {sorted(written)}, "
                                  f"notebook asks for {sorted(asked)}")


def _study_with(tmp_path: Path, narrative: dict[str, str] | None):
    raw = yaml.safe_load((REPO / "params/depth/000_rim_shin.yaml").read_text())
    raw["study"]["published"] = None
    if narrative is None:
        raw.pop("narrative", None)
    else:
        raw["narrative"] = narrative
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return open_study(path)


def test_narrative_escapes_html_and_keeps_bold_and_code(tmp_path):
    typed = ("**Question:** <script>alert(1)</script> [click](javascript:alert(2)) "
             "`<b>hidden: [100]</b>` $x$ *not emphasis*\n\n- a list item")
    shown = _study_with(tmp_path, {"question": typed}).narrative("question").data
    assert "<script" not in shown and "&lt;script&gt;" in shown
    assert "<strong>Question:</strong>" in shown
    assert "<code>&lt;b&gt;hidden: &#91;100&#93;&lt;/b&gt;</code>" in shown
    page = markdown2html_mistune(shown)
    assert "<script" not in page and "<a " not in page and "<em>" not in page and "<b>" not in page
    assert "<li>a list item</li>" in page
    visible = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "[click](javascript:alert(2))" in visible and "*not emphasis*" in visible


def test_a_study_without_the_key_shows_nothing(tmp_path):
    assert _study_with(tmp_path, None).narrative("question") is None
    assert _study_with(tmp_path, {"to_try": "Try."}).narrative("question") is None


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_default_narrative_shows_as_written(experiment):
    for path in _defaults(experiment):
        study = open_study(path)
        for key, value in study.params.narrative.items():
            shown = html.unescape(re.sub(r"<[^>]+>", "", study.narrative(key).data))
            assert " ".join(shown.split()) == _plain(value), (path.name, key)


# An instructor's variant, rendered: none of the default studies' sentences, its own escaped.

@pytest.fixture(scope="module")
def scratch(tmp_path_factory, mnist_dir) -> Path:
    """A scratch copy of the project's params and notebooks, as a fresh checkout has them."""
    return copy_project(tmp_path_factory.mktemp("narrative"))


def _visible(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def _defaults_shown(experiment: str, page: str, variant: Path) -> list[str]:
    """The default studies' narratives whose sentences show on the variant's page (beyond
    words the variant's own params say too: the assumptions and notes it kept)."""
    own = _runs(" ".join(_strings(yaml.safe_load(variant.read_text()))))
    runs = _runs(_visible(page)) - own
    return [f"{path.name}:{key}" for path in _defaults(experiment)
            for key, value in load_params(path).narrative.items() if _runs(_plain(value)) & runs]


def test_a_variant_shows_its_own_narrative_and_neither_default_studys(scratch, tmp_path):
    """An instructor's optimizer study (the notebook of both 003 and 004), copied from 003:
    its own question, escaped; no readings, curves or suggestions of its own, so none shown."""
    def own(raw):
        raw["study"].update(id="901", title="SGD and Adam on a small net", published=None)
        raw["analyses"] = []
        raw["configurations"] = [
            {"name": "sgd", "label": "SGD", "hidden": [32]},
            {"name": "adam", "label": "Adam", "hidden": [32],
             "optimizer": {"name": "adam", "learning_rate": 0.001}}]
        raw["narrative"] = {"question": "**Question for you:** will <b>Adam</b> beat SGD at "
                                        "32 units? See `hidden: [32]`."}
    params = _variant("optimizer/003_mchunu.yaml", tmp_path / "my_optimizer.yaml", own)
    done = _run(scratch, "optimizer", params)
    assert done.returncode == 0, done.stderr[-2000:]
    page = (scratch / "reports/quick/optimizer/my_optimizer.html").read_text()
    assert "SGD and Adam on a small net" in page
    assert _defaults_shown("optimizer", page, params) == [], "neither 003's nor 004's sentences"
    assert "will &lt;b&gt;Adam&lt;/b&gt; beat SGD at 32 units?" in page, "its own, escaped"
    assert "<strong>Question for you:</strong>" in page and "<b>Adam</b>" not in page
    assert "<code>hidden: [32]</code>" in page
    assert ">None</" not in page, "a missing narrative prints nothing"
    assert "For you to try:" in page, "the notebook's generic prose stays"
