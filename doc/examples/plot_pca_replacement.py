"""
==============================================
Replace PCA by an autoencoder, choose its size
==============================================

:class:`~skautoencoder.Autoencoder` is a transformer with the interface of
:class:`~sklearn.decomposition.PCA` (``fit``, ``transform``,
``inverse_transform``), so it takes PCA's place in a
:class:`~sklearn.pipeline.Pipeline`. By default (``init='pca'``) the network
starts as the PCA of its training rows and keeps its best validation epoch,
epoch 0 included, so it never ends worse than PCA on its validation rows.
This example compares PCA, the default and a randomly initialised network
(``init='random'``) on the 8x8 digits, then shows how to choose ``n_components``: not with the
autoencoder's own score, which only measures reconstruction and so keeps
improving as the latent space grows, but with the score of the supervised
pipeline it feeds.
"""

# %%
# Data: 8x8 images of digits, pixel values scaled to [0, 1]. The autoencoders
# below have one hidden layer of 64 units on each side of the code and train
# until the validation loss stops improving (early stopping, the default); a
# higher learning rate and a shorter patience than the defaults keep this
# example fast.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skautoencoder import Autoencoder

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
settings = dict(hidden_layer_sizes=(64,), learning_rate_init=3e-3, n_iter_no_change=5, random_state=0)

# %%
# PCA and the autoencoder in the same pipeline
# --------------------------------------------
# The reducer's codes are standardised and classified by a logistic regression.
# We report two things on the held-out quarter: how well the reducer
# reconstructs the images (R2 of ``inverse_transform(transform(X))``) and the
# accuracy of the classifier on its codes.


def make_pipeline(reducer):
    return Pipeline([("reduce", reducer), ("scale", StandardScaler()),
                     ("classify", LogisticRegression(max_iter=2000))])


print(f"{'n_components':>12}  {'reducer':>20}  {'R2 held-out':>11}  {'accuracy':>8}  {'fit s':>5}")
for n_components in (2, 8, 32):
    for name, reducer in (("PCA", PCA(n_components, random_state=0)),
                          ("Autoencoder", Autoencoder(n_components, **settings)),
                          ("init='random'", Autoencoder(n_components, init="random", **settings))):
        pipe = make_pipeline(reducer)
        start = time.perf_counter()
        pipe.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        reduce = pipe.named_steps["reduce"]
        r2 = r2_score(X_test, reduce.inverse_transform(reduce.transform(X_test)),
                      multioutput="variance_weighted")
        print(f"{n_components:>12}  {name:>20}  {r2:>11.3f}  "
              f"{pipe.score(X_test, y_test):>8.3f}  {seconds:>5.2f}")

# %%
# Why not the autoencoder's own score
# -----------------------------------
# ``Autoencoder.score`` is the mean of ``score_samples``: minus the
# reconstruction error and a code term in the same units. A :class:`~sklearn.model_selection.GridSearchCV` that
# uses it (the default scoring) evaluates held-out folds, yet a larger latent
# space also reconstructs held-out rows better, so such a search tends to pick
# the largest size offered. It answers "how much information can the codes
# keep", not "how many components are useful".
sizes = [2, 8, 32]
autoencoder = Autoencoder(**settings)
unsupervised = GridSearchCV(autoencoder, {"n_components": sizes}, cv=3)
unsupervised.fit(X_train)
print("mean held-out score (minus reconstruction error and code term) per n_components:")
for size, score in zip(sizes, unsupervised.cv_results_["mean_test_score"]):
    print(f"  {size:>2}: {score:.5f}")
print("chosen:", unsupervised.best_params_, "(the largest offered)" if
      unsupervised.best_params_["n_components"] == max(sizes) else "")

# %%
# Choosing ``n_components`` with the task's score
# -----------------------------------------------
# When the codes feed a supervised model, search the whole pipeline and let
# the classifier's cross-validated accuracy decide.
supervised = GridSearchCV(make_pipeline(autoencoder), {"reduce__n_components": sizes}, cv=3)
supervised.fit(X_train, y_train)
print("mean CV accuracy per n_components:")
for size, score in zip(sizes, supervised.cv_results_["mean_test_score"]):
    print(f"  {size:>2}: {score:.3f}")
print("chosen:", supervised.best_params_,
      f"held-out accuracy of the refitted pipeline: {supervised.score(X_test, y_test):.3f}")
mean, std = supervised.cv_results_["mean_test_score"], supervised.cv_results_["std_test_score"]
best = np.argmax(mean)
print("smallest n_components within one standard deviation of the best accuracy:",
      min(size for size, m in zip(sizes, mean) if m >= mean[best] - std[best]))

# %%
# Both searches side by side (error bars: one standard deviation over the
# folds). Where the accuracy flattens while the reconstruction still improves,
# the extra components hold detail the classifier does not use; the smallest
# size whose accuracy is within one standard deviation of the best is a
# common, cheaper choice.
fig, (ax_rec, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
ax_rec.errorbar(sizes, unsupervised.cv_results_["mean_test_score"],
                yerr=unsupervised.cv_results_["std_test_score"], marker="o")
ax_rec.set_xscale("log", base=2)
ax_rec.set(xticks=sizes, xticklabels=sizes, xlabel="n_components",
           ylabel="mean score_samples", title="Autoencoder.score (3-fold CV)")
ax_acc.errorbar(sizes, supervised.cv_results_["mean_test_score"],
                yerr=supervised.cv_results_["std_test_score"], marker="o", color="C1")
ax_acc.set_xscale("log", base=2)
ax_acc.set(xticks=sizes, xticklabels=sizes, xlabel="n_components",
           ylabel="accuracy", title="pipeline accuracy (3-fold CV)")
for ax in (ax_rec, ax_acc):
    ax.minorticks_off()
plt.show()
