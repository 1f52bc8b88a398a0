"""Offsets of a ``missing='mask'`` model from the observed entries of its training data.

For a user x item ratings matrix these are the global mean and the item biases
of the ridge bias model ``x_ui ~ mu + b_u + b_i`` (``shrinkage`` the ridge
penalty, in entries), fitted by alternating exact updates; the user biases
are recomputed from each row by
:class:`~skautoencoder.nn.ObservedOffsetsModule`.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["observed_offsets"]

_BLOCK = 4096


def _observed_entries(X):
    """``(rows, columns, values)`` of the observed (stored, non-NaN) entries of ``X``."""
    if sp.issparse(X):
        coo = X.tocoo()
        keep = ~np.isnan(coo.data)
        return coo.row[keep], coo.col[keep], coo.data[keep].astype(np.float64)
    parts = []
    for start in range(0, X.shape[0], _BLOCK):  # no boolean mask of all of X at once
        rows, cols = np.nonzero(~np.isnan(X[start:start + _BLOCK]))
        parts.append((rows + start, cols, X[rows + start, cols].astype(np.float64)))
    return tuple(np.concatenate(p) for p in zip(*parts)) if parts else (np.array([], int),) * 2 + (np.array([]),)


def observed_offsets(X, shrinkage=5.0, n_iter=20):
    """Column offsets ``mu + b_j``, observed entries per column, and mean observed entries per row.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        NaN (and unstored sparse) entries are unobserved.
    shrinkage : float, default=5.0
        Ridge penalty of the biases.
    n_iter : int, default=20
        Alternating updates of the row and column biases.

    Returns
    -------
    column_offset : ndarray of shape (n_features,)
    column_count : ndarray of shape (n_features,)
    row_count : float
    """
    n_rows, n_cols = X.shape
    rows, cols, values = _observed_entries(X)
    mean = values.mean() if values.size else 0.0
    row_count = np.bincount(rows, minlength=n_rows)
    column_count = np.bincount(cols, minlength=n_cols)
    row_bias, column_bias = np.zeros(n_rows), np.zeros(n_cols)
    for _ in range(n_iter):
        column_bias = np.bincount(cols, values - mean - row_bias[rows], minlength=n_cols) / (column_count + shrinkage)
        row_bias = np.bincount(rows, values - mean - column_bias[cols], minlength=n_rows) / (row_count + shrinkage)
    return mean + column_bias, column_count, float(row_count.mean())
