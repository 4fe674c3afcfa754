"""No report shows Python or our code names to a reader, and every report prints like a paper
(issue 27): the checks of ``page_checks``, each shown failing on a bad page, then run on the
quick project's rendered reports."""

from __future__ import annotations

import pytest

from mnistlab.present import plots
from mnistlab.present.report import PRINT_CSS, print_document

from .conftest import REPO
from .page_checks import findings, internal_names, print_findings

NAMES = internal_names(REPO / "params")


@pytest.mark.parametrize("bad, kind", [
    ("<p>optimizer {'name': 'adam', 'learning_rate': 0.001}</p>", "Python literal"),
    ("<td>[{'hidden': [64]}]</td>", "Python literal"),
    ("<td>101632.0000</td>", "integer as .0000"),
    ("<p>a split of 0.08333333333333333</p>", "over 6 significant digits"),
    ("<p>lowest at epoch 8.0 ± 0.0</p>", "zero spread of an integer"),
    ("<p>the control model1_300 and the loss sparse_categorical_crossentropy</p>",
     "code name outside code font"),
    ("<th>epoch_s_mean</th>", "code name outside code font"),
    ("<p>after 3 epoch(s)</p>", "(s) plural"),
])
def test_the_page_check_finds_python_and_code_names(bad, kind):
    assert kind in [k for k, _ in findings(f"<html><body>{bad}</body></html>", NAMES)]


def test_code_font_and_plain_words_pass_the_page_check():
    page = ("<p>run <code>model1_300</code> with <code>{'name': 'adam'}</code>; 0.9731 ± 0.0012, "
            "101,632 parameters, 3 epochs, x86_64 and fan-in</p><pre>[{'a': 1}]</pre>")
    assert findings(page, NAMES) == []


def test_no_quick_report_shows_python_or_code_names(project):
    reports = sorted(p for p in (project / "reports").rglob("*.html") if p.name != "index.html")
    assert reports
    for report in reports:
        found = findings(report.read_text(), NAMES)
        assert found == [], f"{report.relative_to(project)}: {found[:8]}"


def _printed(body: str, css: str = PRINT_CSS):
    return print_findings(print_document(f"<html><head>{css}</head><body>{body}</body></html>",
                                         REPO))


def test_the_print_check_finds_a_clipped_line_a_near_blank_page_and_a_lone_caption():
    clipped = '<p style="width: 130%">' + "words that run on past the margin " * 6 + "</p>"
    assert "clipped at the right edge" in [k for k, _ in _printed(clipped)]
    blank = '<p style="page-break-after: always">one line</p><p>the next page</p>'
    assert ("page less than a quarter full", "p1") in _printed(blank)
    table = "<table>" + "<tr><td>row</td></tr>" * 12 + "</table>"
    apart = ('<div style="height: 240mm"></div><div class="captioned"><p>Table 1. A caption</p>'
             f"{table}</div>")
    assert "caption apart from its table or figure" in [k for k, _ in _printed(apart, "")], \
        "without the report's print style the caption ends one page and its table starts the next"
    assert "caption apart from its table or figure" not in [k for k, _ in _printed(apart)]


def test_every_quick_report_prints_like_a_paper(project):
    """No line past the margin, no near-blank page before the last, no caption apart from its
    table (replaces the old whole-box check: this one reads every line box)."""
    reports = sorted(p for p in (project / "reports").rglob("*.html") if p.name != "index.html")
    for report in reports:
        found = print_findings(print_document(report.read_text(), report.parent))
        assert found == [], f"{report.relative_to(project)}: {found[:8]}"


def test_a_model_keeps_its_colour_in_every_figure_of_a_report():
    first = plots.colours(["Model 1", "Model 2"])
    second = plots.colours(["Model 3", "Model 2", "Model 1"])
    assert second["Model 1"] == first["Model 1"] and second["Model 2"] == first["Model 2"]
    assert len({second["Model 1"], second["Model 2"], second["Model 3"]}) == 3
    from matplotlib.colors import to_hex

    assert plots.PUBLISHED not in [to_hex(c) for c in second.values()], "red is the published value's"


def test_the_print_check_finds_a_heading_apart_from_its_figure():
    """An analysis's heading and sentence (Markdown outputs, each kept whole by JupyterLab's
    print style) ended a page while the figure they introduce began the next."""
    jupyterlab = "<style>@media print { .jp-OutputArea-child { break-inside: avoid-page; } }</style>"
    image = ('<img style="width: 150mm; height: 100mm" src="data:image/png;base64,iVBORw0KGgo'
             'AAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==">')

    def output(kind: str, inner: str) -> str:
        return f'<div class="jp-OutputArea-child"><div class="{kind}">{inner}</div></div>'

    body = ('<div style="height: 200mm"></div>' + output("jp-RenderedMarkdown", "<h3>Figures 7–10</h3>")
            + output("jp-RenderedMarkdown", "<p>Loss and accuracy by epoch.</p>")
            + output("jp-RenderedImage", image))
    kind = "heading apart from its figure or table"
    assert kind in [k for k, _ in _printed(body, jupyterlab)]
    assert kind not in [k for k, _ in _printed(body, jupyterlab + PRINT_CSS)]
