"""What a reader must never find on a rendered report page, found by reading the HTML.

Shared by the report tests (``test_report_pages``) and usable on any rendered report:
``python tests/page_checks.py reports/*/*.html`` prints every finding.  Each finding is
``(kind, the text around it)``.  Code font (``<code>``, ``<pre>``) is where a code name may
stand; everything else is prose or a table a reader reads.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup

REPR = re.compile(r"\{'|\[\{'|\['|\(\{'")                       # a dict, list or tuple literal
POINT_ZERO = re.compile(r"(?<![\d.])\d[\d,]*\.0000\b(?!\s*±)")   # 101632.0000: an integer as a float
LONG_FLOAT = re.compile(r"(?<![\w.])\d*\.\d{7,}")                 # 0.08333333333333333
ZERO_SPREAD = re.compile(r"\b\d+\.0 ± 0\.0\b")                   # "epoch 8.0 ± 0.0"
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


def findings(html: str) -> list[tuple[str, str]]:
    """Every Python repr, integer printed as a float, over-long float, internal identifier
    and "(s)" plural in a report's reader text."""
    found = []
    for text in dict.fromkeys(_reader_text(html)):
        for kind, pattern in (("Python literal", REPR), ("integer as .0000", POINT_ZERO),
                              ("over 6 significant digits", LONG_FLOAT),
                              ("zero spread of an integer", ZERO_SPREAD),
                              ("code name outside code font", IDENTIFIER),
                              ("(s) plural", PLURAL_GUESS)):
            for match in pattern.finditer(text):
                start = max(0, match.start() - 40)
                found.append((kind, f"{text[start:match.end() + 40]}"))
    return found


if __name__ == "__main__":
    for name in sys.argv[1:]:
        for kind, context in findings(Path(name).read_text()):
            print(f"{name}: {kind}: …{context}…")
