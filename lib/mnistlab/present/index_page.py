"""``reports/index.html``: the front page of the reproduction, built from the report manifests.

One self-contained page (inline CSS, an inline SVG figure, a few lines of inline script for
the filters; nothing fetched, so it opens offline and prints): the studies with their runs'
provenance and reports, verdict counts per study as a figure, and the scorecard with one
row per published number.  Every string that comes from a params or published file (titles,
table and row names, sections) is HTML-escaped here, at the one place it meets HTML.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from html import escape
from typing import Any

import pandas as pd

from mnistlab.analysis.scorecard import (NUMBER_VERDICTS, counted, counts, entry_base,
                                         headline, sentence)
from mnistlab.analysis.verdicts import VERDICTS


def page(entries: list[dict[str, Any]], scorecard: pd.DataFrame) -> str:
    """The whole index page for these manifests and their scorecard frame."""
    tally = counts(scorecard)
    quick = [e for e in entries if e.get("profile") == "quick"]
    warning = (f'<p class="warning">{len(quick)} of {len(entries)} studies were run with the '
               '<span class="quick">quick</span> profile: previews on a small subset, not '
               "reproductions. Run <code>make report</code> for the full profile.</p>"
               if quick else "")
    body = (_studies(entries, tally) + _cards(entries, tally) + _overview(tally, entries)
            + _scorecard(scorecard, tally)
            if entries else '<p>No reports yet: run <code>make report</code>.</p>')
    written = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mnistlab — reproduction scorecard</title>
<style>{_style()}</style></head>
<body>
<h1>mnistlab — reproduction scorecard</h1>
<p class="lead">{_overall(scorecard)}</p>
{warning}
{body}
<footer>The same rows, machine-readable: <a href="summary.csv">summary.csv</a>.
Page written {written}.</footer>
<script>{SCRIPT}</script>
</body></html>
"""


def _overall(scorecard: pd.DataFrame) -> str:
    if scorecard.empty:
        return "No published numbers compared yet."
    return (f"<strong>{escape(headline(scorecard))}</strong>. Every published number is a "
            "single training run, so a value is judged by our <strong>95% prediction interval "
            "for a single run</strong> (mean ± t·s·√(1 + 1/n) over our seeds), a stated bound "
            "(\"above 95%\") by where that whole interval lies, a parameter count by equality, "
            "and a time measured on another machine only by its trend. A table the study's "
            "text allows several readings of (raw pixels, older defaults, another way to "
            "count) is counted once, by the reading that follows the study as written; a number "
            "far under it but reproduced under another reading is <em>explained</em>. The "
            "verdicts are defined under the figure below.")


def _studies(entries: list[dict[str, Any]], tally: pd.DataFrame) -> str:
    rows = []
    for e in entries:
        links, agreement = _links(e), _agreement(e, tally)
        profile = escape(str(e.get("profile", "?")))
        profile_html = (f'<span class="quick">{profile}</span><br><small>preview, not a '
                        "reproduction</small>" if profile == "quick" else profile)
        authors = escape(", ".join(e.get("authors") or []))
        rows.append(
            f'<tr><td><strong>{escape(str(e.get("study_id", "")))}</strong></td>'
            f'<td>{escape(e.get("title", ""))}<br><small>{authors} · experiment '
            f'<code>{escape(e["experiment"])}</code></small></td>'
            f'<td><code>{escape(str(e.get("seed_file", "–")))}</code></td><td>{profile_html}</td>'
            f'<td>{escape(str(e.get("rendered", "–")))}<br><small>{_duration(e)}'
            f'</small></td><td><code>{escape(str(e.get("commit", "–")))}</code></td>'
            f'<td><small>{escape(str(e.get("machine", "–")))}</small></td>'
            f'<td class="links">{" · ".join(links)}</td><td>{escape(agreement)}'
            f'{_far_link(e, tally)}</td></tr>')
    return f"""<h2>Studies</h2>
<div class="wide desktop"><table class="studies"><thead><tr><th>id</th><th>study</th><th>seed file</th><th>profile</th>
<th>run (UTC)</th><th>commit</th><th>machine</th><th>report</th><th>agreement</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></div>"""


