"""Printed reports hold every column: a table too wide for a landscape page is printed in
parts, each repeating the row labels, and no text runs off the paper."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mnistlab.present.tables import PRINTED_WIDTH, print_parts, printed_width, wide
from mnistlab.present.report import PRINT_CSS, print_document

GROUPS = ("loss", "loss +/-", "loss +/-%", "accuracy", "accuracy +/-", "accuracy +/-%")
CONTEXT = ("first layer", "second layer", "third layer", "dropout")


def _figure4_like(rows: int = 5) -> pd.DataFrame:
    """The shape of study 001's Figure 4 beside our runs: 4 descriptive columns, 6 groups of 4."""
    columns = [(c, "") for c in CONTEXT]
    columns += [(g, s) for g in GROUPS for s in ("published", "mean ± CI", "95% PI", "Δ")]
    cells = ["128", "100", "", "0.25"] + ["0.073", "0.072 ± 0.005", "[0.061, 0.083] ✓", "+0.002"] * 6
    return pd.DataFrame([cells] * rows, columns=pd.MultiIndex.from_tuples(columns),
                        index=pd.Index([f"Increase Neurons in 1st and 2nd layer {i}"
                                        for i in range(rows)], name="description"))


def test_a_wide_table_is_cut_between_groups_repeating_its_descriptive_columns():
    frame = _figure4_like()
    parts = print_parts(frame, limit=14)
    assert [len(p.columns) for p in parts] == [12, 12, 12]
    for part in parts:
        assert [c[0] for c in part.columns[:4]] == list(CONTEXT)
    printed = [c for p in parts for c in p.columns if c[1] != ""]
    assert printed == [c for c in frame.columns if c[1] != ""], "every group once, in order"
    assert len(print_parts(frame, limit=100, width=10**4)) == 1
    flat = pd.DataFrame({"a": [1], "b": [2]})
    assert print_parts(flat, limit=1)[0] is flat, "a table without groups is never cut"


def text_beyond_the_paper(page: str, base_url: Path) -> list[str]:
    """Every piece of text that the printed layout places past a page's right edge."""
    from weasyprint.formatting_structure.boxes import TextBox

    lost = []
    for sheet in print_document(page, base_url).pages:
        for box in sheet._page_box.descendants():
            if isinstance(box, TextBox) and box.position_x + box.width > sheet.width + 0.5:
                lost.append(box.text)
    return lost


def test_the_wide_table_prints_whole_where_the_plain_one_is_cut(tmp_path):
    frame = _figure4_like()
    page = f"<html><head>{PRINT_CSS}</head><body>BODY</body></html>"
    assert text_beyond_the_paper(page.replace("BODY", wide(frame).data), tmp_path) == []
    plain = f'<div class="wide">{frame.to_html()}</div>'
    assert "accuracy +/-%" in text_beyond_the_paper(page.replace("BODY", plain), tmp_path), \
        "the check sees a table running off the page"


def test_each_printed_part_keeps_its_label_on_its_own_page(tmp_path):
    from weasyprint.formatting_structure.boxes import TextBox

    page = f"<html><head>{PRINT_CSS}</head><body>{wide(_figure4_like(rows=14)).data}</body></html>"
    firsts = [next(b.text for b in sheet._page_box.descendants() if isinstance(b, TextBox))
              for sheet in print_document(page, tmp_path).pages]
    assert firsts == ["Columns, part 1 of 3", "Columns, part 2 of 3", "Columns, part 3 of 3"]



def _three_groups(cells: list[str]) -> pd.DataFrame:
    columns = [(f"metric {g}", s) for g in range(3) for s in ("published", "mean ± CI", "95% PI", "Δ")]
    return pd.DataFrame([cells * 3] * 10, columns=pd.MultiIndex.from_tuples(columns),
                        index=pd.Index([str(i) for i in range(1, 11)], name="hidden layers"))


def test_a_table_kept_in_one_part_fits_the_landscape_page_and_a_wider_one_is_cut(tmp_path):
    """The width budget holds for the report's real table style: a table of long cells at
    the budget prints whole, and one a few characters wider is cut (a depth table whose
    times grew by a digit under load ran past the edge when only columns were counted)."""
    fits = _three_groups(["0.995", "0.893 ± 0.057", "[0.794, 0.992]", "-0.10"])
    wider = _three_groups(["0.9958", "0.8937 ± 0.0572", "[0.7947, 0.9928] ✗", "-0.1021"])
    assert PRINTED_WIDTH - 6 <= printed_width(fits) <= PRINTED_WIDTH < printed_width(wider)
    assert len(print_parts(fits)) == 1 and len(print_parts(wider)) == 2
    page = (f'<html><head>{PRINT_CSS}</head><body><div class="jp-RenderedHTMLCommon">'
            '<div class="wide">BODY</div></div></body></html>')
    assert text_beyond_the_paper(page.replace("BODY", fits.to_html()), tmp_path) == []
    assert text_beyond_the_paper(page.replace("BODY", wider.to_html()), tmp_path), \
        "the check sees the wider table, printed whole, run off the page"
