"""The reproduction scorecard: every published number of every study against our runs.

Each number carries the verdict ``compare.agreement`` gave it in its study's notebook (the
rules by kind of number are in ``mnistlab.analysis.verdicts``): the report's cell, its
sentence, the index and ``reports/summary.csv`` show one verdict.  A published table that
appears under several readings of a study (raw pixels, older defaults, another way to count)
is counted once, by its primary reading; the other readings stay in ``summary.csv``
(``primary`` false) as the evidence that can make a number *explained*.  Times measured on
another machine are judged only by their trend, and the headline counts them apart.

The data flow, so every study appears without code of its own: the notebook's
``Study.agreement`` records its frame as an output of its cell (``agreement_record``, under
the ``AGREEMENT_MIME`` type, as papermill's scrapbook records values); after rendering, the
runner reads it back from the executed notebook (``agreement_from_notebook``) and stores the
published numbers of that frame with their explanation links in the report's manifest
(``manifest_rows``); ``frame`` turns all manifests into the index's rows and
``reports/summary.csv``.
"""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd

from mnistlab.analysis.verdicts import VERDICTS
from mnistlab.core import csvfile
from mnistlab.spec.published import PublishedTable

SUMMARY_COLUMNS = ["experiment", "study", "study_id", "profile", "table", "reading", "primary",
                   "kind", "direction", "row", "column", "metric", "reference", "basis", "published", "n",
                   "mean", "sd", "pi_low", "pi_high", "ci_low", "ci_high", "delta", "tolerance",
                   "tolerance_stated", "verdict", "why", "explained_by", "explanation",
                   "explanation_link"]
# The verdicts of a number judged by value, bound or count, in the headline's order.
NUMBER_VERDICTS = [name for name in VERDICTS if not name.startswith("trend")]
TREND_VERDICTS = [name for name in VERDICTS if name.startswith("trend")]


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
    column states and the report section (and its anchor) that explains it, if any; a
    number another reading explains links to that reading's table (``table_anchor``)."""
    anchors = section_anchors(report_html)
    rows = []
    for record in agreement.to_dict("records"):
        published = _number(record["published"])
        if published is None:
            continue  # a run without a published number: not on the scorecard
        table = tables.get(record["table"])
        spec = table.compare.columns.get(record["column"]) if table and table.compare else None
        explanation = next((e.section for e in (table.explanations if table else ())
                            if e.covers(str(record["row"]), record["column"])), None)
        rows.append({key: _number(value) if isinstance(value, float) else value
                     for key, value in record.items()} | {
            "row": str(record["row"]),
            "label": (spec.label if spec and spec.label else record["column"]),
            "tolerance_stated": spec.tolerance if spec else None,
            "explanation": explanation,
            "anchor": anchors.get(explanation) if explanation else None,
        })
        if record.get("explained_table") in tables:
            explaining = tables[record["explained_table"]]
            rows[-1] |= {"explanation": f"{explaining.title}: {explaining.reading.name}",
                         "anchor": table_anchor(explaining.name)}
    return rows


def table_anchor(table: str) -> str:
    """The id of a published table's block in its report (``present.tables.captioned``)."""
    return f"table-{table}"


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
            if "verdict" not in record:
                continue  # a manifest of an older mnistlab: its study is rendered again next
            mean = _float(record["mean"])
            explanation, anchor = record.get("explanation"), record.get("anchor")
            table = entry.get("tables", {}).get(record["table"], {})
            rows.append({
                "experiment": entry["experiment"], "study": entry["study"],
                "study_id": entry.get("study_id", ""), "profile": entry["profile"],
                "title": entry.get("title", ""), "table": record["table"],
                "reading": record.get("reading") or "", "primary": bool(record["primary"]),
                "numbers": record["numbers"], "kind": record["kind"],
                "direction": record.get("direction") or "",
                "row": str(record["row"]), "column": record["column"],
                "label": record.get("label") or record["column"], "metric": record["metric"],
                "reference": record.get("reference"), "basis": record["basis"],
                "published": _float(record["published"]), "n": int(record["n"]),
                "mean": mean, "sd": _float(record["sd"]),
                "pi_low": _float(record["pi_low"]), "pi_high": _float(record["pi_high"]),
                "ci_low": _float(record["ci_low"]), "ci_high": _float(record["ci_high"]),
                "delta": _float(record["delta"]), "tolerance": _float(record["tolerance"]),
                "tolerance_stated": record.get("tolerance_stated"),
                "verdict": record["verdict"], "why": record["why"],
                "explained_by": record.get("explained_by") or "",
                "explanation": explanation,
                "explanation_link": (f"{report}#{anchor}" if anchor else report)
                if explanation else None,
                "anchor_found": anchor is not None, "digits": int(record.get("digits") or 4),
                "caption": table.get("caption", ""), "key": table.get("key", ""),
            })
    columns = SUMMARY_COLUMNS + ["numbers", "title", "label", "anchor_found", "digits",
                                 "caption", "key"]
    return pd.DataFrame(rows, columns=columns)