def _links(e: dict[str, Any]) -> list[str]:
    base = entry_base(e)
    links = [f'<a href="{_attr(base)}.html">HTML</a>', f'<a href="{_attr(base)}.pdf">PDF</a>']
    if e.get("notebook"):
        links.append(f'<a href="{_attr(base)}.ipynb">notebook</a>')
    return links


def _agreement(e: dict[str, Any], tally: pd.DataFrame) -> str:
    key = (e["experiment"], e["study"])
    return sentence(tally.loc[key]) if key in tally.index else "no published numbers to compare"


def _far_link(e: dict[str, Any], tally: pd.DataFrame) -> str:
    """A link to the study's rows of the scorecard when some of its numbers are not
    reproduced (far, failing, differing or undecided)."""
    key = (e["experiment"], e["study"])
    if key not in tally.index:
        return ""
    missed = int(tally.loc[key, ["far", "fails", "differs", "undecided"]].sum())
    if not missed:
        return ""
    return (f'<br><a href="#{_attr(_group_id(*key))}">the {missed} not reproduced, with '
            "what was tried</a>")


def _group_id(experiment: str, study: str) -> str:
    return f"numbers-{experiment}-{study}"


def _cards(entries: list[dict[str, Any]], tally: pd.DataFrame) -> str:
    """The studies table on a phone: one card per study with its verdict counts and links
    (shown instead of the table on narrow screens; the table stays for desktop and print)."""
    cards = []
    for e in entries:
        quick = ' <span class="quick">quick preview</span>' if e.get("profile") == "quick" else ""
        cards.append(
            f'<article class="card"><h3>{escape(str(e.get("study_id", "")))} · '
            f'{escape(e["experiment"].replace("_", " "))}{quick}</h3>'
            f'<p>{escape(e.get("title", ""))}</p><p><strong>{escape(_agreement(e, tally))}</strong></p>'
            f'<p class="links">{" · ".join(_links(e))}</p><p><small>{_duration(e)}</small></p></article>')
    return f'<div class="cards">{"".join(cards)}</div>'


def _overview(tally: pd.DataFrame, entries: list[dict[str, Any]]) -> str:
    if tally.empty:
        return ""
    return ("<h2>Verdicts per study</h2>" + overview_svg(tally, _titles(entries))
            + '<p class="legend">' + " ".join(
                f'<span class="swatch" style="background:{v.colour}"></span>{escape(v.label)}: '
                f"{escape(v.meaning)}.<br>" for v in VERDICTS.values()) + "</p>")


