"""
================================================
Generating digits with a variational autoencoder
================================================

A :class:`~skautoencoder.VariationalAutoencoder` learns a Gaussian latent
space with a standard normal prior, so new rows come from decoding draws of
that prior: :meth:`~skautoencoder.VariationalAutoencoder.sample`. With two
latent dimensions the whole learned manifold can be drawn as a grid.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm
from sklearn.datasets import load_digits

from skautoencoder import VariationalAutoencoder
from skautoencoder.plotting import LatentSpaceDisplay

X, y = load_digits(return_X_y=True)
X = X / 16.0  # in [0, 1]: a Bernoulli decoder (loss='bce') fits

# %%
# Two models: a 2-D latent space, to look at, and an 8-D one, to sample from.
vae2 = VariationalAutoencoder(2, loss="bce", max_iter=150, random_state=0).fit(X)
vae8 = VariationalAutoencoder(8, loss="bce", max_iter=150, random_state=0).fit(X)
for vae in (vae2, vae8):
    print(f"n_components={vae.n_components_}: {vae.n_iter_} epochs, "
          f"mean ELBO per row {vae.score(X):.2f} (higher is better)")


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
# New digits
# ----------
# ``sample`` draws codes from the prior ``N(0, I)`` and returns the decoder's
# mean (pixel probabilities for ``loss='bce'``).
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
