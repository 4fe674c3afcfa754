"""Turn an executed notebook into a paper-like HTML report and a PDF, and index them.

HTML comes from nbconvert without code cells; the PDF is that same HTML printed by
WeasyPrint, which a ``pip install`` alone sets up (no browser, no LaTeX).  Both files are
written to temporary names and renamed, so a failed render never leaves a half report.
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from typing import Any

from .cache import write_bytes_atomic
from .labs import nbgrader_cell
from .paths import PACKAGE_DIR

TEMPLATES = PACKAGE_DIR / "templates"  # "report": JupyterLab's page without CDN scripts

PRINT_CSS = """
<style>
@page { size: A4; margin: 12mm 9mm 14mm 9mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; } }
@page wide { size: A4 landscape; margin: 10mm; }
div.wide { page: wide; }
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
                                 margin-left: 0 !important; page-break-inside: avoid; }
  div.wide table { font-size: 7.5pt !important; }
  div.wide th { white-space: normal !important; }
  div.wide tbody th { min-width: 30mm; max-width: 42mm; white-space: normal !important; }
  img { max-width: 100% !important; page-break-inside: avoid; }
  h1, h2, h3 { page-break-after: avoid; }
}
</style>
"""


def _exporter():
    """nbconvert's lab HTML without code; imported here so the CLI starts fast when up to date."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

    class DropStderr(Preprocessor):
        """Remove stderr streams (TensorFlow warnings) from the report, not from the notebook."""

        def preprocess_cell(self, cell, resources, index):
            if cell.get("outputs"):
                cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
            return cell, resources

    class DropLabCells(Preprocessor):
        """Leave the labs' exercises out (cells with nbgrader metadata, ``mnistlab.labs``):
        the report of a notebook with exercises is the report of the one without."""

        def preprocess(self, nb, resources):
            nb.cells = [cell for cell in nb.cells if not nbgrader_cell(cell)]
            return nb, resources

    exporter = HTMLExporter(template_name="report", extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    tags = TagRemovePreprocessor(remove_cell_tags={"remove_cell"},
                                 remove_all_outputs_tags={"remove_output"})
    exporter.register_preprocessor(tags, enabled=True)
    exporter.register_preprocessor(DropStderr(), enabled=True)
    exporter.register_preprocessor(DropLabCells(), enabled=True)
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
    """Print the HTML with WeasyPrint; its notes on JupyterLab's screen-only CSS are muted."""
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=page, base_url=str(base_url)).write_pdf()


def render(executed: Path, html_path: Path, pdf_path: Path, title: str) -> None:
    """Write ``html_path`` and ``pdf_path`` from one executed notebook (both or neither)."""
    page = notebook_to_html(executed, title)
    pdf = html_to_pdf(page, html_path.parent)
    write_bytes_atomic(html_path, page.encode())
    write_bytes_atomic(pdf_path, pdf)


def write_index(reports_dir: Path) -> Path:
    """``reports/index.html``: every rendered report with its profile, date and run time."""
    manifests = sorted(reports_dir.glob("*/*.json")) + sorted(reports_dir.glob("quick/*/*.json"))
    entries = [json.loads(p.read_text()) for p in manifests]
    rows = "\n".join(_index_row(entry) for entry in entries) or \
        '<tr><td colspan="5">No reports yet: run <code>make report</code>.</td></tr>'
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>mnistlab reports</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{padding:4px 10px;
text-align:left;border-bottom:1px solid #ddd}}.quick{{color:#b00;font-weight:bold}}</style></head>
<body><h1>mnistlab reports</h1><p>Each report sets our measured numbers (mean ± 95% CI over
seeds) beside the published ones. Reports marked <span class="quick">quick</span> are previews
on a small subset, not reproductions; they are kept apart, in <code>quick/</code>, so a preview
never replaces a full report.</p>
<table><tr><th>experiment</th><th>study</th><th>report</th><th>profile</th><th>rendered</th></tr>
{rows}</table></body></html>"""
    index = reports_dir / "index.html"
    write_bytes_atomic(index, page.encode())
    return index


def _index_row(entry: dict[str, Any]) -> str:
    preview = "quick/" if entry["profile"] == "quick" else ""
    link = f"{preview}{entry['experiment']}/{entry['study']}"
    css = ' class="quick"' if entry["profile"] == "quick" else ""
    return (f"<tr><td>{html.escape(entry['experiment'])}</td><td>{html.escape(entry['title'])}</td>"
            f'<td><a href="{link}.html">HTML</a> · <a href="{link}.pdf">PDF</a></td>'
            f"<td{css}>{entry['profile']}</td><td>{entry['rendered']} "
            f"({entry['seconds']:.0f} s)</td></tr>")
