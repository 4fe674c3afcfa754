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
# # Lab — Does the activation function matter?
#
# This notebook runs the **activation** experiment for any study of it: the same network
# trained with different activation functions in its hidden layers, each with several random
# seeds. The params file names the study, its settings and its published tables; the banner
# below says which study and which profile produced these numbers.
#
# With the same seed, two settings of one shape start from the same initial weights and see the
# same batches: only the activation differs. So we compare them **paired by seed**, and judge
# agreement with the published single runs by a 95% *prediction interval for a single run*.

# %% [markdown]
# ## 1. Setup
# The parameters cell below is what `make report` (papermill) replaces. Its defaults run the
# small `quick` profile; set `profile = "full"` to reproduce the study.

# %% tags=["parameters"]
params_file = "../params/activation/004_fouchier_yang.yaml"
profile = "quick"
results_dir = ""

# %%
from IPython.display import Markdown

from mnistlab.present import conclusions, plots
from mnistlab.notebook import checks
from mnistlab.notebook.study import environment, start

study = start(params_file, profile)

# %%
study.narrative("question")

# %% [markdown]
# ## 2. Settings
# Every model below is trained with every seed. Settings the study did not state are listed
# under *Assumptions* with the reason for the value we chose.

# %%
study.show_settings()

# %% [markdown] nbgrader={"grade": false, "grade_id": "activation-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — the activations and their slopes (2 points)
# Backpropagation multiplies each layer's error by the slope of its activation, so where the
# slope is nearly 0 a layer stops learning. Write `activation(name, x)` and
# `derivative(name, x)` for `"sigmoid"`, `"tanh"` and `"relu"` on a NumPy array `x`
# (element-wise; for relu take the slope at 0 to be 0, as TensorFlow does). Write the slopes of
# sigmoid and tanh through the activation's own value a: σ′ = a(1 − a), tanh′ = 1 − a².
#
# Where do sigmoid's and tanh's slopes vanish, and what does that predict for the learning
# curves of section 6?

# %% nbgrader={"grade": false, "grade_id": "activation", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np


def activation(name: str, x: np.ndarray) -> np.ndarray:
    """sigmoid, tanh or relu of x, element-wise."""
    ### BEGIN SOLUTION
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    return np.maximum(x, 0.0)
    ### END SOLUTION


def derivative(name: str, x: np.ndarray) -> np.ndarray:
    """The slope of activation(name, x), element-wise."""
    ### BEGIN SOLUTION
    a = activation(name, x)
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a ** 2
    return (x > 0).astype(float)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "activation-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.activations(activation, derivative, study)

# %% [markdown]
# ## 3. Train
# Finished runs are cached, so re-running this cell (or the whole notebook) only trains what
# is missing.

# %%
results = study.run(results_dir)

# %%
results = results.assign(activations=results["activation"].map("/".join))
agreement = study.agreement(results)

# %% [markdown]
# ## 4. The published tables beside our runs

# %%
study.show_tables(agreement)

# %% [markdown] nbgrader={"grade": false, "grade_id": "paired-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — two activations, paired by seed (2 points)
# With the same seed two configurations start from the same initial weights and see the same
# batches, so the seed-to-seed luck cancels in their difference. Write
# `paired_difference(a, b)`: `a` and `b` are one configuration's test accuracies each, as
# pandas Series indexed by seed (perhaps in different orders). Return the mean of the
# differences a − b taken seed by seed and the half-width of its 95% confidence interval,
# t · s / √n with Student's t for n − 1 degrees of freedom.
#
# The check compares yours with mnistlab's on every pair of this study's configurations that
# differ only in their activation. Which differences are larger than their interval?

# %% nbgrader={"grade": false, "grade_id": "paired", "locked": false, "schema_version": 3, "solution": true, "task": false}
import scipy.stats


def paired_difference(a, b) -> tuple[float, float]:
    """Mean of a − b paired by seed, and its 95% CI half-width."""
    ### BEGIN SOLUTION
    d = (a - b).dropna().to_numpy(dtype=float)
    half = scipy.stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean()), float(half)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "paired-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.paired_difference(paired_difference, results, study, setting="activation")

# %% [markdown]
# ## 5. Every activation at a glance
# Dots: our mean with its 95% CI (thick) and single-run PI (thin). Crosses: published.

# %%
study.show_dots(agreement, metrics=["test_accuracy", "test_loss"])

# %% [markdown]
# ## 6. Learning curves
# Validation accuracy and loss after every epoch, one line per activation (mean over seeds,
# band: 95% CI of the mean). Where the validation loss turns upward while the accuracy stays
# flat, the network is over-fitting: more confident on the examples it gets wrong.

# %%
curves = plots.curves_by_setting(results, hue="activations", metrics=("val_accuracy", "val_loss"),
                                 title="Validation curves by activation")

# %% [markdown]
# ## 7. What the data say
# First, agreement with the published numbers; then whether the activations differ from each
# other by more than the seed-to-seed spread (test accuracy in percentage points).

# %%
study.conclusion(agreement)

# %%
Markdown(conclusions.differences(results, "activations", "test_accuracy", "Test accuracy",
                                 scale=100, unit=" pp"))

# %%
Markdown(conclusions.differences(results, "activations", "test_loss", "Test loss", digits=4))

# %% [markdown]
# ## 8. This study's own questions

# %%
study.show_analyses(results)

# %% [markdown]
# **For you to try:** copy the params file as `my_variant.yaml`, change a setting, and run
# `python -m mnistlab run activation --params my_variant.yaml`; its report shows what changes.

# %%
study.narrative("to_try")

# %% [markdown]
# ## 9. Environment

# %%
environment()
