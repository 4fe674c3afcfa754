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
# # Lab — What happens to the weights while a network learns MNIST?
#
# This notebook runs the **dynamics** experiment for any study of it: MNIST networks trained
# with several random seeds, compared epoch by epoch, and one of them watched closely while it
# trains: all its weights every few epochs, and the loss and gradient norm of every update.
# Those recordings are saved with each run; the figures are drawn from them. The banner says
# which study and which profile produced these numbers.

# %% [markdown]
# ## 1. Setup
# The parameters cell below is what `make report` (papermill) replaces. Its defaults run the
# small `quick` profile, a preview the banner describes; set `profile = "full"` to reproduce
# the study.

# %% tags=["parameters"]
params_file = "../params/dynamics/002_abhinav.yaml"
profile = "quick"
results_dir = ""

# %%
from mnistlab.present import dynamics_plots
from mnistlab.notebook import checks
from mnistlab.notebook.study import environment, start

study = start(params_file, profile)

# %%
study.narrative("question")

# %% [markdown]
# ## 2. Settings

# %%
study.show_settings()

# %% [markdown]
# ## 3. Train
# Finished runs are cached, so re-running this cell only trains what is missing.

# %%
results = study.run(results_dir)

# %% [markdown]
# The arrays each run's probes recorded during training, which the figures below draw.

# %%
probes = study.probes(results)

# %%
agreement = study.agreement(results)

# %% [markdown]
# ## 4. The published numbers beside ours

# %%
study.narrative("published")

# %%
study.show_tables(agreement)

# %% [markdown]
# ## 5. Every network, epoch by epoch
# Loss on the training batches of each epoch, and accuracy on the held-out validation images
# after it: mean over seeds with its 95% band.

# %%
dynamics_plots.epoch_curves(results, ["loss", "val_accuracy"],
                            ["training loss", "validation accuracy"])

# %% [markdown]
# ## 6. The path of the weights in two dimensions
# Every snapshot of a run's weights is one point in a space with one axis per weight. A
# principal component analysis of all runs' snapshots together finds the two directions in
# which they differ most; each run is drawn as its path through those two. The left panel uses
# every weight of the model, the middle one only the first layer's, and the right one every
# weight measured from the run's own initial weights, which shows the shape of each path even
# when the runs start much further apart than they travel.

# %%
dynamics_plots.weight_paths(probes)

# %% [markdown] nbgrader={"grade": false, "grade_id": "pca-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — PCA of a weight trajectory, by SVD (2 points)
# The figure above is a principal component analysis. Write `weight_pca(snapshots)`:
# `snapshots` is an array with one row per saved snapshot of one run's weights. Centre it on
# its mean snapshot, take its singular value decomposition
# (`np.linalg.svd(centred, full_matrices=False)` gives U, S, Vt), and return the coordinates of
# every snapshot on the first two principal axes (`centred @ Vt[:2].T`, one row per snapshot)
# and the share of the variance along each of the two (S² over the sum of all S²). The check
# compares yours with mnistlab's on sample data and on this study's recorded runs (the sign
# of each axis is free).

# %% nbgrader={"grade": false, "grade_id": "pca", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np


def weight_pca(snapshots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates on the first two principal axes, and their shares of the variance."""
    ### BEGIN SOLUTION
    centred = snapshots - snapshots.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    variance = singular ** 2
    return centred @ axes[:2].T, variance[:2] / variance.sum()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "pca-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.weight_pca(weight_pca, probes)

# %% [markdown] nbgrader={"grade": false, "grade_id": "steps-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — updates between snapshots (2 points)
# The snapshots are taken every few epochs; each epoch is one update per batch. Write
# `updates_per_epoch(samples, batch_size)`, counting the last, smaller batch as an update.
# The check compares yours with the updates this study's probed runs recorded per epoch.

# %% nbgrader={"grade": false, "grade_id": "steps", "locked": false, "schema_version": 3, "solution": true, "task": false}
import math


def updates_per_epoch(samples: int, batch_size: int) -> int:
    """Optimizer updates in one epoch over `samples` images."""
    ### BEGIN SOLUTION
    return math.ceil(samples / batch_size)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "steps-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.recorded_steps(updates_per_epoch, probes, study.training_rows())

# %% [markdown]
# ## 7. Gradient norm and loss of every update
# Median over seeds with the band from the 25th to the 75th percentile. Each update sees one
# mini-batch, so both are noisy.

# %%
dynamics_plots.step_series(probes, ["grad_norm_step", "loss_step"],
                           ["gradient norm", "training loss (batch)"],
                           title="Gradient norm and loss by iteration")

# %% [markdown]
# ## 8. What the data say: this study's own questions

# %%
study.show_analyses(results)

# %% [markdown]
# **For you to try:** copy the params file as `my_variant.yaml`, change a setting, and run
# `python -m mnistlab run dynamics --params my_variant.yaml`; its report shows what changes.

# %%
study.narrative("to_try")

# %% [markdown]
# ## 9. Environment

# %%
environment()