def overview_svg(tally: pd.DataFrame, titles: dict[tuple[str, str], str]) -> str:
    """One bar per study, split by verdict (share of its distinct published numbers judged
    by value, bound or count; counts written on), its label on the line above: the figure is narrow enough that a phone shrinks it
    little and the labels stay readable."""
    bar_w, row_h, top = 520, 46, 4
    width, height = bar_w + 50, top + row_h * int((tally["numbers"] > 0).sum())
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="overview" role="img" '
             f'width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="Verdict counts per study">']
    for i, (key, row) in enumerate(tally[tally["numbers"] > 0].iterrows()):
        y = top + i * row_h
        label = _shorten(titles.get(key, f"{key[0]}/{key[1]}"), 60)
        parts.append(f'<text x="0" y="{y + 15}">{escape(label)}</text>')
        x, y = 0.0, y + 20
        for name in NUMBER_VERDICTS:
            verdict = VERDICTS[name]
            if not row[name]:
                continue
            share = bar_w * row[name] / row["numbers"]
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{share:.1f}" height="20" '
                         f'fill="{verdict.colour}"><title>{escape(label)}: {row[name]} '
                         f"{escape(verdict.label)}</title></rect>")
            if share >= 22:
                parts.append(f'<text x="{x + share / 2:.1f}" y="{y + 16}" text-anchor="middle" '
                             f'fill="#fff" font-weight="bold">{row[name]}</text>')
            x += share
        parts.append(f'<text x="{bar_w + 6}" y="{y + 16}">{row["numbers"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _scorecard(scorecard: pd.DataFrame, tally: pd.DataFrame) -> str:
    if scorecard.empty:
        return "<h2>Every published number</h2><p>No study has published numbers to compare.</p>"
    options = "".join(f'<option value="{_attr(f"{e}/{s}")}">{escape(_study_name(part))}</option>'
                      for (e, s), part in scorecard.groupby(["experiment", "study"], sort=False))
    primary = counted(scorecard)
    boxes = "".join(f'<label class="v-{name}"><input type="checkbox" value="{name}" checked> '
                    f'{escape(v.label)} ({int((primary["verdict"] == name).sum())})</label>'
                    for name, v in VERDICTS.items() if (primary["verdict"] == name).any())
    alternatives = int((~scorecard["primary"].astype(bool)).sum())
    readings = (f'<label title="rows of the alternative readings: evidence, not counted">'
                f'<input type="checkbox" id="alternatives"> other readings ({alternatives})'
                '</label>' if alternatives else "")
    groups = []
    for (experiment, study), part in scorecard.groupby(["experiment", "study"], sort=False):
        heading = f"{_study_name(part)}: {sentence(tally.loc[(experiment, study)])}"
        rows = "".join(_number_row(r) for _, r in part.iterrows())
        groups.append(f'<tbody data-study="{_attr(f"{experiment}/{study}")}">'
                      f'<tr class="group" id="{_attr(_group_id(experiment, study))}">'
                      f'<th colspan="12">{escape(heading)}</th></tr>{rows}</tbody>')
    return f"""<h2>Every published number</h2>
<p>One row per published number under the study's primary reading; rows of the alternative
readings (<em>reading</em> named under the table's title) are the evidence a number is
<em>explained</em> by, and are not counted. <strong>95% PI, one run</strong>: where a single run
of ours lands with 95% probability, cut at what the metric can be; the verdict is judged by it.
A published difference of two rows (+/- columns) is judged by the interval of a difference of
two independent runs. <strong>95% CI of the mean</strong>: where our mean over seeds lies; it
shrinks with more seeds and is shown for reference. Δ = our mean − published.
<strong>Tolerance</strong>: the difference the study's published file accepts as a reproduction
when the published value lies outside our interval (– where it states none). Hover a verdict for
its reason, a table name for its caption.</p>
<div class="controls" id="controls" hidden>
<label>Study <select id="study-filter"><option value="">all studies</option>{options}</select></label>
<span id="verdict-filter">{boxes}</span> {readings} <span id="shown"></span></div>
<div class="wide"><table id="scorecard"><thead><tr><th>study</th><th>table</th><th>row</th><th>column</th>
<th>published</th><th>our mean</th><th>95% PI, one run</th><th>95% CI of the mean</th>
<th>Δ</th><th>tolerance</th><th>verdict</th><th>why, and where it is explained</th></tr></thead>
{"".join(groups)}</table></div>"""


def _number_row(r: pd.Series) -> str:
    d = int(r["digits"])
    verdict = VERDICTS[r["verdict"]]
    reading = (f'<br><small>reading: {escape(str(r["reading"]))}</small>'
               if r["reading"] else "")
    published = _num(r["published"], d)
    if r["kind"] == "bound":
        published = f"{'&gt;' if r['direction'] == 'above' else '&lt;'} {published}"
    kind = "primary" if r["primary"] else "alternative"
    return (f'<tr class="number {kind}" data-verdict="{verdict.name}">'
            f'<td>{escape(str(r["study_id"]))}</td>'
            f'<td title="{_attr(r.get("caption") or "")}">{escape(_table_title(r))}{reading}</td>'
            f'<td>{_row_name(r)}</td><td>{escape(str(r["label"]))}</td>'
            f'<td class="num">{published}</td><td class="num">{_num(r["mean"], d)}'
            f'<br><small>n = {int(r["n"])}</small></td>'
            f'<td class="num interval">{_interval(r["pi_low"], r["pi_high"], d)}</td>'
            f'<td class="num interval ci">{_interval(r["ci_low"], r["ci_high"], d)}</td>'
            f'<td class="num">{_delta(r, d)}</td>'
            f'<td class="num">{_tolerance(r, d)}</td>'
            f'<td class="verdict v-{verdict.name}" title="{_attr(r["why"] or verdict.meaning)}">'
            f'{escape(verdict.label)}</td><td>{_why(r)}</td></tr>')


def _delta(r: pd.Series, d: int) -> str:
    """Δ where a difference means something: not for a bound or a time from another machine."""
    return "–" if r["kind"] in ("bound", "trend") else _num(r["delta"], d, signed=True)


def _why(r: pd.Series) -> str:
    """The reason in words for a number not simply inside (tooltip text made visible, since
    a printed page has no hover), and the report section that explains it."""
    parts = []
    if r["verdict"] not in ("inside", "exact") and r["why"]:
        parts.append(f"<small>{escape(str(r['why']))}</small>")
    explanation = _explanation(r)
    if explanation:
        parts.append(explanation)
    return "<br>".join(parts)


def _table_title(r: pd.Series) -> str:
    """A table as its report names it (its caption's title: "Table III, reading A (...)"),
    not by its key in the published file."""
    from mnistlab.spec.published import PublishedTable

    caption = r.get("caption")
    if _missing(caption) or not caption:
        return str(r["table"])
    return PublishedTable(str(r["table"]), str(caption), pd.DataFrame()).title


def _explanation(r: pd.Series) -> str:
    if _missing(r["explanation"]):
        return ""
    link = f'<a href="{_attr(r["explanation_link"])}">{escape(str(r["explanation"]))}</a>'
    return link if r["anchor_found"] else link + " <small>(section not found in the report)</small>"


def _tolerance(r: pd.Series, d: int) -> str:
    stated = r["tolerance_stated"]
    if _missing(stated):
        return "–"
    if isinstance(stated, str):
        return f"±{escape(stated)} <small>(±{_num(r['tolerance'], d)})</small>"
    return f"±{_num(r['tolerance'], d)}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _num(value: float, digits: int, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _interval(low: float, high: float, digits: int) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    return f"[{_num(low, digits)}, {_num(high, digits)}]"


def _row_name(r: pd.Series) -> str:
    """The published key; a bare number gets its column's name ("hidden layers 3")."""
    row = escape(str(r["row"]))
    try:
        float(r["row"])
    except ValueError:
        return row
    key = escape(str(r["key"]).replace("_", " "))
    return f'<span class="nowrap"><small>{key}</small> {row}</span>' if key else row


def _study_name(part: pd.DataFrame) -> str:
    first = part.iloc[0]
    return f"{first['study_id']} — {first['title']}"


def _titles(entries: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """Bar labels: the id and experiment first, since one study may feed several experiments."""
    return {(e["experiment"], e["study"]):
            f"{e.get('study_id', '')} {e['experiment']}: {e.get('title', '')}".strip()
            for e in entries}


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _duration(e: dict[str, Any]) -> str:
    """How long the study's runs took to train (CPU and wall time, cached runs included) and
    how long this report took to render: rendering from the cache takes seconds."""
    parts = []
    if isinstance(e.get("training_train_cpu_s"), (int, float)):
        parts.append(f"training: {_time(e['training_train_cpu_s'])} CPU, "
                     f"{_time(e.get('training_train_time_s', float('nan')))} wall")
    if isinstance(e.get("seconds"), (int, float)):
        parts.append(f"report: {float(e['seconds']):.0f} s")
    return "; ".join(parts)


def _time(seconds: float) -> str:
    """``45 s``, ``12 min``, ``2.1 h``."""
    if not math.isfinite(seconds):
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _attr(value: Any) -> str:
    return escape(str(value), quote=True)


def _style() -> str:
    tints = "".join(f".v-{name}{{background:{v.tint}}}" for name, v in VERDICTS.items())
    return """
body{font-family:system-ui,sans-serif;max-width:96em;margin:1.5em auto;padding:0 1em;color:#222;
  -webkit-print-color-adjust:exact;print-color-adjust:exact}
table{border-collapse:collapse;margin:.5em 0 1.5em}
#scorecard{font-size:92%}
td,th{padding:3px 7px;text-align:left;border-bottom:1px solid #ddd;vertical-align:top}
thead th{background:#f3f3f3;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.ci{color:#666}
.nowrap{white-space:nowrap}
tr.group th{background:#e8eef7;font-size:105%;padding-top:8px}
tr.alternative td{color:#555;background:#fafafa}
td.verdict{font-weight:bold}
td.interval{white-space:normal}
.quick{color:#c00;font-weight:bold}
.warning{border-left:4px solid #c00;background:#fff3f3;padding:4px 10px}
.lead{font-size:105%;max-width:60em}
.controls{margin:.5em 0;padding:6px;background:#f7f7f7;border:1px solid #ddd}
.controls label{margin-right:1em;padding:2px 5px;border-radius:3px;white-space:nowrap}
.controls select{max-width:min(24em,70vw)}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.4em;vertical-align:-1px}
svg.overview{max-width:100%;height:auto}
svg.overview text{font:15px system-ui,sans-serif}
@media (max-width:80em){.wide{overflow-x:auto}}
.cards{display:none}
.card{border:1px solid #ddd;border-radius:4px;padding:4px 10px;margin:.6em 0}
.card h3{margin:.3em 0;font-size:105%}.card p{margin:.3em 0}
.links a{display:inline-block;padding:4px 2px}
@media screen and (max-width:40em){.cards{display:block}.desktop{display:none}}
footer{margin-top:2em;color:#666;font-size:90%}
@page{size:A4 landscape;margin:10mm}
@media print{body{max-width:none;margin:0;font-size:8pt}.controls{display:none}
  thead th{position:static}tr{page-break-inside:avoid}h2{page-break-after:avoid}}
""" + tints


SCRIPT = """
(function () {
  var controls = document.getElementById('controls');
  if (!controls) return;
  controls.hidden = false;
  var select = document.getElementById('study-filter');
  var boxes = Array.prototype.slice.call(document.querySelectorAll('#verdict-filter input'));
  var groups = Array.prototype.slice.call(document.querySelectorAll('#scorecard tbody'));
  var alternatives = document.getElementById('alternatives');
  function apply() {
    var wanted = {}, shown = 0, total = 0;
    var showAlternatives = alternatives && alternatives.checked;
    boxes.forEach(function (box) { wanted[box.value] = box.checked; });
    groups.forEach(function (group) {
      var inStudy = !select.value || group.dataset.study === select.value, visible = 0;
      group.querySelectorAll('tr.number').forEach(function (row) {
        var alternative = row.classList.contains('alternative');
        row.hidden = !(inStudy && wanted[row.dataset.verdict] !== false
                       && (!alternative || showAlternatives));
        if (!alternative) total += 1;
        if (!row.hidden && !alternative) visible += 1;
      });
      group.hidden = !group.querySelector('tr.number:not([hidden])');
      shown += visible;
    });
    document.getElementById('shown').textContent =
      'showing ' + shown + ' of ' + total + ' published numbers';
  }
  select.addEventListener('change', apply);
  boxes.forEach(function (box) { box.addEventListener('change', apply); });
  if (alternatives) alternatives.addEventListener('change', apply);
  apply();
})();
"""
