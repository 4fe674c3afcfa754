"""What a reader must never find on a rendered report page, found by reading the HTML.

Shared by the report tests (``test_report_pages``) and usable on any rendered report:
``python tests/page_checks.py reports/*/*.html`` prints every finding.  Each finding is
``(kind, the text around it)``.  Code font (``<code>``, ``<pre>``) is where a code name may
stand; everything else is prose or a table a reader reads.
"""

from __future__ import annotations

import re
import sys
from itertools import pairwise
from pathlib import Path

from bs4 import BeautifulSoup

REPR = re.compile(r"\{'|\[\{'|\['|\(\{'")                       # a dict, list or tuple literal
POINT_ZERO = re.compile(r"(?<![\d.])(?<!± )[1-9][\d,]+\.0000\b(?! ±)")  # 101632.0000: an integer as a float
LONG_FLOAT = re.compile(r"(?<![\w.])\d*\.\d{7,}")                 # 0.08333333333333333 ...
ZERO_SPREAD = re.compile(r"\bepochs? \d+\.0 ± 0\.0\b")          # "at epoch 8.0 ± 0.0"
# A snake_case word (an internal name: params keys, run columns, run and group names).
IDENTIFIER = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/-]|\.\w)")
PLURAL_GUESS = re.compile(r"\w\(s\)")                            # "epoch(s)"


def _reader_text(html: str) -> list[str]:
    """The text of every element a reader reads, code font removed, one string per block."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["style", "script", "code", "pre", "head"]):
        tag.decompose()
    blocks = soup.find_all(["p", "li", "td", "th", "h1", "h2", "h3", "h4", "caption"])
    return [" ".join(block.get_text(" ").split()) for block in blocks]


def internal_names(params_folder: Path) -> set[str]:
    """Our code names: every snake_case key and value of the params and published files,
    every field of the params schema, and every run column with its summary forms
    (``epoch_s_mean``, ``epoch_s_ci``)."""
    import yaml
    from pydantic import BaseModel

    from mnistlab.present.style import LABELS
    from mnistlab.spec import params

    names: set[str] = set()

    def collect(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                collect(key)
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, str):
            names.update(IDENTIFIER.findall(value) if " " not in value else [])

    for path in params_folder.rglob("*.yaml"):
        collect(yaml.safe_load(path.read_text()))
    for model in vars(params).values():
        if isinstance(model, type) and issubclass(model, BaseModel):
            names.update(n for n in model.model_fields if "_" in n)
    for column in list(LABELS) + ["epoch_s", "train_time_s", "train_cpu_s", "best_val_epoch"]:
        names.update({column, f"{column}_mean", f"{column}_ci"})
    return {n for n in names if "_" in n}


def _significant(number: str) -> int:
    """Significant digits of a decimal as printed: ``0.0000008`` has 1, ``0.0833333`` 6."""
    return len(number.replace(".", "").lstrip("0"))


def findings(html: str, names: set[str] = frozenset()) -> list[tuple[str, str]]:
    """Every Python repr, integer printed as a float, over-long float, "(s)" plural and
    internal name (one of ``names``, from ``internal_names``) in a report's reader text."""
    found = []
    for text in dict.fromkeys(_reader_text(html)):
        for kind, pattern in (("Python literal", REPR), ("integer as .0000", POINT_ZERO),
                              ("over 6 significant digits", LONG_FLOAT),
                              ("zero spread of an integer", ZERO_SPREAD),
                              ("code name outside code font", IDENTIFIER),
                              ("(s) plural", PLURAL_GUESS)):
            for match in pattern.finditer(text):
                if pattern is IDENTIFIER and match.group() not in names:
                    continue
                if pattern is LONG_FLOAT and _significant(match.group()) <= 6:
                    continue  # ... but 0.0000008 is one digit, not seven
                start = max(0, match.start() - 40)
                found.append((kind, f"{text[start:match.end() + 40]}"))
    return found


if __name__ == "__main__" and "--print" not in sys.argv:
    NAMES = internal_names(Path(__file__).resolve().parents[1] / "params")
    for name in sys.argv[1:]:
        for kind, context in findings(Path(name).read_text(), NAMES):
            print(f"{name}: {kind}: …{context}…")


# --- the printed page (WeasyPrint's layout of the report) --------------------------------

