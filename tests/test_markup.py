"""Strings from params files show exactly as typed, whether they land in Markdown or HTML."""

from __future__ import annotations

import re
from html import unescape

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from mnistlab.core import markup

TYPED = [
    "the study's Table 1 (\"as printed\")",
    "row #3 & row #4: 50% of *all* runs_total",
    "<script>alert(1)</script> [click](javascript:alert(2)) `code` $x^2$ ~a~ |b|",
    "a \\ backslash, &amp; already an entity, &#35; too",
]


def _shown(fragment: str) -> str:
    """The text a reader sees: tags dropped, character references decoded."""
    return unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


@pytest.mark.parametrize("typed", TYPED)
def test_text_shows_as_typed_through_markdown(typed):
    rendered = markdown2html_mistune(markup.text(typed))
    assert _shown(rendered) == typed
    assert "<script" not in rendered and "<a " not in rendered and "<em>" not in rendered


@pytest.mark.parametrize("typed", TYPED)
def test_text_and_code_show_as_typed_in_html(typed):
    assert _shown(markup.text(typed)) == typed
    assert markup.code(typed).startswith("<code>") and _shown(markup.code(typed)) == typed
