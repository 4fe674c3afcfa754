"""Summaries count diverged runs instead of hiding them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mnistlab import conclusions
from mnistlab.compare import summarise


def test_a_nan_loss_is_left_out_of_the_mean_and_counted():
    runs = pd.DataFrame({"label": ["raw"] * 3, "test_loss": [2.3, np.nan, np.nan],
                         "test_accuracy": [0.11, 0.10, 0.10]})
    summary = summarise(runs, ["label"], ["test_loss", "test_accuracy"])
    row = summary.iloc[0]
    assert (row["seeds"], row["test_loss_n"], row["test_accuracy_n"]) == (3, 1, 3)
    assert row["test_loss_mean"] == 2.3
    text = conclusions.basic_ablation(summary, pd.DataFrame({"loss": [35.08], "accuracy": [0.91]}))
    assert "diverged to a NaN loss in 2 of 3 runs" in text and "nan" not in text
