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
# # Lab — How does the batch size change learning?
#
# This notebook runs the **batch-size** experiment for any study of it: the same model trained
# with different batch sizes, each with several random seeds, watched epoch by epoch on a
# validation split. The params file names the study, its settings and what it published; the
# banner below says which study and which profile produced these numbers.
#
# Smaller batches make more updates per epoch, each from a noisier gradient. Expect them to
# learn fast and to wander; expect large batches to move slowly and steadily. The curves, not
# only the final scores, are the result here, so every claim about a curve is turned into a
# number: where the validation loss was lowest, how much it still falls at the end, and how
# rough it is.

# %% [markdown]
# ## 1. Setup
# The parameters cell below is what `make report` (papermill) replaces. Its defaults run the
# small `quick` profile, a preview the banner describes; set `profile = "full"` to reproduce
# the study.

# %% tags=["parameters"]
params_file = "../params/batch_size/004_fouchier_yang.yaml"
profile = "quick"
results_dir = ""

# %%
from mnistlab.analysis import curves
from mnistlab.present import plots, tables
from mnistlab.notebook import checks
from mnistlab.notebook.study import environment, start

study = start(params_file, profile)

# %%
study.narrative("question")

# %% [markdown]
# ## 2. Settings
# Every batch size below is trained with every seed. Settings the study did not state are
# listed under *Assumptions* with the reason for the value we chose.

# %%
study.show_settings()

# %% [markdown]
# ## 3. Train
# Finished runs are cached, so re-running this cell only trains what is missing. Each run is
# one compiled call per epoch (a graph loop over the batches), which is what makes the smallest
# batches affordable: a few microseconds per update instead of a millisecond.

# %%
results = study.run(results_dir)

# %% [markdown]
# Per run: the final validation scores, the epoch of the lowest validation loss, the updates
# made and the roughness of the curves (`mnistlab.analysis.curves`).

# %%
rows = study.training_rows()
results = curves.with_statistics(results, rows)
agreement = study.agreement(results)

# %% [markdown] nbgrader={"grade": false, "grade_id": "updates-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — updates per epoch (2 points)
# An epoch shows the network every training image once, in batches; each batch is one update
# of the weights. Write `updates_per_epoch(samples, batch_size)`. The last batch of an epoch
# may be smaller than the others: it is an update all the same. The check compares yours with
# the updates this study's runs made on their `rows` training images.

# %% nbgrader={"grade": false, "grade_id": "updates", "locked": false, "schema_version": 3, "solution": true, "task": false}
import math


def updates_per_epoch(samples: int, batch_size: int) -> int:
    """Optimizer updates in one epoch over `samples` images."""
    ### BEGIN SOLUTION
    return math.ceil(samples / batch_size)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "updates-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.updates_per_epoch(updates_per_epoch, results, rows)

# %% [markdown] nbgrader={"grade": false, "grade_id": "epochs-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — why a large batch needs more epochs (2 points)
# Per update, the batch sizes learn alike (section 6 shows it); a large batch just makes few
# updates per epoch. Write `epochs_for_updates(updates, samples, batch_size)`: the fewest
# epochs in which `batch_size` makes at least `updates` updates. The check asks, among others,
# how many epochs this study's largest batch needs to match one epoch of its smallest.

# %% nbgrader={"grade": false, "grade_id": "epochs", "locked": false, "schema_version": 3, "solution": true, "task": false}
def epochs_for_updates(updates: int, samples: int, batch_size: int) -> int:
    """Fewest epochs with at least `updates` optimizer updates."""
    ### BEGIN SOLUTION
    return math.ceil(updates / updates_per_epoch(samples, batch_size))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "epochs-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.epochs_for_updates(epochs_for_updates, results, rows)

# %% [markdown]
# ## 4. The learning curves, one pair of panels per batch size
# Accuracy and loss by epoch on the training images (running mean over each epoch, as Keras
# logs it) and on the validation split (after each epoch). Lines are the mean over seeds; the
# band spans the lowest to the highest seed. Each panel has its own vertical scale. A red dashed
# line is a number the study published, on the panel it describes.

# %%
study.narrative("figure")

# %%
marks = plots.published_marks(results, study.published.values(), by="batch_size")
grid = plots.curve_grid(results, by="batch_size", marks=marks,
                        title="Accuracy and loss by epoch, per batch size")

# %% [markdown]
# ## 5. Every batch size in one table
# Mean ± 95% CI over seeds. *Roughness* is the mean absolute second difference of the
# validation loss per epoch over the second half of training (zero for a straight or gently
# bending curve); *turns* is the share of epochs at which the validation loss changes
# direction. Wall time is the epoch loop with its per-epoch validation and the first epoch's
# compilation, on this machine and with whatever else ran on it at the time.

# %%
tables.curve_statistics(results, by="batch_size")

# %% [markdown]
# ## 6. The same curves per update
# Validation loss against the number of optimizer updates made so far, mean over seeds. Where
# the lines of two batch sizes lie on one another, they learn alike per update: what
# separates them after the last epoch is how many updates they made.

# %%
per_update = plots.curves_by_updates(results, hue="batch_size", metric="val_loss",
                                     title="Validation loss per optimizer update")

# %% [markdown]
# ## 7. The published number beside our runs

# %%
study.show_tables(agreement)

# %% [markdown]
# ## 8. What the data say

# %%
study.conclusion(agreement)

# %%
study.show_analyses(results)

# %% [markdown]
# **For you to try:** copy the params file as `my_variant.yaml`, change a setting, and run
# `python -m mnistlab run batch_size --params my_variant.yaml`; its report shows what changes.

# %%
study.narrative("to_try")

# %% [markdown]
# ## 9. Environment

# %%
environment()
