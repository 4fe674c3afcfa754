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
# # Lab 2 — Categorical or sparse categorical cross-entropy?
#
# Study 001 starts from a basic 784-300-100-10 network trained with SGD, moves to a
# 128-128-dropout baseline trained with Adam, and then tries ten small changes to the
# architecture and dropout, each once with **categorical** cross-entropy (one-hot labels,
# Figure 4) and once with **sparse categorical** cross-entropy (integer labels, Figure 5).
# It concludes that the sparse loss "saw much more improvement".
#
# We re-run every model with several seeds and ask two questions the study raises:
# 1. Why did the basic model report a loss of 35.08 with an accuracy of 0.91?
# 2. Is one cross-entropy really better than the other?
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
from IPython.display import Markdown, display

from mnistlab import compare, conclusions, plots
from mnistlab.lab import environment, start, wide

study = start(params_file, profile)

# %% [markdown]
# ## 2. Settings

# %%
study.show_settings()

# %% [markdown]
# ## 3. Train
# One line per epoch is printed while training; finished runs are cached.

# %% tags=["remove_output"]
results = study.run(results_dir)

# %%
metrics = ["test_loss", "test_accuracy", "train_time_s"]
summary = compare.summarise(results, by=["group", "label", "loss"], metrics=metrics)
published = study.published

# %% [markdown]
# ## 4. The basic model and its loss of 35.08
# The study blames the high loss on labels that were not one-hot encoded, but the sparse loss
# takes integer labels, so that cannot be it. Our hypothesis: the network was trained on
# pixels scaled to [0, 1] but evaluated on raw 0–255 pixels (or trained and evaluated raw).
# Scaling the inputs by 255 scales the logits, so most predictions keep their class (accuracy
# stays high) while the wrong ones become extremely confident (the loss explodes).

# %%
basic = summary[summary["group"].isin(["basic", "ablation"])]
display(Markdown(f"*{published['basic'].caption}*"))
compare.side_by_side(basic.assign(description="Basic MNIST Model").iloc[[0]], published["basic"].frame,
                     key="description", published_key="description",
                     metrics={"test_loss": "loss", "test_accuracy": "accuracy"}, digits={"test_loss": 3})

# %%
basic[["label", "test_loss_mean", "test_loss_ci", "test_accuracy_mean", "test_accuracy_ci", "seeds"]]\
    .set_index("label").style.format("{:.4g}", subset=["test_loss_mean", "test_loss_ci"])\
    .format("{:.4f}", subset=["test_accuracy_mean", "test_accuracy_ci"])

# %%
display(Markdown(conclusions.basic_ablation(basic, published["basic"].frame)))

# %% [markdown]
# ## 5. Figure 4 — categorical cross-entropy
# Each pair of columns is *published* beside *measured* (mean ± 95% CI over seeds). The
# +/- columns are differences to the Baseline row of the same table; ours are paired by seed.

# %%
wide(compare.variant_table(results[results["group"] == "figure4"], published["figure4"].frame,
                           baseline="Baseline", metrics={"test_loss": "loss", "test_accuracy": "accuracy"}),
     caption=published["figure4"].caption)

# %% [markdown]
# The text reports the baseline as loss 0.07 and accuracy 0.981:

# %%
compare.side_by_side(summary[summary["group"] == "figure4"].head(1).assign(description="MNIST Baseline Model"),
                     published["baseline_text"].frame, key="description", published_key="description",
                     metrics={"test_loss": "loss", "test_accuracy": "accuracy"}, digits={"test_loss": 3})

# %% [markdown]
# ## 6. Figure 5 — sparse categorical cross-entropy

# %%
wide(compare.variant_table(results[results["group"] == "figure5"], published["figure5"].frame,
                           baseline="Baseline", metrics={"test_loss": "loss", "test_accuracy": "accuracy"}),
     caption=published["figure5"].caption)

# %% [markdown]
# ## 7. Both losses side by side
# Dots: our mean ± 95% CI. Crosses: the published value of the same colour.

# %%
variants = summary[summary["group"].isin(["figure4", "figure5"])]
by_loss = {"categorical_crossentropy": published["figure4"].frame,
           "sparse_categorical_crossentropy": published["figure5"].frame}
accuracy_plot = plots.variant_dots(variants, "test_accuracy", hue="loss", published=by_loss,
                                   published_col="accuracy", title="Test accuracy by variant")

# %%
loss_plot = plots.variant_dots(variants, "test_loss", hue="loss", published=by_loss,
                               published_col="loss", title="Test loss by variant")

# %% [markdown]
# ## 8. Is sparse really better? The paired difference
# Same seed means same initial weights, same data order and same dropout masks, so the only
# thing that differs between a Figure 4 run and its Figure 5 twin is the loss function.

# %%
paired_accuracy = compare.paired_difference(results, "group", "figure5", "figure4", "test_accuracy")
paired_loss = compare.paired_difference(results, "group", "figure5", "figure4", "test_loss")
paired_accuracy.merge(paired_loss, on="label", suffixes=(" accuracy", " loss")).set_index("label")\
    .drop(columns=["seeds loss"]).rename(columns={"seeds accuracy": "seeds"})

# %%
display(Markdown(conclusions.loss_equivalence(paired_loss, paired_accuracy, results,
                                              published["figure4"].frame, published["figure5"].frame)))

# %% [markdown]
# **For you to try:** train one variant with both losses through Keras's own `fit`
# (`mnistlab.training.train_run(run, seed, arrays, engine="plain")`, no XLA). Is the gap
# still exactly zero? Why might the order of the arithmetic matter?
#
# ## 9. Environment

# %%
environment()
