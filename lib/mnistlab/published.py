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
        columns:
          loss: {metric: test_loss}
          accuracy: {metric: test_accuracy, unit: fraction, digits: 4}
          accuracy_delta: {metric: test_accuracy, versus: Baseline}   # paired by seed

Columns neither compared nor the key are shown as published context (layer sizes, say).
With this, one generic function (``compare.agreement``) builds every comparison table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

UNIT_SCALE = {"fraction": 1.0, "percent": 100.0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """Which measured metric a published column is, and how to read it."""

    metric: str = Field(min_length=1, description="a measured result column, e.g. test_loss")
    unit: Literal["fraction", "percent"] = "fraction"
    digits: int = Field(4, ge=0, le=8)
    label: str | None = Field(None, description="column heading in the report")
    versus: str | int | None = Field(None, description="published key of the reference row: "
                                     "the measured value is then the seed-paired difference")
    relative: bool = Field(False, description="with versus: 100·(x − ref)/ref instead of x − ref")

    @model_validator(mode="after")
    def _relative_needs_versus(self) -> "ColumnSpec":
        if self.relative and self.versus is None:
            raise ValueError("relative: true needs versus (the reference row)")
        return self


class CompareSpec(_Strict):
    key: str
    match: Literal["name", "label"] = "name"
    group: str | None = None
    aliases: dict[str | int, str] = Field(default_factory=dict)
    unpublished: Literal["show", "hide"] = Field("show", description="show selected runs that "
                                                 "have no published row, after the published rows")
    columns: dict[str, ColumnSpec] = Field(min_length=1)


class TableSpec(_Strict):
    caption: str
    notes: str = ""
    columns: list[str] = Field(min_length=1)
    rows: list[list[Any]]
    compare: CompareSpec | None = None

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
        return self


class PublishedFile(_Strict):
    study: str = Field(pattern=r"^\d{3}$")
    tables: dict[str, TableSpec] = Field(min_length=1)


@dataclass(frozen=True)
class PublishedTable:
    """One published table: its rows as a frame, and its join to the measured results."""

    name: str
    caption: str
    frame: pd.DataFrame
    notes: str = ""
    compare: CompareSpec | None = None

    @property
    def title(self) -> str:
        """The caption's name part, as the study numbers it: "Table 2", "(1) Basic MNIST Model"."""
        return re.split(r"[.:](?:\s|$)", self.caption, maxsplit=1)[0] or self.name

    @property
    def context_columns(self) -> list[str]:
        """Published columns shown as they are: neither the key nor compared."""
        if self.compare is None:
            return []
        return [c for c in self.frame.columns
                if c != self.compare.key and c not in self.compare.columns]


class PublishedError(ValueError):
    """A published-tables file that cannot be read; the message names file, key and value."""


def load_published(path: str | Path) -> dict[str, PublishedTable]:
    """Every table of one study's transcription, keyed by its short name (e.g. ``table1``)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
        spec = PublishedFile.model_validate(raw)
    except FileNotFoundError:
        raise PublishedError(f"{path}: published tables file not found") from None
    except yaml.YAMLError as error:
        raise PublishedError(f"{path}: not valid YAML: {error}") from None
    except ValidationError as error:
        problems = [f"  key '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}"
                    for e in error.errors()]
        raise PublishedError(f"{path}: invalid published tables\n" + "\n".join(problems)) from None
    return {name: PublishedTable(name, table.caption,
                                 pd.DataFrame(table.rows, columns=table.columns),
                                 table.notes, table.compare)
            for name, table in spec.tables.items()}
