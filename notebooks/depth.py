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
# # Lab 1 — Does a deeper network classify MNIST better?
#
# Study 000 trained ten fully connected networks on MNIST that differ only in depth:
# 1 to 10 hidden layers of 50 ReLU units, Adam (learning rate 0.001), batch 32, and
# early stopping when the training loss stops falling. It reports training time, loss and
# accuracy on the training data (Table 1), the same on the test data (Table 2), and a plot
# of accuracy and loss by depth (Figure 3).
#
# We re-run every depth with several random seeds, so each measured number is a mean with a
# 95% confidence interval, and set it beside the published value.
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

from mnistlab import compare, conclusions, plots
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
# One line per epoch is printed while training; finished runs are cached, so re-running this
# cell (or the whole notebook) only trains what is missing.

# %% tags=["remove_output"]
results = study.run(results_dir)

# %%
results["hidden_layers"] = results["hidden"].map(len)
summary = compare.summarise(
    results, by=["hidden_layers"],
    metrics=["train_time_s", "epochs_run", "train_loss", "train_accuracy", "test_loss", "test_accuracy"])
table1_pub = study.published["table1"]
table2_pub = study.published["table2"]

# %% [markdown]
# ## 4. Table 1 — training data
# Training time, loss and accuracy on the training data at the last epoch. *published*: the
# study's value; *measured*: our mean ± 95% CI over the seeds; *Δ*: measured − published.

# %%
display(Markdown(f"*{table1_pub.caption}*"))
compare.side_by_side(summary, table1_pub.frame, key="hidden_layers", published_key="hidden_layers",
                     metrics={"train_time_s": "training_time_s", "train_loss": "loss",
                              "train_accuracy": "accuracy"},
                     digits={"train_time_s": 1})

# %% [markdown]
# Epochs trained before early stopping (the study does not report this; it explains much of
# the training time):

# %%
summary.set_index("hidden_layers")[["epochs_run_mean", "epochs_run_ci"]].round(1).T

# %% [markdown]
# ## 5. Table 2 — test data

# %%
display(Markdown(f"*{table2_pub.caption}*. {table2_pub.notes}"))
compare.side_by_side(summary, table2_pub.frame, key="hidden_layers", published_key="hidden_layers",
                     metrics={"test_loss": "loss", "test_accuracy": "accuracy"})

# %% [markdown]
# ## 6. Figure 3 — accuracy and loss by depth
# Blue: measured mean with 95% interval. Red crosses: published.

# %%
figure3 = plots.metric_panels(summary, x="hidden_layers",
                              metrics=[("train_accuracy", "accuracy"), ("train_loss", "loss")],
                              published=table1_pub.frame, xlabel="hidden layers",
                              title="Training data (Figure 3)")

# %%
figure_test = plots.metric_panels(summary, x="hidden_layers",
                                  metrics=[("test_accuracy", "accuracy"), ("test_loss", "loss")],
                                  published=table2_pub.frame, xlabel="hidden layers",
                                  title="Test data (Table 2)")

# %%
curves = plots.training_curves(results, hue="hidden_layers", metric="loss",
                               title="Training loss per epoch, by depth")

# %% [markdown]
# ## 7. What the data say

# %%
display(Markdown(conclusions.depth(results, summary, table2_pub.frame)))

# %% [markdown]
# **For you to try:** change `params_file` to a copy of the params with 100 units per layer,
# or `patience: 3`. Does the best depth move?
#
# ## 8. Environment

# %%
environment()
