"""Turn an executed notebook into a paper-like HTML report and a PDF, and index them.

HTML comes from nbconvert without code cells; the PDF is that same HTML printed by
WeasyPrint, which a ``pip install`` alone sets up (no browser, no LaTeX).  Both files are
written to temporary names and renamed, so a failed render never leaves a half report.
Reports open offline: nbconvert's lab template would load require.js, MathJax and mermaid
from a CDN; our reports use none of them (no widgets, no TeX, no diagrams), so the template
below leaves them out.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from mnistlab.core.cache import write_bytes_atomic
from mnistlab.core.paths import summary_csv

PRINT_CSS = """
<style>
@page { size: A4; margin: 12mm 9mm 14mm 9mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; } }
@page wide { size: A4 landscape; margin: 10mm; }
.jp-Cell { page: tall; }  /* A4 portrait (the @page above): a landscape part ends where its cell does */
div.wide, .jp-Cell.celltag_landscape { page: wide; }
.jp-Cell, .jp-Cell-outputWrapper, .jp-OutputArea, .jp-OutputArea-child,
.jp-OutputArea-output { display: block !important; }
/* Tables: body-size type, grouped headers centred over their columns. */
.jp-RenderedHTMLCommon table { font-size: 0.92em !important; border-collapse: collapse; }
.jp-RenderedHTMLCommon th, .jp-RenderedHTMLCommon td { padding: 2px 6px !important;
  white-space: nowrap; }
