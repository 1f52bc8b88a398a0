"""
=====================================================
Which features make a row abnormal: score_features
=====================================================

An autoencoder scores a row by how badly it reconstructs it, and that error
is a sum over the features: ``score_features(X)`` returns the per-feature
terms, each row summing to the reconstruction term of ``score_samples(X)``
(which adds how unusual the row's code is; higher = more normal). The
most negative entry names the feature the model reconstructs worst, which is
usually the one that breaks the structure of the data.

We plant anomalies in the wine data that no single feature reveals: in each
test row, one value is swapped in from another row (a value that is normal
for that feature, but not together with the row's other values), and ask
which feature was changed.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skautoencoder import AutoencoderOutlierDetector
from skautoencoder.plotting import OutlierExplanationDisplay

X = load_wine(as_frame=True).data
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
detector = make_pipeline(StandardScaler(), AutoencoderOutlierDetector(random_state=0)).fit(X_train)

# %%
# Planting swapped values
# -----------------------
# A value at least 1.5 standard deviations from the original, but within 2
# standard deviations of the feature's mean: marginally normal.
rng = np.random.default_rng(0)
mean, std = X_train.mean().to_numpy(), X_train.std().to_numpy()
values, column = X_test.to_numpy().copy(), np.empty(len(X_test), dtype=int)
for i in range(len(values)):
    while True:
        j, k = rng.integers(X.shape[1]), rng.integers(len(values))
        value = X_test.iloc[k, j]
        if abs(value - values[i, j]) >= 1.5 * std[j] and abs(value - mean[j]) <= 2 * std[j]:
            break
    values[i, j], column[i] = value, j
planted = X_test.copy()  # a DataFrame, like the rows the pipeline was fitted on
planted.iloc[:, :] = values

# %%
# Naming the feature
# ------------------
# ``score_features`` of the autoencoder, on the features as the model sees
# them (after the pipeline's scaler), against a naive baseline: the feature
# whose value is furthest from its mean (largest absolute z-score).
scaled = detector[:-1].transform(planted)
named = detector[-1].score_features(scaled).argmin(axis=1)
z_named = np.abs(scaled).argmax(axis=1)
print(f"score_features names the planted feature in {np.mean(named == column):.0%} of the rows")
print(f"the largest |z-score| names it in {np.mean(z_named == column):.0%} (chance: {1 / X.shape[1]:.0%})")

# %%
# One swapped value is a subtle anomaly: the default threshold
# (``contamination='auto'``) flags only some of these rows, but their scores
# are lower than those of the untouched rows (ROC-AUC of planted against
# untouched), and the per-feature terms point at the changed value.
scores = np.r_[detector.score_samples(X_test), detector.score_samples(planted)]
is_planted = np.r_[np.zeros(len(X_test)), np.ones(len(planted))]
print(f"ROC-AUC planted vs untouched: {roc_auc_score(is_planted, -scores):.2f}")
print(f"flagged by predict: planted {np.mean(detector.predict(planted) == -1):.0%}, "
      f"untouched {np.mean(detector.predict(X_test) == -1):.0%}")

# %%
# Explaining one row
# ------------------
# :class:`~skautoencoder.plotting.OutlierExplanationDisplay` draws the
# per-feature contributions of a row, the most abnormal on top. It accepts
# the pipeline: the contributions are on the scaled features, so a feature
# with large raw values (``proline``, in the hundreds) does not hide the one
# at fault.
row = int(np.argmin(detector.score_samples(planted)))
fig, ax = plt.subplots(figsize=(6, 4))
display = OutlierExplanationDisplay.from_estimator(
    detector, planted.iloc[[row]], max_features=8, ax=ax,
    name=f"planted in '{X.columns[column[row]]}'",
)
plt.tight_layout()
plt.show()
