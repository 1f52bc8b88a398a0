"""
==========================================================
Outlier detection on tabular data, next to IsolationForest
==========================================================

Every autoencoder of the package is also an outlier detector with the
conventions of scikit-learn's :class:`~sklearn.ensemble.IsolationForest`:
``score_samples`` is higher for more normal rows (for an autoencoder: minus
the reconstruction error and a code term), ``decision_function`` is ``score_samples - offset_``
(negative for outliers), and ``predict`` returns ``+1`` for inliers and ``-1``
for outliers, with the threshold ``offset_`` set by ``contamination``.

Two data sets show what a reconstruction error does and does not catch: a
rare class of tumours in the breast cancer data, and digits with corrupted
pixels. The detectors never see the labels; we use them only to evaluate.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import IsolationForest
from sklearn.metrics import RocCurveDisplay, precision_score, recall_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skautoencoder import Autoencoder

rng = np.random.RandomState(0)

# %%
# A rare class: malignant tumours
# -------------------------------
# All benign tumours, and 18 malignant ones (about 5% of the rows).
X_all, y_all = load_breast_cancer(return_X_y=True)  # y: 0 malignant, 1 benign
benign = np.flatnonzero(y_all == 1)
malignant = rng.choice(np.flatnonzero(y_all == 0), size=18, replace=False)
X_cancer = X_all[np.concatenate([benign, malignant])]
outlier_cancer = np.r_[np.zeros(len(benign), dtype=int), np.ones(len(malignant), dtype=int)]
print(f"{len(X_cancer)} rows, {X_cancer.shape[1]} features, {outlier_cancer.mean():.1%} malignant")

# %%
# The autoencoder does not scale its input, so it follows a
# :class:`~sklearn.preprocessing.StandardScaler` in a pipeline; the pipeline
# passes ``score_samples``, ``decision_function`` and ``predict`` through.
# Both detectors are told the expected proportion of outliers.
contamination = 0.05


def detectors():
    return {
        "Autoencoder": make_pipeline(
            StandardScaler(),
            Autoencoder(4, hidden_layer_sizes=(32,), contamination=contamination, random_state=0),
        ),
        "IsolationForest": IsolationForest(contamination=contamination, random_state=0),
    }


def evaluate(X, is_outlier):
    """Fit each detector on X; print ROC-AUC of the scores and precision, recall of predict."""
    fitted, scores = {}, {}
    for name, detector in detectors().items():
        fitted[name] = detector.fit(X)
        scores[name] = detector.score_samples(X)
        flagged = detector.predict(X) == -1
        print(f"{name:>15}: ROC-AUC {roc_auc_score(is_outlier, -scores[name]):.3f}, "
              f"flagged {flagged.sum()} rows, precision {precision_score(is_outlier, flagged):.2f}, "
              f"recall {recall_score(is_outlier, flagged):.2f}")
    return fitted, scores


cancer_detectors, cancer_scores = evaluate(X_cancer, outlier_cancer)

# %%
# ROC-AUC measures the ranking alone; it needs scores that are higher for the
# positive class (here the outliers), hence ``-score_samples``. Precision and
# recall are those of ``predict``, whose threshold comes from
# ``contamination``.
#
# What makes these tumours stand out? A baseline with no model at all, the
# distance of each standardised row from the centre, ranks them as follows:
distance = np.linalg.norm(StandardScaler().fit_transform(X_cancer), axis=1)
print(f"distance from the centre: ROC-AUC {roc_auc_score(outlier_cancer, distance):.3f}")

# %%
# When that baseline ranks the malignant rows well, they are mainly *far*
# from the others (malignant tumours are larger on average, with more concave
# contours), not *differently shaped*:
# their features keep the correlations of the benign ones. A reconstruction
# error measures how much a row breaks the structure the autoencoder learned,
# not how extreme it is along that structure, so such rows are reconstructed
# well. The autoencoder's ``score_samples`` therefore adds a code term: how
# far the row's code lies from the codes of the training rows (a Mahalanobis
# distance, in the units of the reconstruction error). The reconstruction
# term alone is what :meth:`~skautoencoder.Autoencoder.score_features` splits
# by feature; ranked by it alone, the malignant rows stand out less:
pipe = cancer_detectors["Autoencoder"]
reconstruction = pipe[-1].score_features(pipe[:-1].transform(X_cancer)).sum(axis=1)
print(f"reconstruction term alone: ROC-AUC {roc_auc_score(outlier_cancer, -reconstruction):.3f}")

# %%
# Isolation forests, which isolate extreme values feature by feature, are
# built for this case; the code term brings the autoencoder close to them.
#
# Corrupted rows
# --------------
# The opposite case: held-out digits where 5% of the images had 30% of their
# pixels replaced by noise. The corrupted pixels break the structure of a
# digit without being extreme.
X_digits = load_digits().data / 16.0
X_digits = X_digits[rng.permutation(len(X_digits))]
X_train, X_eval = X_digits[:1300], X_digits[1300:]
n_corrupted = len(X_eval) // 20
corrupted = X_eval[:n_corrupted].copy()
mask = rng.rand(*corrupted.shape) < 0.3
corrupted[mask] = rng.rand(mask.sum())
X_eval = np.vstack([X_eval[n_corrupted:], corrupted])
outlier_digits = np.r_[np.zeros(len(X_eval) - n_corrupted, dtype=int), np.ones(n_corrupted, dtype=int)]

# %%
# Here the detectors are fitted on clean training digits and then score new
# rows, the usual novelty-detection setting.
digit_scores = {}
for name, detector in detectors().items():
    detector.fit(X_train)
    digit_scores[name] = detector.score_samples(X_eval)
    flagged = detector.predict(X_eval) == -1
    print(f"{name:>15}: ROC-AUC {roc_auc_score(outlier_digits, -digit_scores[name]):.3f}, "
          f"flagged {flagged.sum()} of {len(X_eval)} rows, "
          f"recall {recall_score(outlier_digits, flagged):.2f}")

# %%
# ROC curves on both data sets.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
for ax, scores, is_outlier, title in [
    (axes[0], cancer_scores, outlier_cancer, "breast cancer: malignant rows"),
    (axes[1], digit_scores, outlier_digits, "digits: corrupted rows"),
]:
    for name, score in scores.items():
        RocCurveDisplay.from_predictions(is_outlier, -score, name=name, ax=ax)
    ax.set_title(title)
plt.show()

# %%
# The score conventions, and PyOD's
# ---------------------------------
# PyOD's detectors orient their scores the other way: their
# ``decision_function`` is *higher* for more abnormal rows, and their labels
# are ``1`` for outliers and ``0`` for inliers. The conversions take one line
# each:
ae = cancer_detectors["Autoencoder"]
pyod_style_scores = -ae.score_samples(X_cancer)  # higher = more abnormal
pyod_style_labels = (ae.predict(X_cancer) == -1).astype(int)  # 1 = outlier
rows = np.r_[0:3, len(X_cancer) - 3:len(X_cancer)]  # three benign rows, three malignant ones
print("malignant          ", outlier_cancer[rows])
print("score_samples      ", np.round(ae.score_samples(X_cancer[rows]), 3))
print("decision_function  ", np.round(ae.decision_function(X_cancer[rows]), 3))
print("predict            ", ae.predict(X_cancer[rows]))
print("PyOD-style scores  ", np.round(pyod_style_scores[rows], 3))
print("PyOD-style labels  ", pyod_style_labels[rows])

# %%
# ``contamination='auto'`` differs between the two detectors:
# IsolationForest then uses the fixed ``offset_ = -0.5`` of its paper, while
# the autoencoders put ``offset_`` at Tukey's lower fence of the held-out
# scores, ``Q1 - 1.5 * (Q3 - Q1)``. A float ``contamination`` is the
# proportion of *new* rows flagged: the autoencoder's ``offset_`` is that
# quantile of the scores of the rows it held out of training (IsolationForest
# takes the training scores), so fewer of its own training rows, which it
# reconstructs better, are flagged.
auto = make_pipeline(StandardScaler(), Autoencoder(4, hidden_layer_sizes=(32,), random_state=0))
auto.fit(X_cancer)
print(f"contamination='auto': {np.mean(auto.predict(X_cancer) == -1):.1%} of the training rows flagged")
print(f"contamination={contamination}: "
      f"{np.mean(ae.predict(X_cancer) == -1):.1%} of the training rows flagged")
