"""The PCA start of ``init='pca'``: mean and principal axes of the training rows.

Computed without densifying a sparse ``X`` and without copying a dense one:
the column moments and the covariance are accumulated over blocks of rows
(sparse input: sparse products of the training rows), and the axes are the
top eigenvectors of the covariance; with more than
:data:`_MAX_COVARIANCE_FEATURES` features, a truncated SVD of the centred
matrix as a linear operator instead (dense input: of a float64 copy of the
training rows); with fewer rows than features (and not that truncated SVD),
the SVD of the centred rows densified, n x d where the covariance is d x d. With
``missing='mask'`` an unobserved entry is its column's observed mean (it is
zero once centred), which is PCA of the mean-filled rows.
"""

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.linalg import LinearOperator, svds

from ._runtime import blas_threads
from .nn.modules import AnchoredAutoencoderModule, AutoencoderModule, set_affine_start

__all__ = ["explained_by_pca", "keep_the_better_start", "pca_start", "refit_kept_start", "refits_to_pca",
           "restore_start", "start_at_pca"]

_BLOCK = 4096
#: Above this many features the d x d covariance is not formed.
_MAX_COVARIANCE_FEATURES = 4096


def pca_start(X, rows, n_components, missing="zero"):
    """Mean and principal axes of the rows ``rows`` of ``X``.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        NaN (and, for sparse ``X`` with ``missing='mask'``, unstored entries)
        are unobserved when ``missing='mask'``.
    rows : ndarray of int or None
        The training rows (all rows when None).
    n_components : int
    missing : {'zero', 'mask'}

    Returns
    -------
    mean : ndarray of shape (n_features,), float64
        Column means (of the observed entries; 0 for a column with none).
    components : ndarray of shape (n_components, n_features), float64
        Orthonormal principal axes by decreasing variance, signed as
        scikit-learn's PCA signs them (largest entry positive); zero rows
        beyond the rank that the data can have.
    residual : ndarray of shape (n_components + 1,), float64
        Mean squared entry of the centred rows left after projecting on the
        first ``k`` axes, ``k = 0..n_components``: PCA's training MSE by width.
    """
    rows = np.arange(X.shape[0]) if rows is None else np.sort(rows)
    if sp.issparse(X):
        X = X[rows]  # the stored values of the training rows
    n, d = rows.shape[0], X.shape[1]
    if sp.issparse(X):
        values, observed = _sparse_parts(X, missing)
        counts = np.asarray(observed.sum(axis=0)).ravel() if observed is not None else np.full(d, n)
        mean = np.asarray(values.sum(axis=0)).ravel() / np.maximum(counts, 1)
    else:
        counts, sums = np.zeros(d), np.zeros(d)
        for block in _blocks(X, rows):
            counts += (~np.isnan(block)).sum(axis=0)
            sums += np.nansum(block, axis=0)
        mean = sums / np.maximum(counts, 1)
        values = observed = None
    n_axes = min(n_components, d, n)
    if n < d and (d <= _MAX_COVARIANCE_FEATURES or n_axes >= n - 1):  # n x d rows, not a d x d covariance
        axes, scatter_by_axis, total = _row_svd_axes(X, rows, mean, values, observed, n_axes)
    elif d <= _MAX_COVARIANCE_FEATURES or n_axes >= min(n, d) - 1:
        axes, scatter_by_axis, total = _covariance_axes(X, rows, mean, values, observed, n_axes)
    else:
        axes, scatter_by_axis, total = _svd_axes(X, rows, mean, values, observed, n_axes)
    scatter_by_axis = np.concatenate([scatter_by_axis, np.zeros(n_components - n_axes)])
    residual = np.maximum(total - np.concatenate([[0.0], np.cumsum(scatter_by_axis)]), 0.0) / max(n * d, 1)
    # scikit-learn's svd_flip(u_based_decision=False): the largest entry of each axis positive
    signs = np.sign(axes[np.arange(n_axes), np.abs(axes).argmax(axis=1)])
    components = np.zeros((n_components, d))
    components[:n_axes] = axes * np.where(signs == 0, 1.0, signs)[:, None]
    return mean, components, residual