.jp-RenderedHTMLCommon thead th { text-align: center !important; vertical-align: bottom; }
.jp-RenderedHTMLCommon tbody th { text-align: left !important; }
/* Narrow screens: a wide table or output scrolls in its own box instead of being clipped. */
.jp-OutputArea-output, div.wide { overflow-x: auto; max-width: 100%; }
.jp-OutputArea-output pre { white-space: pre-wrap; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
blockquote { border-left: 4px solid #d62728; background: #fff3f3; margin: 6px 0; padding: 4px 10px; }
@media print {
  body { font-size: 9.5pt; }
  .jp-Notebook, .jp-Cell, .jp-OutputArea-output { padding: 0 !important; margin: 0 !important; }
  .jp-OutputArea-output { overflow: visible !important; }
  .jp-RenderedHTMLCommon table { font-size: 8pt !important; table-layout: auto !important;
                                 margin-left: 0 !important; page-break-inside: avoid;
                                 max-width: 100% !important; }
  /* On paper a cell wraps rather than push its table past the edge (nothing scrolls there). */
  .jp-RenderedHTMLCommon th, .jp-RenderedHTMLCommon td { white-space: normal !important; }
  div.wide table { font-size: 7.5pt !important; }
  div.wide th { white-space: normal !important; }
  div.wide td { white-space: nowrap !important; }  /* a mean ± CI on one line */
  div.wide tbody th { min-width: 30mm; max-width: 42mm; white-space: normal !important; }
  div.print-only { display: block !important; break-inside: avoid; }
  div.screen-only { display: none !important; }
  img { max-width: 100% !important; page-break-inside: avoid; }
  h1, h2, h3, h4 { break-after: avoid; }
  /* A caption prints on the page of its table; a section heading or the words before an
     output never end a page alone, whether they are a Markdown cell or the Markdown an
     analysis writes before its figure (dynamics: "Figures 7–10" and its sentence ended a
     page, the figure began the next). */
  .captioned { break-inside: avoid; }
  .long-table table { page-break-inside: auto !important; }
  .long-table tr { break-inside: avoid; }
  .jp-MarkdownCell, .jp-RenderedMarkdown { break-after: avoid; }
  /* Within an analysis's Markdown, the sentence that introduces a table prints with it
     (activation: "Table I: Test accuracy, each pair ..." ended a page, its table began the
     next). */
  .jp-RenderedMarkdown table { break-before: avoid; }
  /* JupyterLab prints each output whole (break-inside: avoid-page): a long list could then
     only move as a block, leaving no break before a heading that goes with its figure.
     Figures and tables stay whole by their own rules. */
  .jp-OutputArea-child { break-inside: auto; }
  /* nbconvert's input area is wider than the page by the hidden prompt: its last glyphs
     printed past the margin and were cut. */
  .jp-InputArea, .jp-Cell-inputArea { display: block !important; width: auto !important; }
}
</style>
"""


OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def nbgrader_cell(cell: dict) -> bool:
    """Lab material (nbgrader's cells): shown to students, left out of reports."""
    return "nbgrader" in cell.get("metadata", {})


def _exporter():
    """nbconvert's lab HTML without code; imported here so the CLI starts fast when up to date."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

    from mnistlab.analysis.scorecard import AGREEMENT_MIME

    class DropStderr(Preprocessor):
        """Remove stderr streams (TensorFlow warnings) from the report, not from the notebook."""

        def preprocess_cell(self, cell, resources, index):
            if cell.get("outputs"):
                cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
            return cell, resources

    class DropRecords(Preprocessor):
        """Remove outputs that are data for the pipeline (``scorecard.AGREEMENT_MIME``)."""

        def preprocess_cell(self, cell, resources, index):
            if cell.get("outputs"):
                cell.outputs = [o for o in cell.outputs if AGREEMENT_MIME not in o.get("data", {})]
            return cell, resources

    class DropLabCells(Preprocessor):
        """Leave the labs' exercises out (cells with nbgrader metadata, ``mnistlab.pipeline.labs``):
        the report of a notebook with exercises is the report of the one without."""

        def preprocess(self, nb, resources):
            nb.cells = [cell for cell in nb.cells if not nbgrader_cell(cell)]
            return nb, resources

    class Landscape(Preprocessor):
        """Print a cell that shows a wide table (``tables.wide``) on the landscape page, with
        the cells before it back to the section's Markdown cell: left on the portrait page, a
        heading would end that page alone.  That Markdown cell becomes a code cell showing the
        same Markdown, since only code cells carry their tags into the page (as classes)."""

        def preprocess(self, nb, resources):
            from nbformat.v4 import new_code_cell, new_output

            for index, cell in enumerate(nb.cells):
                if not any('class="wide' in str(o.get("data", {}).get("text/html", ""))
                           for o in cell.get("outputs", [])):
                    continue
                for back in range(index, -1, -1):
                    heading = nb.cells[back].cell_type == "markdown"
                    if heading:
                        nb.cells[back] = new_code_cell(outputs=[new_output(
                            "display_data", data={"text/markdown": nb.cells[back].source})])
                    tags = nb.cells[back].setdefault("metadata", {}).setdefault("tags", [])
                    tags += [] if "landscape" in tags else ["landscape"]
                    if heading:
                        break
            return nb, resources

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, template_file="offline.html.j2",
                            extra_loaders=[DictLoader({"offline.html.j2": OFFLINE_TEMPLATE})])
    tags = TagRemovePreprocessor(remove_cell_tags={"remove_cell"},
                                 remove_all_outputs_tags={"remove_output"})
    exporter.register_preprocessor(tags, enabled=True)
    exporter.register_preprocessor(DropStderr(), enabled=True)
    exporter.register_preprocessor(DropLabCells(), enabled=True)
    exporter.register_preprocessor(DropRecords(), enabled=True)
    exporter.register_preprocessor(Landscape(), enabled=True)
    exporter.log.setLevel(logging.ERROR)  # its only warning here: figures get a generic alt text
    return exporter


def notebook_to_html(executed: Path, title: str) -> str:
    """Render an executed notebook as a standalone HTML page without code."""
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    notebook.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(notebook)
    return body.replace("</head>", PRINT_CSS + "</head>", 1)


def html_to_pdf(page: str, base_url: Path) -> bytes:
    """Print the HTML with WeasyPrint (``print_document``) as PDF bytes."""
    return print_document(page, base_url).write_pdf()


def print_document(page: str, base_url: Path):
    """The HTML laid out on paper by WeasyPrint; its notes on JupyterLab's screen-only CSS
    are muted.  Tests read the layout (where each box lies on its page) from it.

    WeasyPrint fetches what the page links to (images, stylesheets, and ``rel="attachment"``
    links, which it embeds in the PDF): ``report_fetcher`` lets it read only inline ``data:``
    and files inside ``base_url``, so no string in a report can pull a local file or a web
    page into the PDF.
    """
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=page, base_url=str(base_url),
                url_fetcher=report_fetcher(Path(base_url))).render()


def report_fetcher(folder: Path):
    """A WeasyPrint URL fetcher confined to ``folder``: ``data:`` and ``file:`` URLs of
    files inside it; everything else (other files, every network scheme) is refused."""
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import URLFetcher

    root = folder.resolve()

    class ReportFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = urlsplit(url).scheme.lower()
            if scheme == "file" and urlsplit(url).netloc in ("", "localhost"):
                path = Path(unquote(urlsplit(url).path)).resolve()
                if path.is_relative_to(root):
                    return super().fetch(url, headers)
            elif scheme == "data":
                return super().fetch(url, headers)
            raise ValueError(f"refused by mnistlab: {url[:200]} is outside the report's "
                             f"folder {root}")  # WeasyPrint logs it and goes on

    return ReportFetcher(allowed_protocols=("file", "data"), allow_redirects=False)


def render(executed: Path, html_path: Path, pdf_path: Path, title: str) -> None:
    """Write ``html_path`` and ``pdf_path`` from one executed notebook (both or neither)."""
    page = notebook_to_html(executed, title)
    pdf = html_to_pdf(page, html_path.parent)
    write_bytes_atomic(html_path, page.encode())
    write_bytes_atomic(pdf_path, pdf)


def write_index(reports_dir: Path) -> Path:
    """``reports/index.html`` (the scorecard of every rendered study, ``mnistlab.present.index_page``)
    and ``reports/summary.csv`` (its rows), both from the report manifests alone."""
    from mnistlab.analysis import scorecard
    from mnistlab.present.index_page import page

    manifests = sorted(reports_dir.glob("*/*.json")) + sorted(reports_dir.glob("quick/*/*.json"))
    entries = [json.loads(p.read_text()) for p in manifests]
    entries.sort(key=lambda e: (str(e.get("study_id", "")), e["experiment"], e["study"]))
    frame = scorecard.frame(entries)
    scorecard.write_csv(frame, summary_csv(reports_dir.parent))
    index = reports_dir / "index.html"
    write_bytes_atomic(index, page(entries, frame).encode())
    return index
