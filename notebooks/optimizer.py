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
# # Lab — Which optimizer, and with which settings?
#
# This notebook runs the **optimizer** experiment for any study of it: the same network trained
# with different optimizers, and with the readings of the study's unstated settings that could
# explain its numbers, each with several random seeds. The params file names the study, its
# settings and its published tables; the banner below says which study and which profile
# produced these numbers.
#
# Published numbers are single runs, so we judge agreement with a 95% *prediction interval
# for a single run*, and show the 95% *confidence interval of our mean* beside it.

# %% [markdown]
# ## 1. Setup
# The parameters cell below is what `make report` (papermill) replaces. Its defaults run the
# small `quick` profile; set `profile = "full"` to reproduce the study.

# %% tags=["parameters"]
params_file = "../params/optimizer/004_fouchier_yang.yaml"
profile = "quick"
results_dir = ""

# %%
from mnistlab.notebook.study import environment, start
from mnistlab.notebook import checks

study = start(params_file, profile)

# %%
study.narrative("question")

# %% [markdown]
# ## 2. Settings
# Every model below is trained with every seed. Settings the study did not state are listed
# under *Assumptions* with the reason for the value we chose; each *group* is one reading.

# %%
study.narrative("readings")

# %%
study.show_settings()

# %% [markdown] nbgrader={"grade": false, "grade_id": "sgd-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — one step of SGD with momentum, by hand (2 points)
# Keras's SGD keeps a velocity: v ← momentum · v − learning_rate · g, then w ← w + v. With
# momentum 0 it is plain gradient descent; with momentum it keeps moving in the direction of
# past gradients. Write `sgd_step(w, g, velocity, learning_rate, momentum)` returning the new
# `(w, velocity)` (NumPy arrays). The check runs three steps of yours and of
# `keras.optimizers.SGD` on the same tensors, with this study's SGD settings and with
# momentum 0.9.

# %% nbgrader={"grade": false, "grade_id": "sgd", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np


def sgd_step(w, g, velocity, learning_rate, momentum):
    """One SGD update with momentum: the new (w, velocity)."""
    ### BEGIN SOLUTION
    velocity = momentum * velocity - learning_rate * g
    return w + velocity, velocity
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "sgd-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.sgd_momentum(sgd_step, study)

# %% [markdown] nbgrader={"grade": false, "grade_id": "adam-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — one step of Adam, by hand (2 points)
# Adam keeps running means of the gradient, m ← β₁m + (1 − β₁)g, and of its square,
# v ← β₂v + (1 − β₂)g², corrects their start at zero, m̂ = m / (1 − β₁ᵗ) and
# v̂ = v / (1 − β₂ᵗ) for step t = 1, 2, …, and moves w ← w − learning_rate · m̂ / (√v̂ + ε).
# Write `adam_step(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon)` returning
# `(w, m, v)`. The check compares four steps with `keras.optimizers.Adam` at this study's
# Adam settings.
#
# How long is Adam's first step, whatever the size of the gradient? What does that say about
# raw, unscaled pixel inputs, which give gradients hundreds of times larger?

# %% nbgrader={"grade": false, "grade_id": "adam", "locked": false, "schema_version": 3, "solution": true, "task": false}
def adam_step(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    """Adam's update number t (from 1): the new (w, m, v)."""
    ### BEGIN SOLUTION
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "adam-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.adam(adam_step, study)

# %% [markdown]
# ## 3. Train
# Finished runs are cached, so re-running this cell only trains what is missing.

# %%
results = study.run(results_dir)

# %%
agreement = study.agreement(results)

# %% [markdown]
# ## 4. The published tables beside our runs
# One table per reading: the same published rows, beside the runs of that reading.

# %%
study.show_tables(agreement)

# %% [markdown]
# ## 5. Learning curves
# Mean over seeds per epoch with its 95% CI band, one line per reading; dashed red lines are
# the published test values. Where the study gives a validation split the curves are
# validation curves, otherwise training curves.

# %%
study.narrative("curves")

# %%
study.show_curves(results, metrics=["accuracy", "loss"])

# %% [markdown]
# ## 6. Every reading at a glance
# Dots: our mean with its 95% CI (thick) and single-run PI (thin). Crosses: the published
# value, in the colour of the reading it is set beside.

# %%
study.show_dots(agreement, metrics=["test_accuracy", "test_loss"])

# %% [markdown]
# ## 7. What the data say

# %%
study.conclusion(agreement)

# %% [markdown]
# ## 8. This study's own questions

# %%
study.show_analyses(results)

# %% [markdown]
# **For you to try:** copy the params file as `my_variant.yaml`, change a setting, and run
# `python -m mnistlab run optimizer --params my_variant.yaml`; its report shows what changes.

# %%
study.narrative("to_try")

# %% [markdown]
# ## 9. Environment

# %%
environment()