QUARTER = 0.25


def _content_box(sheet) -> tuple[float, float, float, float]:
    """Left, top, right and bottom of a page's content box (inside its margins)."""
    page = sheet._page_box
    left, top = page.content_box_x(), page.content_box_y()
    return left, top, left + page.width, top + page.height


def _classes(box) -> set[str]:
    element = getattr(box, "element", None)
    return set((element.get("class") or "").split()) if element is not None else set()


HEADINGS = ("h1", "h2", "h3", "h4")


def _kind(box) -> str | None:
    """``heading``, ``figure`` (an image or a table) or ``text`` for the boxes a page is
    read by; an image lies in a line box of its own, which makes that line a figure."""
    from weasyprint.formatting_structure.boxes import BlockBox, LineBox, TableBox

    tag = getattr(box, "element_tag", None)
    if isinstance(box, BlockBox) and tag in HEADINGS:
        return "heading"
    if isinstance(box, TableBox) and tag == "table":  # not a div JupyterLab lays out as one
        return "figure"
    if isinstance(box, LineBox):
        images = any(getattr(b, "element_tag", None) == "img" for b in box.descendants())
        return "figure" if images else "text"
    return None


def _lone_headings(pages: list[list[tuple[str, object]]]) -> list[tuple[str, str]]:
    """A heading followed on its page by text alone while the next page opens with a
    figure or table: the heading and its words ended one page, what they introduce began
    the next."""
    found = []
    for number, (page, following) in enumerate(pairwise(pages), 1):
        kinds = [kind for kind, _ in page]
        if "heading" not in kinds or not following or following[0][0] != "figure":
            continue
        last = len(kinds) - 1 - kinds[::-1].index("heading")
        if "figure" not in kinds[last:]:
            heading = " ".join(page[last][1].element.itertext()).split()
            found.append(("heading apart from its figure or table",
                          f"p{number}: {' '.join(heading[:8])}"))
    return found


def print_findings(document) -> list[tuple[str, str]]:
    """Every printing fault of a laid-out report (``report.print_document``): a text line
    running past the page's content box (a clipped glyph), a page less than a quarter full
    that is not the last, a caption or heading printed on another page than the table
    or figure it belongs to (everything in a ``.captioned`` block stays on one page), and a
    section heading at the foot of a page whose figure or table opens the next."""
    from weasyprint.formatting_structure.boxes import LineBox, MarginBox, TextBox

    found, pages_of, read = [], {}, []
    for number, sheet in enumerate(document.pages, 1):
        left, top, right, bottom = _content_box(sheet)
        lowest = top
        body = [box for child in sheet._page_box.children if not isinstance(child, MarginBox)
                for box in child.descendants()]  # the page number is in a margin box
        read.append([(kind, box) for box in body if (kind := _kind(box))])
        for box in body:
            if isinstance(box, LineBox):
                text = "".join(t.text for t in box.descendants() if isinstance(t, TextBox))
                lowest = max(lowest, box.position_y + box.height)
                if text.strip() and box.position_x + box.width > right + 0.5 \
                        and any(isinstance(t, TextBox) and t.position_x + t.width > right + 0.5
                                for t in box.descendants()):
                    found.append(("clipped at the right edge", f"p{number}: {text[-40:]}"))
            elif getattr(box, "element_tag", None) == "img":
                lowest = max(lowest, box.position_y + box.margin_height())
            if "captioned" in _classes(box):
                pages_of.setdefault(id(box.element), (box.element, set()))[1].add(number)
        if number < len(document.pages) and (lowest - top) < QUARTER * (bottom - top):
            found.append(("page less than a quarter full", f"p{number}"))
    for element, pages in pages_of.values():
        if len(pages) > 1:
            caption = " ".join(element.itertext()).split()[:8]
            found.append(("caption apart from its table or figure",
                          f"pp{sorted(pages)}: {' '.join(caption)}"))
    return found + _lone_headings(read)


if __name__ == "__main__" and "--print" in sys.argv:
    from mnistlab.present.report import print_document

    for name in sys.argv[1:]:
        if name.endswith(".html"):
            path = Path(name)
            for kind, context in print_findings(print_document(path.read_text(), path.parent)):
                print(f"{name}: {kind}: {context}")