def _largest_operation(n, d, n_components):
    """Multiply-adds of the largest BLAS call of :func:`pca_start` on ``n`` rows of ``d``
    features: a block's scatter and the eigendecomposition, or a product of the centred
    operator with ``n_components`` vectors."""
    if n < d and (d <= _MAX_COVARIANCE_FEATURES or min(n_components, n) >= n - 1):
        return n * n * d
    if d <= _MAX_COVARIANCE_FEATURES:
        return max(min(n, _BLOCK) * d * d, d ** 3)
    return n * d * n_components


def _blocks(X, rows):
    """The rows ``rows`` of dense ``X``, a block at a time, in float64."""
    for start in range(0, rows.shape[0], _BLOCK):
        yield X[rows[start:start + _BLOCK]].astype(np.float64, copy=False)


def _sparse_parts(X, missing):
    """``(stored values with NaN zeroed, pattern of observed entries or None)`` of CSR ``X``."""
    values = X.astype(np.float64)  # a copy of the stored values
    unobserved = np.isnan(values.data)
    values.data[unobserved] = 0.0
    if missing != "mask":
        return values, None
    observed = values.copy()
    observed.data = (~unobserved).astype(np.float64)
    return values, observed


def _covariance_axes(X, rows, mean, values, observed, n_axes):
    """Top eigenvectors of the scatter matrix of the centred rows (unobserved entries 0)."""
    if values is None:
        scatter = np.zeros((X.shape[1],) * 2)
        for block in _blocks(X, rows):
            centred = np.nan_to_num(block - mean, nan=0.0)
            scatter += centred.T @ centred
    elif observed is None:  # centred = X - mean everywhere
        scatter = (values.T @ values).toarray() - rows.shape[0] * np.outer(mean, mean)
    else:  # centred = X - mean on the observed entries only
        cross = (values.T @ observed).toarray() * mean  # sum_i x_ij o_il m_l
        both = (observed.T @ observed).toarray()  # rows observing both columns
        scatter = (values.T @ values).toarray() - cross - cross.T + both * np.outer(mean, mean)
    eigenvalues, eigenvectors = np.linalg.eigh(scatter)
    return eigenvectors[:, ::-1][:, :n_axes].T, eigenvalues[::-1][:n_axes], np.trace(scatter)


def _row_svd_axes(X, rows, mean, values, observed, n_axes):
    """Top right singular vectors of the centred rows as a dense matrix (unobserved entries 0):
    for fewer rows than features, n x d instead of the d x d covariance."""
    if values is None:
        centred = np.nan_to_num(np.asarray(X[rows], dtype=np.float64) - mean, nan=0.0)
    else:
        centred = values.toarray() - (mean if observed is None else observed.toarray() * mean)
    _, singular_values, vt = np.linalg.svd(centred, full_matrices=False)
    return vt[:n_axes], singular_values[:n_axes] ** 2, float(np.sum(centred ** 2))


def _svd_axes(X, rows, mean, values, observed, n_axes):
    """Top right singular vectors of the centred rows as a linear operator (many features)."""
    if values is None:
        X = np.asarray(X[rows], dtype=np.float64)
        observed = None if not np.isnan(X).any() else (~np.isnan(X)).astype(np.float64)
        values = np.nan_to_num(X, nan=0.0, copy=False)
    n = rows.shape[0]

    def matvec(v):
        v = np.asarray(v, dtype=np.float64).reshape(X.shape[1], -1)
        shift = observed @ (mean[:, None] * v) if observed is not None else np.ones((n, 1)) @ (mean @ v)[None]
        return values @ v - shift

    def rmatvec(u):
        u = np.asarray(u, dtype=np.float64).reshape(n, -1)
        shift = mean[:, None] * (observed.T @ u) if observed is not None else np.outer(mean, u.sum(axis=0))
        return values.T @ u - shift

    operator = LinearOperator((n, X.shape[1]), matvec=matvec, rmatvec=rmatvec, matmat=matvec,
                              rmatmat=rmatvec, dtype=np.float64)
    _, singular_values, vt = svds(operator, k=n_axes, random_state=0)
    order = np.argsort(singular_values)[::-1]
    # total scatter: sum over observed entries of (x - mean)^2
    squares = values.multiply(values) if sp.issparse(values) else values ** 2
    counts = np.full(X.shape[1], n) if observed is None else np.asarray(observed.sum(axis=0)).ravel()
    total = squares.sum() - 2 * mean @ np.asarray(values.sum(axis=0)).ravel() + counts @ mean ** 2
    return vt[order], singular_values[order] ** 2, float(total)


