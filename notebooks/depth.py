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
# # Lab — Does a deeper network classify MNIST better?
#
# This notebook runs the **depth** experiment for any study of it: fully connected networks
# that differ in the number of hidden layers, each trained with several random seeds. The
# params file names the study, its settings and its published tables; the banner below says
# which study and which profile produced these numbers.
#
# Every measured number is a mean over seeds. The published numbers are single runs, so we
# judge agreement with a 95% *prediction interval for a single run*, and show the 95%
# *confidence interval of our mean* beside it.
#
# **Question for you:** before running anything, guess — will ten layers beat one?

# %% [markdown]
# ## 1. Setup
# The parameters cell below is what `make report` (papermill) replaces. Its defaults run the
# small `quick` profile in about a minute; set `profile = "full"` to reproduce the study.

# %% tags=["parameters"]
params_file = "../params/depth/000_rim_shin.yaml"
profile = "quick"
results_dir = ""

# %%
from IPython.display import Markdown, display

from mnistlab import conclusions, plots, stats, style
from mnistlab.lab import environment, start

study = start(params_file, profile)

# %% [markdown]
# ## 2. Settings
# Every model below is trained with every seed. Settings the study did not state are listed
# under *Assumptions* with the reason for the value we chose.

# %%
study.show_settings()

# %% [markdown]
# ## 3. Train
# One progress line per epoch while training; when it is done they give way to a summary of
# what ran. Finished runs are cached, so re-running this cell (or the whole notebook) only
# trains what is missing.

# %%
results = study.run(results_dir)

# %%
results = results.assign(hidden_layers=results["hidden"].map(len),
                         epoch_cpu_s=results["train_cpu_s"] / results["epochs_run"])
agreement = study.agreement(results)

# %% [markdown]
# ## 4. The published tables beside our runs

# %%
study.show_tables(agreement)

# %% [markdown]
# Epochs trained before early stopping (rarely reported; it explains much of the training
# time) and CPU seconds per epoch, mean over seeds per depth. Training times here are CPU
# time, not wall time: wall time also measures whatever else ran on the machine.

# %%
style.summary_table(stats.summarise(results, ["hidden_layers"], ["epochs_run", "epoch_cpu_s"]),
                    "hidden_layers", {"epochs_run": 1, "epoch_cpu_s": 2})

# %% [markdown]
# ## 5. Figures — published and measured, by depth
# Blue: our mean with its 95% CI (thick) and the single-run 95% PI (thin). Red crosses: published.

# %%
study.show_lines(agreement, xlabel="hidden layers")

# %%
curves = plots.training_curves(results, hue="hidden_layers", metric="loss",
                               title="Training loss per epoch, by depth")

# %% [markdown]
# ## 6. What the data say

# %%
study.conclusion(agreement)

# %%
Markdown("- " + conclusions.trend(results, "hidden_layers", "test_accuracy", "depth",
                                  "Test accuracy")
         + "\n- " + conclusions.trend(results, "hidden_layers", "epoch_cpu_s", "depth",
                                       "CPU time per epoch"))

# %% [markdown]
# ## 7. This study's own questions

# %%
study.show_analyses(results)

# %% [markdown]
# **For you to try:** copy the params file, set 100 units per layer or `patience: 3`, and run
# `python -m mnistlab run depth --params my_variant.yaml`. Does the best depth move?
#
# ## 8. Environment

# %%
environment()
