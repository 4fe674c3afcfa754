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

# %% [markdown]
# ## 1. Setup
# The parameters cell below is what `make report` (papermill) replaces. Its defaults run the
# small `quick` profile, a preview the banner describes; set `profile = "full"` to reproduce
# the study.

# %% tags=["parameters"]
params_file = "../params/depth/000_rim_shin.yaml"
profile = "quick"
results_dir = ""

# %%
from IPython.display import Markdown

from mnistlab.notebook import checks
from mnistlab.present import conclusions, plots, style
from mnistlab.analysis import stats
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

# %% [markdown] nbgrader={"grade": false, "grade_id": "network-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — build the network for any depth (2 points)
# Every model of this experiment is a stack of dense layers: the 784 pixels, one `Dense` layer
# per entry of the run's `hidden` list, then one output per class. Write
# `build_network(hidden, activation)`: a `keras.Sequential` that starts with
# `keras.Input(shape=(inputs,))`, has one `keras.layers.Dense(units, activation=activation)`
# per entry of `hidden`, and ends with `Dense(outputs, activation=output_activation)`. Do not
# compile it.
#
# Count by hand first: a `Dense` layer has (inputs + 1) × units weights, so one hidden layer of
# 50 on 784 inputs with 10 outputs has 785 × 50 + 51 × 10 = 39,760. How many does each further
# layer of 50 add? The check builds every network in the table above and compares its layers
# and its number of weights with the network mnistlab trains.

# %% nbgrader={"grade": false, "grade_id": "network", "locked": false, "schema_version": 3, "solution": true, "task": false}
import keras


def build_network(hidden: list[int], activation: str = "relu", inputs: int = 784,
                  outputs: int = 10, output_activation: str = "softmax") -> keras.Model:
    """`inputs` → one Dense layer per entry of `hidden` → `outputs`, uncompiled."""
    ### BEGIN SOLUTION
    layers = [keras.Input(shape=(inputs,))]
    layers += [keras.layers.Dense(units, activation=activation) for units in hidden]
    layers.append(keras.layers.Dense(outputs, activation=output_activation))
    return keras.Sequential(layers)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "network-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.network(build_network, study)
### BEGIN HIDDEN TESTS
checks.architecture(build_network([]), 784, [], 10, "relu", "softmax", call="build_network([])")
checks.architecture(build_network([50] * 10), 784, [50] * 10, 10, "relu", "softmax",
                    call="build_network([50] * 10)")
### END HIDDEN TESTS

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

# %% [markdown] nbgrader={"grade": false, "grade_id": "early-stopping-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — early stopping, as a Keras callback (2 points)
# A run whose settings say `early stopping: loss, patience p` is trained with
# `keras.callbacks.EarlyStopping(monitor="loss", patience=p)`: it stops once the training loss
# has not improved on its best for `p` epochs in a row, which is why the number of epochs
# differs from run to run (section 4). Write that rule yourself: complete `on_epoch_end` so
# that it sets `self.model.stop_training = True` at the right epoch. A loss equal to the best
# so far is no improvement.
#
# The check drives your callback and Keras's through sample loss curves and through the
# recorded losses of every run above that used early stopping, and compares when each stops.

# %% nbgrader={"grade": false, "grade_id": "early-stopping", "locked": false, "schema_version": 3, "solution": true, "task": false}
class StopWhenLossStalls(keras.callbacks.Callback):
    """Stop training once the training loss has not improved for `patience` epochs."""

    def __init__(self, patience: int = 1):
        super().__init__()
        self.patience = patience

    def on_train_begin(self, logs=None):
        self.best, self.waited = float("inf"), 0

    def on_epoch_end(self, epoch, logs=None):
        loss = logs["loss"]
        ### BEGIN SOLUTION
        if loss < self.best:
            self.best, self.waited = loss, 0
        else:
            self.waited += 1
            if self.waited >= self.patience:
                self.model.stop_training = True
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "early-stopping-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.early_stopping(StopWhenLossStalls, results)

# %% [markdown]
# ## 4. The published tables beside our runs

# %%
study.show_tables(agreement)

# %% [markdown] nbgrader={"grade": false, "grade_id": "interval-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 3 — is a published value reproduced? (2 points)
# A published number is one run. Our runs of the same model with other seeds scatter, so a
# published value is reproduced when it lies where one more of our runs could land: inside the
# 95% prediction interval for a single run, mean ± t·s·√(1 + 1/n), with n runs, their mean,
# their sample standard deviation s (`ddof=1`) and Student's t with n − 1 degrees of freedom
# (`scipy.stats.t.ppf(0.975, n - 1)`). Write `prediction_interval(values)`, returning
# `(low, high)`, and `reproduced(published, values)`, True when the published value lies
# inside it.
#
# Compare your verdicts with the ✓ and ✗ of the *95% PI* columns above. Why would the
# confidence interval of the mean (without the 1 under the root) be the wrong yardstick for
# a single published run?

# %% nbgrader={"grade": false, "grade_id": "interval", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np
import scipy.stats


def prediction_interval(values: list[float]) -> tuple[float, float]:
    """95% prediction interval for one more run: mean ± t·s·√(1 + 1/n)."""
    ### BEGIN SOLUTION
    values = np.asarray(values, dtype=float)
    n = len(values)
    half = scipy.stats.t.ppf(0.975, n - 1) * values.std(ddof=1) * np.sqrt(1 + 1 / n)
    return values.mean() - half, values.mean() + half
    ### END SOLUTION


def reproduced(published: float, values: list[float]) -> bool:
    """Could one of our runs have given the published value?"""
    ### BEGIN SOLUTION
    low, high = prediction_interval(values)
    return bool(low <= published <= high)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "interval-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.prediction_interval(prediction_interval, results)
checks.reproduced(reproduced, results)
### BEGIN HIDDEN TESTS
checks.prediction_interval(prediction_interval, results, more=[[0.5] * 15 + [0.7] * 15])
### END HIDDEN TESTS

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
# **For you to try:** copy the params file as `my_variant.yaml`, change a setting, and run
# `python -m mnistlab run depth --params my_variant.yaml`; its report shows what changes.

# %%
study.narrative("to_try")

# %% [markdown]
# ## 8. Environment

# %%
environment()
