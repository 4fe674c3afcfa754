"""Tables as a reader sees them: published beside measured in the study's layout, and wide
tables that scroll on screen and print in landscape parts.

Formats the ``compare.agreement`` frame (the one data contract of the comparison) with the
house style; computes nothing.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import HTML

from mnistlab.analysis.stats import single_run_width, summarise
from mnistlab.present import style
from mnistlab.spec.published import PublishedTable

LEGEND = ("*published*: the study's single run. *mean ± CI*: our mean over seeds with the 95% "
          "confidence interval **of the mean**. *95% PI*: the 95% prediction interval for **one "
          "run** (mean ± t·s·√(1 + 1/n)), cut at what the metric can be (an accuracy at 0 and "
          "100 %, a loss at 0); a published value inside it is what one of our runs could have "
          "given, so that is the test of agreement. A published *+/-* column is the difference "
          "of two single runs that share no seed, so it is judged by the interval of a "
          "difference of two **independent** runs. Δ = our mean − published. Marks: ✓ inside; "
          "≈ outside, within the published file's tolerance; ✗ far; *holds* / *fails* / "
          "*undecided*: a stated bound (> or <) against the whole interval; = / ≠: a count "
          "against ours; *explained*: not reproduced here, but under an alternative reading "
          "(the scorecard names it); *trend*: a time from another machine, judged only by its trend.")

def width_note(seeds: int) -> str:
    """How much a single-run interval accepts with this many seeds, in standard deviations."""
    width = single_run_width(seeds)
    if not np.isfinite(width):
        return "With one seed there is no interval: nothing is judged by value."
    return (f"With {seeds} seeds a single run's interval spans ± {width:.1f} standard "
            "deviations of our runs (± 5.0 with three, ± 3.0 with five, ± 2.4 with ten).")


MARKS = {"inside": "✓", "close": "≈", "far": "✗", "holds": "✓ holds", "fails": "✗ fails",
         "undecided": "undecided", "exact": "= exact", "differs": "≠ differs",
         "explained": "explained", "trend_reproduced": "trend ✓",
         "trend_differs": "trend ✗", "not_run": "", "unjudged": "", "": ""}


def _mean_ci(row: pd.Series) -> str:
    if row["verdict"] == "not_run":
        return "not run in this reading" if row["reading"] else "not run"
    return style.runs_mean_ci(row["mean"], row["ci"], row["n"], row["digits"])


def _prediction(row: pd.Series) -> str:
    """``[low, high] ✓``: the single-run interval (clipped to the metric's range by
    ``compare.agreement``) and the mark of the number's verdict."""
    if row["n"] < 2:
        return "–"
    d = row["digits"]
    text = f"[{style.number(row['pi_low'], d)}, {style.number(row['pi_high'], d)}]"
    mark = MARKS[row["verdict"] if isinstance(row["verdict"], str) else ""]
    return f"{text} {mark}" if mark else text


def _published(row: pd.Series) -> str:
    """The published cell: a bound with its side ("> 95.0"), anything else as printed."""
    value = style.number(row["published"], row["digits"])
    if row["kind"] == "bound" and np.isfinite(row["published"]):
        return f"{'>' if row['direction'] == 'above' else '<'} {value}"
    return value


def _delta(row: pd.Series) -> str:
    """Δ where a difference means something: not for a bound."""
    return "–" if row["kind"] == "bound" else style.difference(row["delta"], row["digits"])


def side_by_side(frame: pd.DataFrame, table: PublishedTable) -> pd.DataFrame:
    """The study's layout: context columns, then per compared column
    published | mean ± CI | 95% PI with the verdict's mark | Δ; a time from another machine
    (kind trend) shows only its trend's mark after the mean, since no interval or difference
    of ours judges it."""
    spec = table.compare
    keys = list(dict.fromkeys(frame["row"]))
    published = table.frame.assign(_row=table.frame[spec.key].astype(str)).set_index("_row")
    columns: dict[tuple[str, str], list[Any]] = {}
    for name in table.context_columns:
        columns[(style.label(name), "")] = [_context(published[name].get(k)) for k in keys]
    for name, column in spec.columns.items():
        part = frame[frame["column"] == name].set_index("row").reindex(keys)
        heading = column.label or style.label(name)
        columns[(heading, "published")] = [_published(r) for _, r in part.iterrows()]
        columns[(heading, "mean ± CI")] = [_mean_ci(r) for _, r in part.iterrows()]
        if column.kind == "trend":
            columns[(heading, "trend")] = [MARKS[r["verdict"]] for _, r in part.iterrows()]
            continue
        columns[(heading, "95% PI")] = [_prediction(r) for _, r in part.iterrows()]
        columns[(heading, "Δ")] = [_delta(r) for _, r in part.iterrows()]
    out = pd.DataFrame(columns, index=pd.Index(keys, name=style.label(spec.key)))
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out


def _context(value: Any) -> str:
    """A published descriptive cell as printed: a layer size of 128 stays ``128`` even when
    the column's blanks made pandas read it as 128.0."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


PRINTED_COLUMNS = 14  # columns a landscape A4 page holds legibly at 7.5 pt
PRINTED_WIDTH = 170  # characters of 7.5 pt table type on a landscape A4 line, padding included
CELL_PADDING = 2  # characters a cell's padding takes
ROW_LABELS = 20  # characters of the printed row labels' least width (div.wide tbody th: 30 mm)
PORTRAIT_COLUMNS = 8  # more than this, and a portrait page wraps every cell: print landscape


def captioned(frame: pd.DataFrame, caption: str, name: str = "", anchor: str = "") -> HTML:
    """A table with its caption (HTML, already escaped) in one block that prints on one page
    (``.captioned``), never cutting a value short; a table wider than a portrait page goes
    to ``wide``, whose printed parts each repeat the caption and are named after ``name``.
    ``anchor`` is the block's id, for links from the index (``scorecard.table_anchor``)."""
    if len(frame.columns) > PORTRAIT_COLUMNS:
        return wide(frame, caption, name, anchor)
    return HTML(f'<div class="captioned"{_id(anchor)}><p>{caption}</p>{_html(frame)}</div>')


