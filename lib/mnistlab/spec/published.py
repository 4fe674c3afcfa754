"""A study's published tables, and how each one joins the measured results.

``params/published/<study>.yaml`` holds the numbers transcribed from the study (data to
compare against, never results) and, per table, a ``compare`` block saying which measured
runs each published row is and which measured metric each published column is:

.. code-block:: yaml

    table2:
      caption: "Table 2. Loss and accuracy by data (test data)"
      columns: [hidden_layers, loss, accuracy]
      rows: [[1, 0.1239, 0.9730], ...]
      compare:
        key: hidden_layers            # the published column naming the row
        match: name                   # the run field it equals: name or label
        group: main                   # only runs of this group (optional)
        aliases: {}                   # published key -> run name/label where they differ
        unpublished: show             # selected runs without a published row: show or hide
        unmatched: refused            # published rows no configuration runs: refused or allowed
        columns:
          loss: {metric: test_loss}
          accuracy: {metric: test_accuracy, unit: fraction, digits: 4}
          accuracy_delta: {metric: test_accuracy, versus: Baseline}   # paired by seed
          training_time_s: {metric: train_time_s, tolerance: 50%}    # or 0.005: absolute
          loss_at_95: {metric: test_loss, epoch: 95}   # off the runs' test curves (test_curve)
      explanations:                   # where the study's report explains a disagreement
        - section: "The basic model and its loss of 35.08"   # a heading in the report
          rows: [1]                   # published keys (default: every row)
          columns: [loss]             # compared columns (default: every one)
      reading:                        # when the same published rows appear under several readings
        numbers: table2               # the tables sharing this name judge the same numbers
        name: "raw test pixels"       # the reading, as the report names it
        primary: false                # exactly one table of a name is primary: the study as written
        why: "..."                    # the primary one says why it is

A column's ``kind`` says how its published number is judged (``mnistlab.analysis.verdicts``):
``value`` (default) by our single-run prediction interval; ``bound`` a stated bound ("above
95%"), with ``direction`` ``above``/``below`` or the name of a table column holding it per row;
``exact`` a deterministic quantity (a parameter count), by equality; ``trend`` a quantity
measured on another machine (a wall time), only by its rank correlation with the key.

Columns neither compared nor the key are shown as published context (layer sizes, say).
With this, one generic function (``compare.agreement``) builds every comparison table.
A column's ``tolerance`` is the difference from our mean the study's reproduction accepts
when the published value lies outside our single-run prediction interval (the scorecard's
middle verdict, ``mnistlab.analysis.scorecard``); ``explanations`` link a table's numbers to the
section of the report that explains them.
"""

from __future__ import annotations

from mnistlab.core.errors import PublishedError

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mnistlab.core.yamlfile import bounded, load_yaml

