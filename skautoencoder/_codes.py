"""The code term of ``score_samples``: how unusual a row's code is among the training codes.

A row can be abnormal in two ways: off the surface the model reconstructs (a
large reconstruction error), or on it but far from where the data lie (an
unusual code). Reconstruction error alone misses the second kind, and a model
that extrapolates well, such as the affine path of ``init='pca'``, reconstructs
such rows best of all. :class:`~sklearn.decomposition.PCA` scores both kinds: its
``score_samples``, the probabilistic PCA log-likelihood, adds the Mahalanobis
distance of the projection to the residual; the variational autoencoder's ELBO
adds the KL term of its code. The other estimators here add

    d2(z) = (z - center)' precision (z - center),

the squared Mahalanobis distance of the code ``z`` from the mean of the training
codes, scaled so that the median training row's code term equals the median
training row's reconstruction error: the two kinds of evidence weigh alike, in
the reconstruction error's units. Medians, not means: the training rows of an
outlier detector contain outliers.

Chosen by dataset-level cross-validation on the 21 ADBench sets of
``../shared/data`` (leave one set out, among six ways of combining the two
terms; the median-scaled sum was chosen in all 21 folds): out-of-fold mean
ROC-AUC 0.787 against 0.730 for reconstruction error alone (``Autoencoder()``),
0.806 against 0.778 (``init='random'``), 0.838 against 0.827
(``AutoencoderOutlierDetector()``); see the :ref:`outlier guide <outliers>`.
"""

import numpy as np
import torch

__all__ = ["code_distance", "fit_code_term"]

#: Ridge added to the codes' covariance, relative to its mean variance; directions whose
#: variance is below this share of the largest (or at the rounding noise of float32 codes
#: of their size: identical rows) get no weight, as in a pseudo-inverse: a unit that never
#: varies on the training rows would otherwise weigh a million times the others.
_RIDGE = 1e-6


def fit_code_term(codes, errors):
    """Centre and scaled precision of the code term, from training rows.

    Parameters
    ----------
    codes : ndarray of shape (n_rows, n_components)
        The rows' codes (float64).
    errors : ndarray of shape (n_rows,)
        The rows' reconstruction errors (what ``score_samples`` negates).

    Returns
    -------
    center : ndarray of shape (n_components,)
        Mean of the codes.
    precision : ndarray of shape (n_components, n_components)
        Pseudo-inverse of the codes' covariance (plus a small ridge, without the
        directions that do not vary), times the median error over the median
        squared Mahalanobis distance of the rows; zero when the codes do not vary
        or the rows reconstruct exactly.
    """
    center = codes.mean(axis=0)
    centred = codes - center
    covariance = centred.T @ centred / max(codes.shape[0], 1)
    mean_variance = float(np.trace(covariance)) / codes.shape[1]
    precision = np.zeros_like(covariance)
    values, vectors = np.linalg.eigh(covariance)
    rounding = (np.finfo(np.float32).eps * float(np.abs(codes).max(initial=0.0))) ** 2
    kept = values > max(_RIDGE * values.max(initial=0.0), rounding)
    if not kept.any():  # the codes do not vary
        return center, precision
    vectors = vectors[:, kept]
    inverse = (vectors / (values[kept] + _RIDGE * mean_variance)) @ vectors.T
    distances = np.einsum("ij,jk,ik->i", centred, inverse, centred)
    typical_distance, typical_error = np.median(distances), np.median(errors)
    if typical_distance > 0 and typical_error > 0:
        precision = inverse * (typical_error / typical_distance)
    return center, precision


def code_distance(codes, center, precision):
    """The code term of each row: ``(z - center)' precision (z - center)``.

    ``codes`` is a tensor of shape ``(n_rows, n_components)``; ``center`` and
    ``precision`` are the arrays of :func:`fit_code_term`, used in the codes'
    dtype and device. Returns a tensor of shape ``(n_rows,)``.
    """
    center = torch.as_tensor(center, dtype=codes.dtype, device=codes.device)
    precision = torch.as_tensor(precision, dtype=codes.dtype, device=codes.device)
    centred = codes - center
    return ((centred @ precision) * centred).sum(dim=1)
