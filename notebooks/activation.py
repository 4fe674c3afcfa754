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
