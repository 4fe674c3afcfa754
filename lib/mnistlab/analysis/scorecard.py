"""The reproduction scorecard: every published number of every study against our runs.

Every published number is a single run, so it is judged by our 95% *prediction interval for
a single run* (``stats.Spread.pi``); the 95% confidence interval of our mean travels beside it
but never decides.  Verdicts, in the order they are tried:

* ``inside``: the published value lies inside the prediction interval, so one of our runs
  could have given it;
* ``close``: outside it, but |our mean − published| is within the tolerance the published file
  states for that column (``tolerance`` in its ``compare`` block);
* ``far``: neither;
* ``unjudged``: fewer than two finite runs, so there is no interval to judge by.

The data flow, so every study appears without code of its own: the notebook's
``Study.agreement`` records its frame as an output of its cell (``agreement_record``, under
the ``AGREEMENT_MIME`` type, as papermill's scrapbook records values); after rendering, the
runner reads it back from the executed notebook (``agreement_from_notebook``) and stores the published numbers of that frame with their tolerances and explanation
links in the report's manifest (``manifest_rows``); ``frame`` turns all manifests into the
index's rows and ``reports/summary.csv``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd

from mnistlab.core import csvfile
from mnistlab.spec.published import PublishedTable, tolerance_of


@dataclass(frozen=True)
class Verdict:
    name: str
    label: str
    colour: str  # strong colour: the overview figure
    tint: str  # light colour: the verdict cell
    meaning: str


VERDICTS: dict[str, Verdict] = {v.name: v for v in (
    Verdict("inside", "inside", "#2e7d32", "#c8e6c9",
            "inside our 95% prediction interval for a single run"),
    Verdict("close", "within tolerance", "#b26a00", "#ffe0a3",
            "outside that interval, but |Δ| is within the tolerance the published file states"),
    Verdict("far", "far", "#c62828", "#f8c4c4",
            "outside that interval and beyond any stated tolerance"),
    Verdict("unjudged", "not judged", "#757575", "#e0e0e0",
            "fewer than two finite runs, so no interval to judge by"),
)}

SUMMARY_COLUMNS = ["experiment", "study", "study_id", "profile", "table", "row", "column",
                   "metric", "reference", "published", "n", "mean", "sd", "pi_low", "pi_high",
                   "ci_low", "ci_high", "delta", "tolerance", "tolerance_stated", "verdict",
                   "explanation", "explanation_link"]


def verdict(published: float, mean: float, pi: float, n: int, tolerance: float = math.nan) -> str:
    """One published number against our runs (see the module docstring for the rules)."""
    if n < 2 or not (math.isfinite(mean) and math.isfinite(pi)):
        return "unjudged"
    gap = abs(mean - published)
    if gap <= pi:
        return "inside"
    if math.isfinite(tolerance) and gap <= tolerance:
        return "close"
    return "far"


AGREEMENT_MIME = "application/vnd.mnistlab.agreement+json"


def agreement_record(agreement: pd.DataFrame) -> dict[str, Any]:
    """The agreement frame as a notebook output's data: JSON records under ``AGREEMENT_MIME``,
    which reports leave out and the runner reads back, and one plain line for JupyterLab
    (which has no renderer for our type and would otherwise say so)."""
    numbers = int(agreement["published"].notna().sum()) if "published" in agreement else 0
    return {AGREEMENT_MIME: json.loads(agreement.to_json(orient="records")),
            "text/plain": f"{numbers} published numbers compared with our runs (kept for "
                          "the scorecard)"}


def agreement_from_notebook(notebook: dict[str, Any]) -> pd.DataFrame | None:
    """The last agreement frame an executed notebook recorded, or None when it recorded none."""
    found = None
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            if AGREEMENT_MIME in output.get("data", {}):
                found = output["data"][AGREEMENT_MIME]
    return None if found is None else pd.DataFrame(found)


def manifest_rows(agreement: pd.DataFrame, tables: dict[str, PublishedTable],
                  report_html: str) -> list[dict[str, Any]]:
    """The published numbers of one study's agreement frame, each with the tolerance its
    column states and the report section (and its anchor) that explains it, if any."""
    anchors = section_anchors(report_html)
    rows = []
    for record in agreement.to_dict("records"):
        published = _number(record["published"])
        if published is None:
            continue  # a run without a published number: not on the scorecard
        table = tables.get(record["table"])
        spec = table.compare.columns.get(record["column"]) if table and table.compare else None
        stated = spec.tolerance if spec else None
        explanation = next((e.section for e in (table.explanations if table else ())
                            if e.covers(str(record["row"]), record["column"])), None)
        rows.append({key: _number(value) if isinstance(value, float) else value
                     for key, value in record.items()} | {
            "row": str(record["row"]),
            "label": (spec.label if spec and spec.label else record["column"]),
            "tolerance": _number(tolerance_of(stated, published)),
            "tolerance_stated": stated,
            "explanation": explanation,
            "anchor": anchors.get(explanation) if explanation else None,
        })
    return rows


def table_captions(tables: dict[str, PublishedTable]) -> dict[str, dict[str, str]]:
    """Per published table its caption and the name of its key column, for the index."""
    return {name: {"caption": t.caption, "key": t.compare.key if t.compare else ""}
            for name, t in tables.items()}


def entry_base(entry: dict[str, Any]) -> str:
    """A manifest's report path under ``reports/`` without suffix (``quick/...`` for previews)."""
    return entry.get("base") or f"{entry['experiment']}/{entry['study']}"