#: Widest code for which ``fit`` also trains from the random start and keeps the better
#: one: the best one- or two-unit code is far from PCA's, and the zero-initialised
#: residual did not always travel that far (``benchmarks/reconstruction.py``).
TWO_STARTS_MAX_COMPONENTS = 2

#: An ordered code started at PCA weighs the loss of each width ``k`` by PCA's training MSE
#: at ``k`` to this power, and adds the whole code's loss alike: with no weights the small
#: widths' large losses pulled the widest below PCA on digits (R² 0.939 vs 0.963 at 32 units);
#: with power 1 the small widths stayed near PCA. 0.5 kept every width above PCA on digits
#: and the manifold test's dimensions; chosen on digits and that test only.
PREFIX_WEIGHT_POWER = 0.5

#: What one training run sets on the estimator (the rest of the fitted state is shared).
_RUN_STATE = ("n_iter_", "loss_curve_", "validation_loss_curve_", "best_loss_", "batch_size_",
              "_optimizer_state", "_optimizer_settings")


def start_at_pca(estimator, X, rows, validated=False):
    """Set the affine path of ``estimator.module_`` to the PCA of the rows ``rows`` of ``X``.

    With ``loss='bce'`` the decoder works in logits: its affine path starts at
    the first-order expansion of ``sigmoid`` around the column means (clipped
    to [0.05, 0.95]), so the start is close to PCA's reconstruction, not equal.

    Returns
    -------
    random_start : dict or None
        The random weights the PCA start replaced, when ``fit`` should also
        train from them and keep the better (``validated``: a validation loss
        decides; a code of at most :data:`TWO_STARTS_MAX_COMPONENTS` units;
        not ordered); else None.
    """
    module = estimator.module_
    random_start = None
    if (validated and estimator.n_components_ <= TWO_STARTS_MAX_COMPONENTS and not estimator._is_ordered()
            and type(module) is AnchoredAutoencoderModule):
        random_start = {name: t.detach().clone() for name, t in module.state_dict().items()}
    _set_pca(estimator, X, rows)
    return random_start


def restore_start(estimator, X, rows):
    """Set ``estimator.module_`` back to its start, the PCA of the rows ``rows`` of ``X``
    at its current width, with the nonlinear paths' last layers at zero (so that
    :func:`refit_kept_start` recognises it)."""
    _set_pca(estimator, X, rows, weigh=False)


def explained_by_pca(estimator, X):
    """PCA's cumulative explained-variance ratio on all the rows of ``X`` with ``k =
    0..n_components_`` components: what ``PCA(n_components=f).fit(X)`` chooses its
    width by."""
    return _explained(_pca(estimator, X, None)[2])


def refits_to_pca(estimator):
    """Whether a kept start of ``estimator`` becomes the PCA of all the rows
    (:func:`refit_kept_start`): a dense ``loss='mse'`` anchored network."""
    dense_mse = estimator.loss == "mse" and estimator.missing != "mask"
    return dense_mse and type(estimator.module_) is AnchoredAutoencoderModule


def refit_kept_start(estimator, X):
    """When training kept the start (the PCA of the training rows: no epoch beat it by
    enough), make the model the PCA of *all* the rows of ``X``, the ``PCA.fit(X)`` a user
    would fit, as scikit-learn refits a chosen model on all its data; returns whether it did.

    Only where that is no worse on the validation rows, whatever the data: a
    validation objective that is the (clean) MSE of the dense anchored network, of every
    truncation width when ordered (with the same weights), plus at most a contraction
    penalty, which is the same for any orthonormal axes. PCA of all the rows minimises
    the error summed over all of them, at every width, PCA of the training rows the
    training rows' share, so the validation rows' share can only fall. The start is
    recognised by the nonlinear paths' zeroed last layers, which any training step moves.
    Not when the start has fewer axes than units (fewer training rows than units): the
    contraction penalty of all the rows' axes would then be larger.
    """
    if not refits_to_pca(estimator):
        return False
    module = estimator.module_
    at_start = all(not torch.any(p) for layer in module.residual_outputs() for p in layer.parameters())
    every_axis = bool(module.affine.encoder_weight.detach().abs().sum(dim=0).all())
    if not (at_start and every_axis):
        return False
    _set_pca(estimator, X, None, weigh=False)
    return True


