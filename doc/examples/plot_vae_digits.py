"""
================================================
Generating digits with a variational autoencoder
================================================

A :class:`~skautoencoder.VariationalAutoencoder` learns a Gaussian latent
space with a standard normal prior, so new rows come from decoding draws of
that prior: :meth:`~skautoencoder.VariationalAutoencoder.sample`. We first
measure how close its samples come to digits it never saw, next to
scikit-learn's own digit generator (the kernel density example); then, with
two latent dimensions, draw the whole learned manifold as a grid.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy.spatial.distance import cdist
from scipy.stats import norm
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score, train_test_split
from sklearn.neighbors import KernelDensity

from skautoencoder import VariationalAutoencoder
from skautoencoder.plotting import LatentSpaceDisplay

X, y = load_digits(return_X_y=True)
X = X / 16.0  # in [0, 1]: a Bernoulli decoder (loss='bce') fits


def show_grid(images, n_cols, title):
    """Flattened 8x8 images tiled into one picture, one pixel of space between them."""
    n_rows = int(np.ceil(len(images) / n_cols))
    canvas = np.zeros((n_rows * 9 + 1, n_cols * 9 + 1))
    for i, image in enumerate(images):
        row, col = divmod(i, n_cols)
        canvas[1 + 9 * row:9 * (row + 1), 1 + 9 * col:9 * (col + 1)] = image.reshape(8, 8)
    fig, ax = plt.subplots(figsize=(n_cols * 0.45, n_rows * 0.45 + 0.4))
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title)
    plt.show()


# %%
# How close are generated digits to real ones?
# ---------------------------------------------
# A quarter of the digits is held out. Two generators are fitted on the rest:
# ``VariationalAutoencoder()`` at its defaults, and scikit-learn's gallery
# example "Kernel Density Estimation" (a :class:`~sklearn.neighbors.KernelDensity`
# on a 15-component PCA of the pixels, bandwidth chosen by
# :class:`~sklearn.model_selection.GridSearchCV`). Each draws as many digits as
# are held out, and two measures compare them with the held-out digits:
#
# - the squared maximum mean discrepancy (MMD²) with an RBF kernel at the
#   median distance: 0 for identical distributions; the training digits
#   themselves give the floor that sampling noise alone reaches;
# - a classifier two-sample test: the 2-fold accuracy of a gradient boosting
#   classifier told to separate generated from real digits (0.5: it cannot).
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
n = len(X_test)

vae = VariationalAutoencoder(random_state=0).fit(X_train)

pca = PCA(15).fit(X_train * 16)
kde = GridSearchCV(KernelDensity(), {"bandwidth": np.logspace(-1, 1, 20)})
kde.fit(pca.transform(X_train * 16))
kde_digits = pca.inverse_transform(kde.best_estimator_.sample(n, random_state=0)) / 16


def mmd2(A, B):
    d2 = cdist(np.vstack([A, B]), np.vstack([A, B]), "sqeuclidean")
    k = np.exp(-d2 / np.median(d2[np.triu_indices_from(d2, 1)]))
    return k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()


def two_sample_accuracy(A, B):
    y = np.r_[np.zeros(len(A)), np.ones(len(B))]
    clf = HistGradientBoostingClassifier(random_state=0)
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    return cross_val_score(clf, np.vstack([A, B]), y, cv=cv).mean()


generated = {
    "training digits (the floor)": X_train[:n],
    "KernelDensity on PCA (scikit-learn example)": kde_digits,
    "VariationalAutoencoder().sample": vae.sample(n, random_state=0),
}
for name, rows in generated.items():
    print(f"{name:44s} MMD² {mmd2(rows, X_test):.4f}   "
          f"two-sample accuracy {two_sample_accuracy(rows, X_test):.3f}")

# %%
# ``sample`` decodes draws of the prior with the decoder's observation noise
# and then maps each pixel onto the training pixels' distribution: the network
# decides which pixels are dark together, the data the values a pixel takes
# (so the background is exactly 0, as in real digits). Without that mapping a
# classifier tells generated digits from real ones almost always, by their
# pixel values alone. ``benchmarks/generate.py`` repeats this comparison over
# three splits and on other data sets.
show_grid(vae.sample(40, random_state=0), n_cols=10, title="VariationalAutoencoder().sample(40)")
show_grid(kde_digits[:40], n_cols=10, title="KernelDensity on PCA: 40 samples")

# %%
# Two more models, fitted on all digits with a Bernoulli decoder
# (``loss='bce'``, pixels in [0, 1]): a 2-D latent space, to look at, and an
# 8-D one, to sample from.
vae2 = VariationalAutoencoder(2, loss="bce", max_iter=150, random_state=0).fit(X)
vae8 = VariationalAutoencoder(8, loss="bce", max_iter=150, random_state=0).fit(X)
for model in (vae2, vae8):
    print(f"n_components={model.n_components_}: {model.n_iter_} epochs, "
          f"mean ELBO per row {model.score(X):.2f} (higher is better)")

# %%
# New digits
# ----------
# With ``loss='bce'`` the decoder's mean is a pixel probability; ``sample``
# maps those onto the training pixels' values in the same way.
show_grid(vae8.sample(40, random_state=0), n_cols=10, title="vae8.sample(40)")

# %%
# The 2-D latent space
# --------------------
# The codes of the digits (``transform``: posterior means), coloured by their
# label, which the model never saw.
LatentSpaceDisplay.from_estimator(vae2, X, y, scatter_kwargs={"s": 6})
plt.show()

# %%
# Decoding a grid of codes spaced by the prior's quantiles shows what each
# region of that plane draws (``inverse_transform`` decodes codes).
n = 15
quantiles = norm.ppf(np.linspace(0.04, 0.96, n))
codes = np.array([[z0, z1] for z1 in quantiles[::-1] for z0 in quantiles])
show_grid(vae2.inverse_transform(codes), n_cols=n, title="decoded grid of 2-D codes")