def frame(entries: list[dict[str, Any]]) -> pd.DataFrame:
    """Every manifest's published numbers as one frame: ``SUMMARY_COLUMNS`` plus what the
    index shows (title, column label, digits, table caption and key column, whether the
    explanation's anchor was found)."""
    rows = []
    for entry in entries:
        report = f"{entry_base(entry)}.html"
        for record in entry.get("scorecard", []):
            n, mean = int(record["n"]), _float(record["mean"])
            pi, ci = _float(record["pi"]), _float(record["ci"])
            published, tolerance = _float(record["published"]), _float(record["tolerance"])
            explanation, anchor = record.get("explanation"), record.get("anchor")
            table = entry.get("tables", {}).get(record["table"], {})
            rows.append({
                "experiment": entry["experiment"], "study": entry["study"],
                "study_id": entry.get("study_id", ""), "profile": entry["profile"],
                "title": entry.get("title", ""), "table": record["table"],
                "row": str(record["row"]), "column": record["column"],
                "label": record.get("label") or record["column"], "metric": record["metric"],
                "reference": record.get("reference"), "published": published, "n": n,
                "mean": mean, "sd": _float(record["sd"]),
                "pi_low": mean - pi, "pi_high": mean + pi, "ci_low": mean - ci,
                "ci_high": mean + ci, "delta": mean - published, "tolerance": tolerance,
                "tolerance_stated": record.get("tolerance_stated"),
                "verdict": verdict(published, mean, pi, n, tolerance),
                "explanation": explanation,
                "explanation_link": (f"{report}#{anchor}" if anchor else report)
                if explanation else None,
                "anchor_found": anchor is not None, "digits": int(record.get("digits") or 4),
                "caption": table.get("caption", ""), "key": table.get("key", ""),
            })
    columns = SUMMARY_COLUMNS + ["title", "label", "anchor_found", "digits", "caption", "key"]
    return pd.DataFrame(rows, columns=columns)


def counts(scorecard: pd.DataFrame) -> pd.DataFrame:
    """Per study (in scorecard order): how many published numbers got each verdict, and in all."""
    rows = []
    for (experiment, study), part in scorecard.groupby(["experiment", "study"], sort=False):
        tally = part["verdict"].value_counts()
        rows.append({"experiment": experiment, "study": study, "published": len(part),
                     **{name: int(tally.get(name, 0)) for name in VERDICTS}})
    return pd.DataFrame(rows, columns=["experiment", "study", "published", *VERDICTS])\
        .set_index(["experiment", "study"])


def sentence(row: pd.Series) -> str:
    """"35 of 38 published numbers inside our interval; 2 within tolerance; 1 far"."""
    text = f"{row['inside']} of {row['published']} published numbers inside our interval"
    rest = [f"{row[name]} {VERDICTS[name].label}" for name in ("close", "far", "unjudged")
            if row[name]]
    return "; ".join([text, *rest])


def write_csv(scorecard: pd.DataFrame, path: Path) -> Path:
    """``reports/summary.csv``: the scorecard's rows, machine-readable, full precision."""
    return csvfile.write_csv(scorecard[SUMMARY_COLUMNS], path)


class _Headings(HTMLParser):
    """Heading text → id in an nbconvert page (the ¶ anchor link left out of the text)."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: dict[str, str] = {}
        self._open: list[Any] = []  # [id, text parts] of the heading being read
        self._in_anchor_link = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"} and attributes.get("id"):
            self._open = [attributes["id"], []]
        elif tag == "a" and "anchor-link" in (attributes.get("class") or ""):
            self._in_anchor_link = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._in_anchor_link = False
        elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"} and self._open:
            text = " ".join("".join(self._open[1]).split())
            self.anchors.setdefault(text, self._open[0])
            self._open = []

    def handle_data(self, data: str) -> None:
        if self._open and not self._in_anchor_link:
            self._open[1].append(data)


def section_anchors(page: str) -> dict[str, str]:
    """Every heading of a rendered report, as displayed, with the id a link can point at."""
    parser = _Headings()
    parser.feed(page)
    return parser.anchors


def _number(value: Any) -> float | None:
    """JSON has no NaN: missing numbers are stored as null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)
