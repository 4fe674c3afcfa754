"""Strings from params and published files, made inert before they reach a report.

Those strings land in Markdown cells (rendered to HTML by nbconvert, which passes raw HTML
and ``javascript:`` links through) and in HTML outputs, and from there in the PDF.  ``text``
escapes HTML and writes the characters that start Markdown links, code, emphasis or maths as
character references, so a title shows exactly as typed, whichever of the two it lands in.
"""

from __future__ import annotations

import html

MARKDOWN_SPECIALS = "\\`*_[]$~|#"


def text(value: object) -> str:
    """``value`` as literal text in Markdown or HTML: ``<script>`` shows as ``<script>``,
    ``[x](javascript:...)`` as those characters, never as a tag or a link."""
    return "".join(f"&#{ord(ch)};" if ch in MARKDOWN_SPECIALS else html.escape(ch, quote=True)
                   for ch in str(value))  # one character at a time: "#" of "&#x27;" stays


def code(value: object) -> str:
    """``value`` in a code font, inert like ``text`` (a Markdown code span would show the
    escapes themselves, and a backtick in the value would end it)."""
    return f"<code>{text(value)}</code>"