def _pca(estimator, X, rows):
    """:func:`pca_start` of the rows ``rows`` of ``X`` at the estimator's width, under the
    thread policy's BLAS threads."""
    n = X.shape[0] if rows is None else len(rows)
    with blas_threads(_largest_operation(n, X.shape[1], estimator.n_components_)):
        return pca_start(X, rows, estimator.n_components_, estimator.missing)


def _explained(residual):
    """Cumulative explained-variance ratio by width, from :func:`pca_start`'s residual."""
    return 1.0 - residual / residual[0] if residual[0] > 0 else np.zeros_like(residual)


def _set_pca(estimator, X, rows, weigh=True):
    """Set the affine path of ``estimator.module_`` to the PCA of the rows ``rows`` of ``X``
    and zero the nonlinear paths' last layers; ``weigh``: an ordered code's width weights
    too."""
    module = estimator.module_
    mean, components, residual = _pca(estimator, X, rows)
    if weigh and estimator._is_ordered():
        # each prefix's loss relative to PCA's at that width (floored: widths beyond the rank)
        floored = np.maximum(residual[1:], 1e-3 * residual[0] + 1e-12)
        estimator._prefix_weights = floored ** -PREFIX_WEIGHT_POWER
    decoder_mean, decoder_components = mean, components
    if estimator.loss == "bce":
        clipped = np.clip(mean, 0.05, 0.95)
        decoder_mean = np.log(clipped / (1 - clipped))
        decoder_components = components / (clipped * (1 - clipped))
    dtype = next(module.parameters()).dtype

    def tensor(a):
        return torch.as_tensor(a, dtype=dtype, device=estimator.device_)

    set_affine_start(module, tensor(mean), tensor(components), tensor(decoder_mean),
                     tensor(decoder_components))


def keep_the_better_start(estimator, random_start, status, train):
    """After a fit from the PCA start (which ended with ``status``), fit ``init='random'``
    as well and keep whichever ends with the lower validation loss; returns the kept
    run's status (``"interrupted"`` when a Ctrl-C ended the ``init='random'`` run).

    ``train()`` trains ``estimator.module_``: here the anchored module's own MLPs, reset to
    ``random_start`` (the random weights the PCA start replaced, which are those of
    ``init='random'``), without the affine path; ``train`` replays ``init='random'``'s
    generator, so this run *is* ``init='random'``'s fit. If it wins, the anchored module
    keeps its MLPs' weights with the affine path at zero: the same function. The PCA start
    was a candidate of the first run, so the model is still never worse than PCA on the
    validation rows.
    """
    anchored_module = estimator.module_
    anchored = {name: getattr(estimator, name) for name in _RUN_STATE}
    anchored_weights = {name: t.detach().clone() for name, t in anchored_module.state_dict().items()}
    anchored_module.load_state_dict(random_start)
    estimator.module_ = AutoencoderModule(anchored_module.encoder, anchored_module.decoder,
                                          anchored_module.output_activation)
    estimator.loss_curve_, estimator.validation_loss_curve_, estimator.n_iter_ = [], [], 0
    estimator._optimizer_state = estimator._optimizer_settings = None
    try:
        random_status = train()
    finally:
        estimator.module_ = anchored_module
        estimator._float64_module = None
    if estimator.best_loss_ < anchored["best_loss_"]:
        # its optimiser state holds the MLPs only: a warm start begins a new one
        estimator._optimizer_state = estimator._optimizer_settings = None
        return random_status
    anchored_module.load_state_dict(anchored_weights)
    for name, value in anchored.items():
        setattr(estimator, name, value)
    return "interrupted" if random_status == "interrupted" else status  # a Ctrl-C is reported
