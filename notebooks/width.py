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
# # Lab — Does a wider hidden layer classify better?
#
# This notebook runs the **width** experiment for any study of it: networks that differ in the
# number of units of their hidden layers, each trained with several random seeds. The params
# file names the study, its settings and its published tables; the banner below says which
# study and which profile produced these numbers.
#
# Settings are compared **paired by seed** (the same seed gives the same batches), and agreement
# with the published single runs is judged by a 95% *prediction interval for a single run*, with
# the 95% *confidence interval of our mean* beside it.

# %% [markdown]
# ## 1. Setup
# The parameters cell below is what `make report` (papermill) replaces. Its defaults run the
# small `quick` profile; set `profile = "full"` to reproduce the study.

# %% tags=["parameters"]
params_file = "../params/width/004_fouchier_yang.yaml"
profile = "quick"
results_dir = ""

# %%
from IPython.display import Markdown

from mnistlab.present import conclusions, plots, style
from mnistlab.analysis import stats
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

# %% [markdown]
# ## 3. Train
# Finished runs are cached, so re-running this cell (or the whole notebook) only trains what
# is missing.

# %%
results = study.run(results_dir)

# %%
results = results.assign(hidden_units=results["hidden"].map(sum),
                         epoch_s=results["train_time_s"] / results["epochs_run"])
agreement = study.agreement(results)

# %% [markdown] nbgrader={"grade": false, "grade_id": "count-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — how many parameters does a width buy? (2 points)
# A wider layer is a bigger model: each `Dense` layer has (inputs + 1) × units weights, one per
# input and one bias per unit. Write `count_parameters(inputs, hidden, outputs)` for a dense
# network with the hidden layers `hidden` (a list of widths). The check compares your count
# with the `parameters` every run of this study recorded.
#
# By how much does doubling the width multiply the parameters, and is the output layer's share
# of them large or small?

# %% nbgrader={"grade": false, "grade_id": "count", "locked": false, "schema_version": 3, "solution": true, "task": false}
def count_parameters(inputs: int, hidden: list[int], outputs: int) -> int:
    """Weights and biases of the dense network inputs → hidden… → outputs."""
    ### BEGIN SOLUTION
    sizes = [inputs, *hidden, outputs]
    return sum((fan_in + 1) * units for fan_in, units in zip(sizes, sizes[1:]))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "count-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.parameter_counts(count_parameters, results)

# %% [markdown]
# ## 4. The published tables beside our runs

# %%
study.show_tables(agreement)

# %% [markdown]
# Time per epoch on this machine (the mnistlab trainer, validation included), mean over seeds:

# %%
style.summary_table(stats.summarise(results, ["group", "hidden_units", "parameters"], ["epoch_s"]),
                    ["group", "hidden_units", "parameters"], {"epoch_s": 3})

# %% [markdown] nbgrader={"grade": false, "grade_id": "plateau-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — where does the plateau start? (2 points)
# Past some width, more units stop buying accuracy. Write `plateau_start(widths, accuracies,
# tolerance)`: given one accuracy per run (`widths[i]` is the width of run i; each width has
# several seeds), return the smallest width whose **mean** accuracy is within `tolerance` of
# the best width's mean. The check runs it on sample runs and on each group of this study's
# runs with a tolerance of half a percentage point.

# %% nbgrader={"grade": false, "grade_id": "plateau", "locked": false, "schema_version": 3, "solution": true, "task": false}
def plateau_start(widths: list[float], accuracies: list[float], tolerance: float) -> float:
    """Smallest width whose mean accuracy is within tolerance of the best mean."""
    ### BEGIN SOLUTION
    means = {}
    for width, accuracy in zip(widths, accuracies):
        means.setdefault(width, []).append(accuracy)
    means = {width: sum(v) / len(v) for width, v in means.items()}
    best = max(means.values())
    return min(width for width, mean in means.items() if mean >= best - tolerance)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "plateau-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.plateau(plateau_start, results, setting="hidden_units")

# %% [markdown]
# ## 5. Figures — published and measured, by width
# Blue: our mean with its 95% CI (thick) and the single-run 95% PI (thin). Red crosses: published.

# %%
study.show_lines(agreement, xlabel="hidden units")

# %% [markdown]
# ## 6. Learning curves
# Validation accuracy and loss after every epoch, one line per width (mean over seeds, band:
# 95% CI of the mean); runs of different groups (and tasks) get figures of their own. Where the
# validation loss turns upward while the accuracy stays flat, the network is over-fitting.

# %%
curves = plots.curves_by_setting(results, hue="hidden_units", metrics=("val_accuracy", "val_loss"),
                                 title="Validation curves by width")

# %% [markdown]
# ## 7. What the data say
# First, agreement with the published numbers; then whether the widths differ from each other
# by more than the seed-to-seed spread (test accuracy in percentage points), and the trend.

# %%
study.conclusion(agreement)

# %%
Markdown(conclusions.differences(results, "hidden_units", "test_accuracy", "Test accuracy",
                                 scale=100, unit=" pp", ordered=True))

# %%
Markdown(conclusions.differences(results, "hidden_units", "test_loss", "Test loss", digits=4,
                                 ordered=True))

# %% [markdown]
# ## 8. This study's own questions

# %%
study.show_analyses(results)

# %% [markdown]
# **For you to try:** copy the params file as `my_variant.yaml`, change a setting, and run
# `python -m mnistlab run width --params my_variant.yaml`; its report shows what changes.

# %%
study.narrative("to_try")

# %% [markdown]
# ## 9. Environment

# %%
environment()
