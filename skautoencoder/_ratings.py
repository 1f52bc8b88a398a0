"""Offsets of a ``missing='mask'`` model from the observed entries of its training data.

For a user x item ratings matrix these are the global mean and the item biases
of the ridge bias model ``x_ui ~ mu + b_u + b_i`` (``shrinkage`` the ridge
penalty, in entries), fitted by alternating exact updates; the user biases
are recomputed from each row by
:class:`~skautoencoder.nn.ObservedOffsetsModule`. Over the chunks of
``partial_fit`` the offsets are continued from per-column totals, so that a
column first observed in a later chunk gets its offset then.
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


def observed_offsets(X, totals=None, shrinkage=5.0, n_iter=20):
    """Column offsets ``mu + b_j`` and observed entries per column, of ``X`` and the rows before it.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        NaN (and unstored sparse) entries are unobserved.
    totals : ndarray of shape (3, n_features), optional
        What an earlier call returned for the rows seen before ``X`` (the
        earlier chunks of ``partial_fit``): the offsets are then those of all
        the rows. Those rows' biases stay as their own call fitted them; only
        ``X``'s are fitted here, against the column biases of all the rows.
    shrinkage : float, default=5.0
        Ridge penalty of the biases.
    n_iter : int, default=20
        Alternating updates of the row and column biases.

    Returns
    -------
    column_offset : ndarray of shape (n_features,)
    column_count : ndarray of shape (n_features,)
        Observed entries per column, of all the rows.
    row_count : float
        Mean observed entries per row of ``X``.
    totals : ndarray of shape (3, n_features)
        Per column, of all the rows: observed entries, the sum of their values
        and the sum of their rows' biases; what the next call continues from.
    """
    n_rows, n_cols = X.shape
    rows, cols, values = _observed_entries(X)
    before = np.zeros((3, n_cols)) if totals is None else totals
    row_count = np.bincount(rows, minlength=n_rows)
    column_count = before[0] + np.bincount(cols, minlength=n_cols)
    column_sum = before[1] + np.bincount(cols, values, minlength=n_cols)
    mean = column_sum.sum() / column_count.sum() if column_count.sum() else 0.0
    row_bias, column_bias = np.zeros(n_rows), np.zeros(n_cols)
    for _ in range(n_iter):
        row_bias_sum = before[2] + np.bincount(cols, row_bias[rows], minlength=n_cols)
        column_bias = (column_sum - column_count * mean - row_bias_sum) / (column_count + shrinkage)
        row_bias = np.bincount(rows, values - mean - column_bias[cols], minlength=n_rows) / (row_count + shrinkage)
    totals = np.stack([column_count, column_sum, before[2] + np.bincount(cols, row_bias[rows], minlength=n_cols)])
    return mean + column_bias, column_count, float(row_count.mean()), totals
