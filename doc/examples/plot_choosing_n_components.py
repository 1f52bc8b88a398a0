"""
===============================================
Choose the latent size as with PCA, or held out
===============================================

Two ways to choose ``n_components`` without a grid of separate networks
scored on reconstruction (which always prefers the largest):

* ``Autoencoder(n_components=0.8)`` works like ``PCA(n_components=0.8)``: one
  network is trained with an *ordered* latent space (nested dropout), so that
  its first ``k`` code units are a ``k``-dimensional code on their own, and is
  cut to the smallest ``k`` whose reconstruction R² on held-out rows reaches
  0.8. ``explained_variance_ratio_`` holds the R² each unit adds.
* :func:`~skautoencoder.masked_reconstruction_score` is a held-out criterion
  for :class:`~sklearn.model_selection.GridSearchCV`: it hides entries of the
  held-out rows and scores how well the model infers them from the rest,
  which a code that is too large does badly (it copies the hidden value
  through).

Both are compared below, on the 8x8 digits, with the size that the accuracy
of a downstream classifier prefers.
"""

# %%
# Data: 8x8 digits, pixels scaled to [0, 1]. The settings keep the example
# fast (one hidden layer of 64 units, a higher learning rate).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skautoencoder import Autoencoder, masked_reconstruction_score

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
settings = dict(hidden_layer_sizes=(64,), learning_rate_init=3e-3, random_state=0)

# %%
# ``n_components`` as a fraction
# -------------------------------
# The network is trained with a code of ``min(n_features, 64)`` ordered units
# and cut. ``explained_variance_ratio_`` is measured on the rows that
# ``fit`` held out (``validation_fraction``); PCA's are fractions of the
# training variance. Both curves are cumulative R² against the size.
ae = Autoencoder(n_components=0.8, **settings).fit(X_train)
pca = PCA(n_components=0.8).fit(X_train)
print(f"Autoencoder(n_components=0.8): n_components_ = {ae.n_components_}")
print(f"PCA(n_components=0.8):         n_components_ = {pca.n_components_}")
for model in (ae, pca):
    r2 = r2_score(X_test, model.inverse_transform(model.transform(X_test)), multioutput="variance_weighted")
    print(f"  {type(model).__name__}: R² on the test rows {r2:.3f}")

# %%
# The ordered code can be truncated like PCA's: keep the first ``k`` columns
# of ``transform`` (set the others to zero to decode). A single ordered fit
# with every unit kept gives the whole curve.
full = Autoencoder(n_components=64, ordered=True, **settings).fit(X_train)
codes = full.transform(X_test)
sizes = np.arange(1, 33)
ordered_r2 = []
for k in sizes:
    truncated = codes.copy()
    truncated[:, k:] = 0.0
    ordered_r2.append(r2_score(X_test, full.inverse_transform(truncated), multioutput="variance_weighted"))
pca_full = PCA().fit(X_train)
pca_r2 = [r2_score(X_test, pca_full.inverse_transform(np.pad(pca_full.transform(X_test)[:, :k], ((0, 0), (0, 64 - k)))),
                   multioutput="variance_weighted") for k in sizes]

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.plot(sizes, ordered_r2, marker=".", label="ordered autoencoder, truncated")
ax.plot(sizes, pca_r2, marker=".", label="PCA, truncated")
ax.plot(np.arange(1, ae.n_components_ + 1), np.cumsum(ae.explained_variance_ratio_), "k--",
        label="cumsum(explained_variance_ratio_)")
ax.axhline(0.8, color="grey", lw=0.5)
ax.set(xlabel="k (code units kept)", ylabel="R² on held-out rows", title="One fit, every size")
ax.legend()
plt.show()

# %%
# A held-out criterion for grid search
# ------------------------------------
# One search over a pipeline ``autoencoder -> scaler -> classifier`` scores
# every candidate three ways: the classifier's accuracy, the autoencoder's own
# score (minus the reconstruction error and a code term), and
# :func:`~skautoencoder.masked_reconstruction_score` of the autoencoder
# (``pipe[:1]`` is the pipeline's first step, with ``inverse_transform``).
pipe = Pipeline([("reduce", Autoencoder(**settings)), ("scale", StandardScaler()),
                 ("classify", LogisticRegression(max_iter=2000))])
scoring = {
    "accuracy": "accuracy",
    "reconstruction": lambda est, X, y: est[0].score(X),
    "masked": lambda est, X, y: masked_reconstruction_score(est[:1], X),
}
grid = [2, 4, 8, 16, 32]
search = GridSearchCV(pipe, {"reduce__n_components": grid}, cv=3, scoring=scoring, refit="accuracy")
search.fit(X_train, y_train)
results = search.cv_results_
print(f"{'n_components':>12}  {'accuracy':>8}  {'reconstruction':>14}  {'masked':>6}")
for i, size in enumerate(grid):
    print(f"{size:>12}  {results['mean_test_accuracy'][i]:>8.3f}  "
          f"{results['mean_test_reconstruction'][i]:>14.5f}  {results['mean_test_masked'][i]:>6.3f}")
for name in scoring:
    print(f"chosen by {name:>14}: n_components = {grid[np.argmax(results[f'mean_test_{name}'])]}")
accuracy, std = results["mean_test_accuracy"], results["std_test_accuracy"]
best = np.argmax(accuracy)
print("smallest size within one standard deviation of the best accuracy:",
      min(s for s, a in zip(grid, accuracy) if a >= accuracy[best] - std[best]))

# %%
# The reconstruction score keeps rising with the size, so it picks the
# largest. The masked criterion peaks: past some size a larger code no longer
# helps to infer hidden pixels from the others. On digits it stops at a
# smaller size than the classifier, whose accuracy still creeps up with more
# units: the criterion measures how much of the data's structure a code of
# that size captures and generalises, not what one particular task can use.
# With a task, choose with the task's score; without one (outlier detection,
# compression, exploration), the masked criterion is the held-out choice
# that does not simply reward size.
fig, axes = plt.subplots(1, 3, figsize=(10, 3), layout="constrained")
for ax, name in zip(axes, scoring):
    ax.errorbar(grid, results[f"mean_test_{name}"], yerr=results[f"std_test_{name}"], marker="o")
    ax.set_xscale("log", base=2)
    ax.set(xticks=grid, xticklabels=grid, xlabel="n_components", title=name)
    ax.minorticks_off()
plt.show()
