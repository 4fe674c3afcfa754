# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab — Does the choice of cross-entropy matter?
#
# This notebook runs the **loss** experiment for any study of it: the same networks trained
# with different loss functions (and the study's variants of them), each with several random
# seeds. The params file names the study, its settings and its published tables; the banner
# below says which study and which profile produced these numbers.
#
# Published numbers are single runs, so we judge agreement with a 95% *prediction interval
# for a single run*, and show the 95% *confidence interval of our mean* beside it.
#
# **Question for you:** write down −log p(true class) for a one-hot label. What does the
# sparse loss compute for the same example?

# %% [markdown]
# ## 1. Setup

# %% tags=["parameters"]
params_file = "../params/loss/001_chu.yaml"
profile = "quick"
results_dir = ""

# %%
from mnistlab.notebook import checks
from mnistlab.notebook.study import environment, start

study = start(params_file, profile)

# %% [markdown] nbgrader={"grade": false, "grade_id": "cross-entropy-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — two cross-entropies (2 points)
# Write both losses in NumPy, one value per example. `probabilities` has one row per example
# and one column per class (each row sums to 1, as a softmax output does):
# - `categorical_cross_entropy(one_hot, probabilities)`: −Σₖ yₖ log pₖ over the classes, for
#   one-hot label rows y;
# - `sparse_categorical_cross_entropy(labels, probabilities)`: −log p[label], for integer
#   labels.
#
# The check compares both with Keras's own losses on a sample batch. Then answer the question
# above: for the same example, what differs between the two?

# %% nbgrader={"grade": false, "grade_id": "cross-entropy", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np


def categorical_cross_entropy(one_hot: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """−Σₖ yₖ log pₖ for each row."""
    ### BEGIN SOLUTION
    return -np.sum(one_hot * np.log(probabilities), axis=1)
    ### END SOLUTION


def sparse_categorical_cross_entropy(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """−log p[label] for each row."""
    ### BEGIN SOLUTION
    return -np.log(probabilities[np.arange(len(labels)), labels])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "cross-entropy-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.cross_entropies(categorical_cross_entropy, sparse_categorical_cross_entropy)
### BEGIN HIDDEN TESTS
checks.cross_entropies(categorical_cross_entropy, sparse_categorical_cross_entropy,
                       rows=5, classes=3, seed=7)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Settings

# %%
study.show_settings()

# %% [markdown]
# ## 3. Train
# One progress line per epoch while training, then a summary of what ran. Finished runs are
# cached, so re-running this cell only trains what is missing.

# %%
results = study.run(results_dir)

# %%
agreement = study.agreement(results)

# %% [markdown]
# ## 4. The published tables beside our runs
# Columns marked +/- are differences to the table's reference row; ours are paired by seed.

# %%
study.show_tables(agreement)

# %% [markdown] nbgrader={"grade": false, "grade_id": "paired-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — a difference paired by seed (2 points)
# Two configurations of the same network trained with the same seed start from the same
# weights and see the data in the same order with the same dropout masks. Subtracting them run
# by run cancels what the seed does to both, so a real difference can show even when it is
# smaller than the seed-to-seed spread. Write `paired_difference(a, b)`: `a` and `b` are one
# metric of two configurations as pandas Series indexed by seed, e.g.
# `results[results["name"] == "x"].set_index("seed")["test_accuracy"]`. Return the mean of
# a − b over the seeds both have, and the half-width of its 95% confidence interval, t·s/√n
# with s the standard deviation (`ddof=1`) of the n differences. Pair by seed, not by position.
#
# The check tries it on sample runs and on every pair of this study's configurations that
# differ only in their loss function. What do the pairs say about the two cross-entropies?

# %% nbgrader={"grade": false, "grade_id": "paired", "locked": false, "schema_version": 3, "solution": true, "task": false}
import pandas as pd
import scipy.stats


def paired_difference(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """Mean of a − b paired by seed, and the half-width of its 95% confidence interval."""
    ### BEGIN SOLUTION
    difference = (a - b).dropna()
    n = len(difference)
    half = scipy.stats.t.ppf(0.975, n - 1) * difference.std(ddof=1) / np.sqrt(n)
    return float(difference.mean()), float(half)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "paired-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.paired_difference(paired_difference, results, study)

# %% [markdown]
# ## 5. Every variant at a glance
# Dots: our mean with its 95% CI (thick) and single-run PI (thin). Crosses: the published
# value of the same colour.

# %%
study.show_dots(agreement, metrics=["test_accuracy", "test_loss"])

# %% [markdown]
# ## 6. What the data say

# %%
study.conclusion(agreement)

# %% [markdown] nbgrader={"grade": false, "grade_id": "scaling-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 3 — a huge loss with a high accuracy (2 points)
# Accuracy only asks which class gets the largest output; cross-entropy asks how much
# probability the true class gets. Multiply a network's logits (the inputs of its softmax) by a
# factor, as evaluating on 0–255 pixels a network trained on [0, 1] pixels roughly does, and
# the two part ways. Write `loss_and_accuracy(logits, labels, scale)`: the mean cross-entropy
# of softmax(scale · logits) against the integer `labels`, and the accuracy. Compute the
# log-softmax stably: subtract each row's largest value before exponentiating, or `np.exp`
# overflows at a scale of 255.
#
# Try scales 1, 10 and 255 on a few rows of your own: which of the two numbers moves? Section 7
# tests this explanation on real runs where a study published such a pair.

# %% nbgrader={"grade": false, "grade_id": "scaling", "locked": false, "schema_version": 3, "solution": true, "task": false}
def loss_and_accuracy(logits: np.ndarray, labels: np.ndarray, scale: float) -> tuple[float, float]:
    """Mean cross-entropy of softmax(scale · logits), and the share of rows classified right."""
    ### BEGIN SOLUTION
    z = scale * np.asarray(logits, dtype=float)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(len(labels)), labels].mean()
    return float(loss), float(np.mean(z.argmax(axis=1) == labels))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "scaling-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.scaled_logits(loss_and_accuracy)

# %% [markdown]
# ## 7. This study's own questions

# %%
study.show_analyses(results)

# %% [markdown]
# **For you to try:** copy the params file as `my_variant.yaml`, change a setting, and run
# `python -m mnistlab run loss --params my_variant.yaml`; its report shows what changes.

# %%
study.narrative("to_try")

# %% [markdown]
# ## 8. Environment

# %%
environment()