def counted(scorecard: pd.DataFrame) -> pd.DataFrame:
    """The rows the headline counts: each distinct published number once, by its primary
    reading."""
    return scorecard[scorecard["primary"].astype(bool)]


def counts(scorecard: pd.DataFrame) -> pd.DataFrame:
    """Per study (in scorecard order): its distinct published numbers judged by value, bound
    or count (``numbers``), how many got each verdict, and its time columns judged by trend
    (``trends``, and how many were reproduced)."""
    rows = []
    for (experiment, study), part in counted(scorecard).groupby(["experiment", "study"],
                                                                  sort=False):
        values = part[part["kind"] != "trend"]
        tally = values["verdict"].value_counts()
        trends = part[part["kind"] == "trend"].drop_duplicates(["table", "column"])
        rows.append({"experiment": experiment, "study": study, "numbers": len(values),
                     **{name: int(tally.get(name, 0)) for name in NUMBER_VERDICTS},
                     "trends": len(trends),
                     "trend_reproduced": int((trends["verdict"] == "trend_reproduced").sum())})
    columns = ["experiment", "study", "numbers", *NUMBER_VERDICTS, "trends", "trend_reproduced"]
    return pd.DataFrame(rows, columns=columns).set_index(["experiment", "study"])


HEADLINE_VERDICTS = {"inside": "inside", "holds": "hold", "exact": "exact",
                     "explained": "explained", "close": "within tolerance",
                     "undecided": "undecided", "far": "far", "fails": "fail",
                     "differs": "differ", "unjudged": "not judged",
                     "not_run": "not run"}


def sentence(row: pd.Series) -> str:
    """"38 distinct published numbers: 35 inside, 2 within tolerance, 1 far; times: trend
    reproduced in 1 of 1 table column"."""
    parts = [f"{row[name]} {HEADLINE_VERDICTS[name]}" for name in NUMBER_VERDICTS if row[name]]
    text = f"{row['numbers']} distinct published numbers" + (f": {', '.join(parts)}"
                                                             if parts else "")
    if row["trends"]:
        text += (f"; times: trend reproduced in {row['trend_reproduced']} of {row['trends']} "
                 f"column{'s' if row['trends'] > 1 else ''}")
    return text


def headline(scorecard: pd.DataFrame) -> str:
    """The index's abstract: "218 distinct published numbers: 150 inside, 5 hold, 6 exact,
    9 explained, ...; times: trend reproduced in 1 of 1 studies"."""
    table = counts(scorecard)
    total = table.drop(columns=["trends", "trend_reproduced"]).sum()
    parts = [f"{int(total[name])} {HEADLINE_VERDICTS[name]}" for name in NUMBER_VERDICTS
             if total[name]]
    text = f"{int(total['numbers'])} distinct published numbers: {', '.join(parts)}"
    timed = table[table["trends"] > 0]
    if len(timed):
        reproduced = int((timed["trend_reproduced"] == timed["trends"]).sum())
        text += (f"; times measured on other machines: trend reproduced in {reproduced} of "
                 f"{len(timed)} stud{'ies' if len(timed) > 1 else 'y'}")
    return text


def agreeing_share(scorecard: pd.DataFrame) -> float:
    """The share of distinct non-time published numbers inside, holding, exact or explained."""
    values = counted(scorecard)
    values = values[values["kind"] != "trend"]
    agree = [name for name, v in VERDICTS.items() if v.agrees]
    return float(values["verdict"].isin(agree).mean()) if len(values) else math.nan


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
