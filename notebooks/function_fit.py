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
# # Lab — Does a deeper network fit a function better at the same size?
#
# This notebook runs the **function-fit** experiment for any study of it: small networks with
# about the same number of parameters, shallow and deep, fit a function of one variable by
# mean squared error, each with several random seeds. Every run records, while it trains, the
# loss and the gradient norm of every update, its fitted curve, and the Hessian's eigenvalues
# at a nearby point where the gradient (nearly) vanishes; the figures below are drawn from
# those recordings. The banner says which study and which profile produced these numbers.

# %% [markdown]
# ## 1. Setup
# The parameters cell below is what `make report` (papermill) replaces. Its defaults run the
# small `quick` profile, a preview the banner describes; set `profile = "full"` to reproduce
# the study.

# %% tags=["parameters"]
params_file = "../params/function_fit/002_abhinav.yaml"
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
# Every network below is trained with every seed. Settings the study did not state are listed
# under *Assumptions* with the reason for the value we chose.

# %%
study.show_settings()

# %% [markdown]
# ## 3. Train
# Finished runs are cached, so re-running this cell only trains what is missing. One logged
# epoch is `passes per epoch` full-batch steps, run as one compiled call.

# %%
results = study.run(results_dir)

# %% [markdown]
# The arrays each run's probes recorded during training, which the figures below draw.

# %%
probes = study.probes(results)

# %%
agreement = study.agreement(results)

# %% [markdown] nbgrader={"grade": false, "grade_id": "count-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 1 — the same size, shallow and deep (2 points)
# The experiment compares networks of about the same number of parameters. Write
# `count_parameters(inputs, hidden, outputs)` for a dense network (here one input, x, and one
# output, y): each `Dense` layer has (inputs + 1) × units weights. The check compares yours
# with the `parameters` every run of this study recorded. How alike are the sizes of the
# shallow and the deep networks?

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
# ## 4. The published numbers beside ours

# %%
study.narrative("published")

# %%
study.show_tables(agreement)

# %% [markdown]
# ## 5. Prediction against ground truth
# The black line is the target; each coloured line is one seed's network after training.

# %%
dynamics_plots.fitted_curves(probes, title="Predicted and true y on the training points")

# %% [markdown]
# ## 6. Loss and gradient norm by iteration
# The loss (mean squared error before each update) and the norm of the gradient each update
# used: median over seeds, with the band from the 25th to the 75th percentile. Both axes are
# logarithmic, so the first iterations and the last are both visible.

# %%
dynamics_plots.step_series(probes, ["loss_step", "grad_norm_step"],
                           ["training loss (MSE)", "gradient norm"], log_x=True,
                           title="Loss and gradient norm of every update")

# %% [markdown]
# ## 7. Minimal ratio against loss
# At a point where the gradient vanishes, the Hessian (the matrix of second derivatives of the
# loss) tells a minimum from a saddle: at a minimum every eigenvalue is positive. The *minimal
# ratio* is the share of positive eigenvalues. Each point is found from a run's trained
# weights by a few Newton steps on the gradient (the `critical` probe in its settings).

# %%
dynamics_plots.ratio_against_loss(probes, title="Minimal ratio at near-critical points")

# %% [markdown] nbgrader={"grade": false, "grade_id": "ratio-task", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Exercise 2 — the minimal ratio from the eigenvalues (2 points)
# Write `minimal_ratio(eigenvalues)`: the share of the Hessian's eigenvalues that are
# positive (a zero eigenvalue is a flat direction, not a curving-up one). The check compares
# yours with the ratio every probed run of this study recorded at its near-critical point.

# %% nbgrader={"grade": false, "grade_id": "ratio", "locked": false, "schema_version": 3, "solution": true, "task": false}
import numpy as np


def minimal_ratio(eigenvalues: np.ndarray) -> float:
    """Share of positive eigenvalues."""
    ### BEGIN SOLUTION
    return float(np.mean(np.asarray(eigenvalues) > 0))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ratio-check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.minimal_ratio(minimal_ratio, probes)

# %% [markdown]
# The eigenvalues themselves, sorted, one line per run (symmetric log scale: the flat middle
# is the many eigenvalues close to zero):

# %%
dynamics_plots.spectra(probes, title="Hessian eigenvalues at the near-critical points")

# %% [markdown]
# ## 8. What the data say: this study's own questions

# %%
study.show_analyses(results)

# %% [markdown]
# **For you to try:** copy the params file as `my_variant.yaml`, change a setting, and run
# `python -m mnistlab run function_fit --params my_variant.yaml`; its report shows what changes.

# %%
study.narrative("to_try")

# %% [markdown]
# ## 9. Environment

# %%
environment()
