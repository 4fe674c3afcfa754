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
from mnistlab.lab import environment, start

study = start(params_file, profile)

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

# %% [markdown]
# ## 7. This study's own questions

# %%
study.show_analyses(results)

# %% [markdown]
# **For you to try:** train one variant with both losses through Keras's own `fit`
# (`mnistlab.training.train_run(run, seed, arrays, engine="plain")`, no XLA). Is the gap
# still exactly zero? Why might the order of the arithmetic matter?
#
# ## 8. Environment

# %%
environment()