UNIT_SCALE = {"fraction": 1.0, "percent": 100.0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


KINDS = ("value", "bound", "exact", "trend")
DIRECTIONS = ("above", "below")


class ColumnSpec(_Strict):
    """Which measured metric a published column is, and how to read it."""

    metric: str = Field(min_length=1, description="a measured result column, e.g. test_loss")
    kind: Literal["value", "bound", "exact", "trend"] = Field(
        "value", description="how the published number is judged: a value by our single-run "
        "interval, a bound as a bound, an exact count by equality, a time by its trend")
    direction: str | None = Field(None, description="for kind bound: above or below, or the "
                                  "name of a table column holding above/below per row")
    unit: Literal["fraction", "percent"] = "fraction"
    digits: int = Field(4, ge=0, le=8)
    label: str | None = Field(None, description="column heading in the report")
    versus: str | int | None = Field(None, description="published key of the reference row: "
                                     "the measured value is then the seed-paired difference")
    relative: bool = Field(False, description="with versus: 100·(x − ref)/ref instead of x − ref")
    epoch: int | None = Field(None, ge=1, le=100000, description="the metric after this epoch, "
                              "read off the runs' test curves (test_curve: true): a reading of "
                              "an unstated training length")
    tolerance: float | str | None = Field(None, description="accepted |our mean − published| "
                                          "outside the prediction interval: a number in the "
                                          "column's unit (0.005) or a percentage of the "
                                          "published value ('20%')")

    @model_validator(mode="after")
    def _relative_needs_versus(self) -> "ColumnSpec":
        if self.relative and self.versus is None:
            raise ValueError("relative: true needs versus (the reference row)")
        return self

    @model_validator(mode="after")
    def _kind_complete(self) -> "ColumnSpec":
        if (self.kind == "bound") != (self.direction is not None):
            raise ValueError("kind: bound needs direction (above, below, or the column holding "
                             "it per row); only a bound takes a direction")
        if self.kind in ("exact", "trend") and (self.tolerance is not None or self.versus):
            raise ValueError(f"kind: {self.kind} takes neither tolerance nor versus")
        return self

    @model_validator(mode="after")
    def _epoch_reads_a_test_curve(self) -> "ColumnSpec":
        if self.epoch is not None and (not self.metric.startswith("test_") or self.versus
                                       or self.kind != "value"):
            raise ValueError(f"epoch reads a test curve: it needs a test metric (test_loss, "
                             f"test_accuracy), kind value and no versus; got metric "
                             f"{self.metric!r}")
        return self

    @model_validator(mode="after")
    def _tolerance_readable(self) -> "ColumnSpec":
        if self.tolerance is not None:
            tolerance_of(self.tolerance, 1.0)  # raises ValueError naming the allowed forms
        return self


def tolerance_of(tolerance: float | str | None, published: float) -> float:
    """The absolute tolerance for one published value: ``0.005`` as it is, ``"20%"`` of
    ``|published|``; NaN when none is stated."""
    if tolerance is None:
        return float("nan")
    if isinstance(tolerance, str):
        text = tolerance.strip()
        try:
            share = float(text.removesuffix("%")) / 100
        except ValueError:
            share = -1.0
        if not text.endswith("%") or share < 0:
            raise ValueError(f"tolerance {tolerance!r}: allowed are a non-negative number in the "
                             "column's unit (0.005) or a percentage of the published value ('20%')")
        return share * abs(published)
    if tolerance < 0:
        raise ValueError(f"tolerance {tolerance!r}: must not be negative")
    return float(tolerance)


class Explanation(_Strict):
    """Where the study's report explains some published numbers (a disagreement, usually)."""

    section: str = Field(min_length=1, description="heading of the report section, as displayed")
    rows: list[str | int] | None = Field(None, description="published keys; default every row")
    columns: list[str] | None = Field(None, description="compared columns; default every one")

    def covers(self, row: str, column: str) -> bool:
        return ((self.rows is None or row in {str(r) for r in self.rows})
                and (self.columns is None or column in self.columns))


class ReadingSpec(_Strict):
    """One reading of a study's published rows: the same numbers beside other runs (raw
    pixels, older defaults, another way to count).  The headline counts each number once, by
    its primary reading (the study as written); the others are evidence that can explain a
    number the primary reading puts far."""

    numbers: str = Field(min_length=1, description="tables with the same name here judge the "
                         "same published numbers (the same rows and values)")
    name: str = Field(min_length=1, description="the reading, as the report names it")
    primary: bool = False
    why: str = Field("", description="why this reading follows the study as written (primary) "
                     "or what it tests (the others)")


class CompareSpec(_Strict):
    key: str
    match: Literal["name", "label"] = "name"
    group: str | None = None
    aliases: dict[str | int, str] = Field(default_factory=dict)
    unpublished: Literal["show", "hide"] = Field("show", description="show selected runs that "
                                                 "have no published row, after the published rows")
    unmatched: Literal["refused", "allowed"] = Field(
        "refused", description="published rows that no configuration answers to: refused (a "
        "typo, most likely), or allowed (rows the study publishes and this file does not run)")
    columns: dict[str, ColumnSpec] = Field(min_length=1)


class TableSpec(_Strict):
    caption: str
    notes: str = ""
    columns: list[str] = Field(min_length=1)
    rows: list[list[Any]]
    compare: CompareSpec | None = None
    explanations: list[Explanation] = Field(default_factory=list)
    reading: ReadingSpec | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "TableSpec":
        widths = {len(row) for row in self.rows}
        if widths - {len(self.columns)}:
            raise ValueError(f"every row needs {len(self.columns)} values ({self.columns}), "
                             f"found rows of {sorted(widths)}")
        if self.compare is not None:
            named = [self.compare.key, *self.compare.columns]
            unknown = [c for c in named if c not in self.columns]
            if unknown:
                raise ValueError(f"compare names {unknown}, not columns of the table {self.columns}")
            self._compared_values_are_numbers()
            self._directions_readable()
            self._trends_have_numeric_keys()
        self._explanations_name_real_cells()
        return self

    def _trends_have_numeric_keys(self) -> None:
        """A trend is a rank correlation with the key: the key must be a number per row."""
        if not any(c.kind == "trend" for c in self.compare.columns.values()):
            return
        key = self.columns.index(self.compare.key)
        for row in self.rows:
            if isinstance(row[key], bool) or not isinstance(row[key], (int, float)):
                raise ValueError(f"a kind: trend column needs numeric keys; key "
                                 f"{self.compare.key!r} has {row[key]!r}")

    def _directions_readable(self) -> None:
        """A bound's direction is above or below, given once or per row in a named column."""
        for name, column in self.compare.columns.items():
            if column.direction is None or column.direction in DIRECTIONS:
                continue
            if column.direction not in self.columns:
                raise ValueError(f"column {name!r}: direction {column.direction!r} is neither "
                                 f"{' nor '.join(DIRECTIONS)} nor a column of the table "
                                 f"{self.columns}")
            index, key = self.columns.index(column.direction), self.columns.index(self.compare.key)
            for row in self.rows:
                if row[self.columns.index(name)] is not None and row[index] not in DIRECTIONS:
                    raise ValueError(f"row {row[key]!r}, column {column.direction!r}: "
                                     f"direction {row[index]!r}; allowed: {', '.join(DIRECTIONS)}")

    def _compared_values_are_numbers(self) -> None:
        """A compared cell is a number, or null where the study gives none: text such as
        "n/a" would otherwise fail only after the whole sweep has trained."""
        key = self.columns.index(self.compare.key)
        for column in self.compare.columns:
            index = self.columns.index(column)
            for row in self.rows:
                value = row[index]
                if value is not None and (isinstance(value, bool)
                                          or not isinstance(value, (int, float))):
                    raise ValueError(f"row {row[key]!r}, column {column!r}: value {value!r} is "
                                     "not a number; allowed are numbers, or null where the "
                                     "study gives none")

    def _explanations_name_real_cells(self) -> None:
        if self.explanations and self.compare is None:
            raise ValueError("explanations need a compare block (they explain compared numbers)")
        for explanation in self.explanations:
            keys = {str(row[self.columns.index(self.compare.key)]) for row in self.rows}
            unknown_rows = [r for r in explanation.rows or [] if str(r) not in keys]
            unknown_columns = [c for c in explanation.columns or [] if c not in self.compare.columns]
            if unknown_rows:
                raise ValueError(f"explanation {explanation.section!r}: rows {unknown_rows} are not "
                                 f"published keys; allowed: {sorted(keys)}")
            if unknown_columns:
                raise ValueError(f"explanation {explanation.section!r}: columns {unknown_columns} "
                                 f"are not compared; allowed: {list(self.compare.columns)}")


class PublishedFile(_Strict):
    study: str = Field(pattern=r"^\d{3}$")
    tables: dict[str, TableSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _readings_share_numbers(self) -> "PublishedFile":
        """The tables of one ``reading.numbers`` are one primary reading and its alternatives
        of the same published numbers: a different value would be counted twice."""
        groups: dict[str, list[str]] = {}
        for name, table in self.tables.items():
            if table.reading is not None:
                groups.setdefault(table.reading.numbers, []).append(name)
        for numbers, names in groups.items():
            primary = [n for n in names if self.tables[n].reading.primary]
            if len(primary) != 1:
                raise ValueError(f"readings of {numbers!r} ({', '.join(names)}): exactly one "
                                 f"needs primary: true, found {len(primary)}")
            reference = _published_cells(self.tables[primary[0]])
            for name in names:
                cells = _published_cells(self.tables[name])
                changed = sorted(k for k in cells.keys() & reference.keys()
                                 if cells[k] != reference[k])
                if changed:
                    raise ValueError(f"table {name!r}: readings of {numbers!r} share the "
                                     f"published numbers of {primary[0]!r}, but (row, column) "
                                     f"{changed[0]} differs")
        return self


def _published_cells(table: TableSpec) -> dict[tuple[str, str], Any]:
    """(row key, compared column) → published value."""
    if table.compare is None:
        return {}
    key = table.columns.index(table.compare.key)
    return {(str(row[key]), column): row[table.columns.index(column)]
            for row in table.rows for column in table.compare.columns}


def join_problems(table: "PublishedTable", runs: list[dict[str, Any]], metrics: set[str],
                  every_row: bool = True) -> list[str]:
    """What a table's compare block names that no run gives: a metric the runs do not record,
    a published row (or a ``versus`` row) that no configuration answers to.

    ``runs`` are the resolved run specs of the study's params file; ``metrics`` what they
    record; ``every_row`` is false for a params file that runs only some of the study's
    configurations.  Empty when the table joins (or has no compare block).
    """
    spec = table.compare
    if spec is None:
        return []
    problems = [f"table {table.name!r}, column {name!r}: metric {column.metric!r} is not "
                f"recorded by any run; allowed: {', '.join(sorted(metrics))}"
                for name, column in spec.columns.items() if column.metric not in metrics]
    selected = [run for run in runs if spec.group is None or run.get("group") == spec.group]
    to_key = {str(run): str(key) for key, run in spec.aliases.items()}
    answered = {to_key.get(str(run.get(spec.match)), str(run.get(spec.match))) for run in selected}
    where = f"configurations{f' of group {spec.group!r}' if spec.group else ''} by {spec.match}"
    if spec.unmatched == "refused" and every_row:
        problems += [f"table {table.name!r}: published row {key!r} matches none of the "
                     f"{where} ({', '.join(sorted(answered))}); fix the key or add an alias; "
                     "rows the study publishes but never runs take unmatched: allowed in the "
                     "compare block, and a variant running only some configurations takes "
                     "study.published_rows: some in its params file"
                     for key in table.frame[spec.key].astype(str) if key not in answered]
    problems += [f"table {table.name!r}, column {name!r}: versus {column.versus!r} matches "
                 f"none of the {where} ({', '.join(sorted(answered))})"
                 for name, column in spec.columns.items()
                 if column.versus is not None and str(column.versus) not in answered]
    return problems


@dataclass(frozen=True)
class PublishedTable:
    """One published table: its rows as a frame, and its join to the measured results."""

    name: str
    caption: str
    frame: pd.DataFrame
    notes: str = ""
    compare: CompareSpec | None = None
    explanations: tuple[Explanation, ...] = ()
    reading: ReadingSpec | None = None

    @property
    def numbers(self) -> str:
        """The name of the published numbers this table judges (shared by its readings)."""
        return self.reading.numbers if self.reading else self.name

    @property
    def primary(self) -> bool:
        """Whether the headline counts this table's numbers (one reading of each number does)."""
        return self.reading is None or self.reading.primary

    @property
    def title(self) -> str:
        """The caption's name part, as the study numbers it: "Table 2", "(1) Basic MNIST Model"."""
        return re.split(r"[.:](?:\s|$)", self.caption, maxsplit=1)[0] or self.name

    @property
    def context_columns(self) -> list[str]:
        """Published columns shown as they are: neither the key, nor compared, nor the side
        of a bound (shown as > or < beside its number)."""
        if self.compare is None:
            return []
        sides = {c.direction for c in self.compare.columns.values()}
        return [c for c in self.frame.columns
                if c != self.compare.key and c not in self.compare.columns and c not in sides]


def load_published(path: str | Path) -> dict[str, PublishedTable]:
    """Every table of one study's transcription, keyed by its short name (e.g. ``table1``)."""
    path = Path(path)
    raw = load_yaml(path, "published tables file", PublishedError)
    try:
        spec = PublishedFile.model_validate(raw)
    except ValidationError as error:
        problems = [f"  key '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}"
                    for e in error.errors()]
        raise PublishedError(bounded(f"{path}: invalid published tables\n"
                                     + "\n".join(problems))) from None
    return {name: PublishedTable(name, table.caption,
                                 pd.DataFrame(table.rows, columns=table.columns),
                                 table.notes, table.compare, tuple(table.explanations),
                                 table.reading)
            for name, table in spec.tables.items()}
