"""
==============================================
Loss curves, reconstructions and latent spaces
==============================================

:mod:`skautoencoder.plotting` has three Displays in scikit-learn's style
(like :class:`~sklearn.metrics.RocCurveDisplay`): build one from a fitted
estimator with ``from_estimator``, draw it on given axes with ``ax=``, and
reach what it drew through its attributes (``ax_``, ``figure_``, the lines
and images).

- :class:`~skautoencoder.plotting.LossCurveDisplay`: ``loss_curve_`` and
  ``validation_loss_curve_``, per epoch;
- :class:`~skautoencoder.plotting.ReconstructionDisplay`: rows next to their
  reconstructions, as images or per feature;
- :class:`~skautoencoder.plotting.LatentSpaceDisplay`: the codes in two
  dimensions, coloured by a label.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from skautoencoder import Autoencoder, VariationalAutoencoder
from skautoencoder.plotting import LatentSpaceDisplay, LossCurveDisplay, ReconstructionDisplay

X, y = load_digits(return_X_y=True)
X = X / 16.0

# %%
# Loss curves
# -----------
# With ``early_stopping=True`` (the default) a tenth of the rows is held out,
# and training stops once their loss has not improved for more than
# ``n_iter_no_change`` epochs (10 by default, or at ``max_iter``); the circle
# marks the epoch of the lowest validation loss, whose weights the estimator
# keeps.
ae = Autoencoder(2, random_state=0).fit(X)
display = LossCurveDisplay.from_estimator(ae)
print(f"{ae.n_iter_} epochs; best validation loss {ae.best_loss_:.5f}")
plt.show()

# %%
# Displays draw on the axes they are given, so curves of several models can
# share a figure. The losses of different variants are not on one scale
# (a VAE's loss includes its KL term), hence one axes each.
vae = VariationalAutoencoder(2, loss="bce", max_iter=100, random_state=0).fit(X)
fig, (ax_ae, ax_vae) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
LossCurveDisplay.from_estimator(ae, ax=ax_ae)
LossCurveDisplay.from_estimator(vae, ax=ax_vae, log_scale=True)
plt.show()

# %%
# Reconstructions
# ---------------
# With ``image_shape``, originals on top and reconstructions below, on one
# grey scale.
ReconstructionDisplay.from_estimator(ae, X, n_samples=10, image_shape=(8, 8))
plt.show()

# %%
# The same for the VAE and, for reference, a PCA with as many components
# (any estimator with ``transform`` and ``inverse_transform`` works).
pca = PCA(2).fit(X)
fig, axes = plt.subplots(2, 1, figsize=(8, 4.5), layout="constrained")
ReconstructionDisplay.from_estimator(vae, X, n_samples=10, image_shape=(8, 8), ax=axes[0])
ReconstructionDisplay.from_estimator(pca, X, n_samples=10, image_shape=(8, 8), ax=axes[1])
plt.show()

# %%
# Without an image shape, each row is drawn per feature: the original solid,
# its reconstruction dashed. With a DataFrame, the ticks carry the column
# names.
wine = load_wine(as_frame=True)
X_wine = StandardScaler().set_output(transform="pandas").fit_transform(wine.data)
ae_wine = Autoencoder(3, hidden_layer_sizes=(32,), random_state=0).fit(X_wine)
display = ReconstructionDisplay.from_estimator(ae_wine, X_wine, n_samples=3)
display.figure_.set_size_inches(8, 4.5)
display.figure_.set_layout_engine("constrained")
plt.show()

# %%
# Latent spaces
# -------------
# The codes of every digit, coloured by the label the models never saw.
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
for ax, model in zip(axes, (pca, ae, vae)):
    LatentSpaceDisplay.from_estimator(model, X, y, ax=ax, scatter_kwargs={"s": 5}, legend=ax is axes[-1])
plt.show()

# %%
# With more than two components, the first two are drawn unless
# ``components`` picks others; a continuous ``y`` gets a colour bar (here,
# each row's score_samples).
ae4 = Autoencoder(4, random_state=0).fit(X)
display = LatentSpaceDisplay.from_estimator(ae4, X, ae4.score_samples(X), components=(2, 3),
                                            scatter_kwargs={"s": 5})
display.colorbar_.set_label("score_samples (higher = more normal)")
plt.show()
