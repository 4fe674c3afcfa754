"""CSV files people open in a spreadsheet: no text cell of ours can become a formula.

Run names, labels and published keys come from params files anyone may hand over.  A cell
such as ``=HYPERLINK("http://…")`` would be evaluated by Excel or LibreOffice, so, as OWASP
recommends against CSV injection, a text cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is written with a leading apostrophe.  Numbers stay numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnistlab.core.cache import write_bytes_atomic

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """``value``, with an apostrophe in front when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(frame: "pd.DataFrame", path: Path) -> Path:
    """``frame`` as a CSV file (no index), its text cells neutralised, written atomically."""
    write_bytes_atomic(path, frame.map(neutralised).to_csv(index=False).encode())
    return path
