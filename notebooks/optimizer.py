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
