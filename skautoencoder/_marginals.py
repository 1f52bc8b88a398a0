"""Matching the per-feature (marginal) distributions of generated rows to the data's.

Plain functions used by :meth:`VariationalAutoencoder.sample`: the quantiles of
each feature are stored at fit time, for the training rows and for the model's
own raw samples; a new raw sample is mapped through the model's CDF and the
data's quantile function, feature by feature. The model still decides how the
features vary *together* (which rows it draws); the data decide each feature's
values, so point masses (exact zeros), ranges and discrete levels are kept.
"""

import numpy as np

#: Quantile levels stored per feature.
N_QUANTILES = 1000


def feature_quantiles(X, n_quantiles=N_QUANTILES):
    """Quantiles of each column of dense ``X`` (NaN = unobserved) at ``n_quantiles``
    evenly spaced levels, shape ``(n_quantiles, n_features)``; all-NaN columns give NaN."""
    levels = np.linspace(0.0, 1.0, n_quantiles)
    observed = ~np.isnan(X)
    if observed.all():
        return np.quantile(X, levels, axis=0)
    out = np.full((n_quantiles, X.shape[1]), np.nan)
    for j in np.flatnonzero(observed.any(axis=0)):
        out[:, j] = np.quantile(X[observed[:, j], j], levels)
    return out


def match_marginals(samples, model_quantiles, data_quantiles):
    """Map each column of ``samples`` through the model's CDF (``model_quantiles``)
    and the data's quantile function (``data_quantiles``); columns whose data
    quantiles are NaN (never observed) are left as they are."""
    levels = np.linspace(0.0, 1.0, model_quantiles.shape[0])
    out = np.array(samples, dtype=np.float64)
    for j in range(out.shape[1]):
        if np.isnan(data_quantiles[0, j]):
            continue
        # mean of the left- and right-continuous CDF: ties (flat quantiles) map to their middle
        cdf = 0.5 * (np.interp(out[:, j], model_quantiles[:, j], levels)
                     + np.interp(-out[:, j], -model_quantiles[::-1, j], levels[::-1]))
        out[:, j] = np.interp(cdf, levels, data_quantiles[:, j])
    return out
