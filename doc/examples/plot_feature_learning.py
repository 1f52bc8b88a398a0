"""
=======================================================
Learning features for a classifier from unlabelled rows
=======================================================

Labels are often scarce while unlabelled rows are plentiful. An autoencoder
learns its codes without labels, so it can be trained on every row and then
feed a classifier trained on the few labelled ones. This example trains a
logistic regression on 20 to 1000 labelled digits, on three inputs: the raw
pixels, the 16 codes of :class:`~sklearn.decomposition.PCA`, and the 16 codes
of an :class:`~skautoencoder.Autoencoder`, both fitted on all training rows
(labelled or not).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skautoencoder import Autoencoder

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)

# %%
# The feature extractors see all training rows, without their labels.
extractors = {
    "raw pixels": None,
    "PCA codes": PCA(16, random_state=0).fit(X_train),
    "Autoencoder codes": Autoencoder(16, hidden_layer_sizes=(64,), random_state=0).fit(X_train),
}

# %%
# The classifier sees only the first ``n`` labelled rows (the training rows
# are in random order). Each accuracy is measured on the same held-out 30%.
n_labelled = [20, 50, 100, 200, 500, 1000]
accuracy = {name: [] for name in extractors}
for n in n_labelled:
    for name, extractor in extractors.items():
        features = (lambda Z: Z) if extractor is None else extractor.transform
        classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        classifier.fit(features(X_train[:n]), y_train[:n])
        accuracy[name].append(classifier.score(features(X_test), y_test))

print(f"{'labelled rows':>13}  " + "  ".join(f"{name:>17}" for name in extractors))
for i, n in enumerate(n_labelled):
    print(f"{n:>13}  " + "  ".join(f"{accuracy[name][i]:>17.3f}" for name in extractors))

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for name, values in accuracy.items():
    ax.plot(n_labelled, values, marker="o", label=name)
ax.set(xscale="log", xlabel="labelled training rows", ylabel="held-out accuracy",
       title="logistic regression on different features")
ax.legend()
plt.show()

# %%
# Read the table before drawing conclusions: the 64 pixels of these small
# images are few and informative, so the raw pixels are a strong baseline,
# and 16 learned codes are a compression of them, not extra information.
# Learned features are worth trying where raw features are many, redundant or
# noisy, or where the downstream model scales badly with their number; the
# way to know is a comparison like this one, on your data.
#
# In a pipeline
# -------------
# Once enough rows are labelled, the extractor and the classifier can be
# fitted together, and tuned together (see
# :ref:`sphx_glr_auto_examples_plot_pca_replacement.py`):
pipe = make_pipeline(Autoencoder(16, hidden_layer_sizes=(64,), random_state=0), StandardScaler(),
                     LogisticRegression(max_iter=5000))
pipe.fit(X_train, y_train)
print(f"pipeline fitted on all {len(X_train)} labelled rows: "
      f"held-out accuracy {pipe.score(X_test, y_test):.3f}")