def _id(anchor: str) -> str:
    return f' id="{html.escape(anchor, quote=True)}"' if anchor else ""


def _html(frame: pd.DataFrame) -> str:
    """The table as pandas shows it in a notebook, every value whole (no "…")."""
    with pd.option_context("display.max_colwidth", None):
        return frame.to_html(na_rep="–", classes="dataframe")


def wide(frame: pd.DataFrame, caption: str = "", name: str = "", anchor: str = "") -> HTML:
    """Show a table too wide for a portrait page, under its ``caption`` (HTML, already
    escaped).  On screen it scrolls in its own box; the PDF prints it on a landscape page
    and, if it has more columns than one holds, as parts that each repeat the caption, the
    row labels and descriptive columns, labelled "<name>: columns, part i of n" (hidden on
    screen by an inline style, shown by the report's print style)."""
    title = f"<p>{caption}</p>" if caption else ""
    parts = print_parts(frame)
    if len(parts) == 1:
        return HTML(f'<div class="wide captioned"{_id(anchor)}>{title}{_html(frame)}</div>')
    label = f"{name}: columns" if name else "Columns"
    printed = "".join(
        f'<div class="wide print-only captioned" style="display:none">{title}<p><small>{label}, '
        f'part {i} of {len(parts)}</small></p>{_html(part)}</div>'
        for i, part in enumerate(parts, 1))
    return HTML(f'<div class="wide screen-only"{_id(anchor)}>{title}{_html(frame)}</div>' + printed)


def print_parts(frame: pd.DataFrame, limit: int = PRINTED_COLUMNS,
                width: int = PRINTED_WIDTH) -> list[pd.DataFrame]:
    """``frame`` cut between its column groups (the first header level) so that each part,
    with the ungrouped descriptive columns repeated, has at most ``limit`` columns and
    ``width`` printed characters where possible; a group is never split.  Counting columns
    alone let a table of long cells (times under load) run past the paper's edge."""
    if not isinstance(frame.columns, pd.MultiIndex):
        return [frame]
    context = [c for c in frame.columns if c[1] == ""]
    groups = [[c for c in frame.columns if c[0] == name and c[1] != ""]
              for name in dict.fromkeys(c[0] for c in frame.columns if c[1] != "")]
    packed: list[list] = [[]]
    for group in groups:
        columns = packed[-1] + group
        wider = printed_width(frame[context + columns]) > width
        if packed[-1] and (len(context) + len(columns) > limit or wider):
            packed.append([])
        packed[-1] += group
    return [frame] if len(packed) == 1 else [frame[context + columns] for columns in packed]


def printed_width(frame: pd.DataFrame) -> int:
    """Characters a table takes on a landscape page: the row labels' least width, then per
    column its longest cell or header word and padding (``td`` never wraps there; ``th``
    wraps between words)."""
    def column(name: tuple) -> int:
        words = [len(word) for word in str(name[-1]).split()]
        return max([len(str(v)) for v in frame[name]] + words + [1]) + CELL_PADDING
    return ROW_LABELS + sum(column(name) for name in frame.columns)


# (row heading, statistic, digits, scale): what the per-value table shows, in order.
TABLE_COLUMNS = (
    ("val accuracy (%)", "val_accuracy", 2, 100.0),
    ("val loss", "val_loss", 4, 1.0),
    ("test accuracy (%)", "test_accuracy", 2, 100.0),
    ("test loss", "test_loss", 4, 1.0),
    ("epoch of best val loss", "best_val_epoch", 1, 1.0),
    ("val-loss roughness (×10⁻³)", "val_loss_roughness", 2, 1e3),
    ("val-loss turns (%)", "val_loss_reversals", 0, 100.0),
    ("wall time (s)", "train_time_s", 1, 1.0),
)


def curve_statistics(results: pd.DataFrame, by: str) -> pd.DataFrame:
    """One column per value of ``by`` (in the params' order), one row per statistic: seeds,
    optimizer updates per run, mean ± 95% CI over seeds of every statistic of
    ``TABLE_COLUMNS``, and updates per second of wall time.  ``results`` must come from
    ``curves.with_statistics``.  Values run across so that seven batch sizes fit a portrait page."""
    metrics = [statistic for _, statistic, _, _ in TABLE_COLUMNS]
    runs = results.assign(updates_per_s=results["updates"] / results["train_time_s"])
    summary = summarise(runs, [by], metrics + ["updates_per_s"]).set_index(by)
    updates = runs.groupby(by, sort=False)["updates"].agg(["min", "max"]).loc[summary.index]
    out = {"seeds": [str(n) for n in summary["seeds"]],
           "updates per run": [f"{lo:,}" if lo == hi else f"{lo:,}–{hi:,}"
                               for lo, hi in zip(updates["min"], updates["max"])]}
    for heading, statistic, digits, scale in TABLE_COLUMNS:
        out[heading] = [style.mean_ci(m, c, digits, scale) for m, c in
                        zip(summary[f"{statistic}_mean"], summary[f"{statistic}_ci"])]
    out["updates per s of wall time"] = [f"{m:,.0f}" for m in summary["updates_per_s_mean"]]
    frame = pd.DataFrame(out, index=summary.index).T
    frame.columns.name = by.replace("_", " ")
    return frame
