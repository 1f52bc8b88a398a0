"""The ordered latent space as plain functions: nested dropout, R² by code width,
choosing the width for a fractional ``n_components`` and cutting the network to it.

Kept beside the estimators as scikit-learn keeps ``_infer_dimension`` beside
``PCA``: :meth:`BaseAutoencoder.fit` calls them in order (train with
:func:`nested_dropout`, measure :func:`r2_by_width` on held-out rows,
:func:`choose_width`, :func:`cut`).
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch

from .nn.training import clear_lead

__all__ = ["CANCELLATION", "R2_MAX_ROWS", "choose_width", "column_moments", "cut", "measured_rows",
           "nested_dropout", "r2_by_width", "squared_errors_by_width", "width_against_pca"]

#: Most rows that measure R² by width (a seeded random subset of the held-out rows).
R2_MAX_ROWS = 10000
#: Fewest held-out rows that measure it; with fewer, every training row does.
R2_MIN_ROWS = 20
#: Sums of squared deviations from :func:`column_moments` (``sum(x²) - 2 m sum(x) + n m²``) up to
#: this many float64 epsilons of ``sum(x²)`` are its rounding, not variation (a relative standard
#: deviation below about 5e-7).
CANCELLATION = 1000


def nested_dropout(codes, generator, return_widths=False):
    """``codes`` with every unit after the first ``k`` of each row zeroed.

    ``P(k)`` is proportional to ``1 / sqrt(k)`` on ``1..width``: small codes are
    trained more often than under a uniform ``k``, which measured better at every
    ``k`` on digits (a log-uniform or geometric ``k`` trades the large codes
    away). ``k`` is drawn from ``generator`` in training; without one
    (validation) the rows take the quantiles of that distribution in turn, so
    the validation loss is deterministic. ``return_widths``: also return each
    row's ``k``.
    """
    n_rows, width = codes.shape
    device = codes.device
    cdf = torch.arange(1, width + 1, dtype=torch.float32, device=device).rsqrt().cumsum(0)
    if generator is None:
        u = (torch.arange(n_rows, dtype=torch.float32, device=device) + 0.5) / n_rows
    else:
        u = torch.rand(n_rows, generator=generator, device=device)
    keep = torch.searchsorted(cdf, u * cdf[-1]).clamp_(max=width - 1) + 1
    codes = codes * (torch.arange(width, device=device) < keep[:, None])
    return (codes, keep) if return_widths else codes


def squared_errors_by_width(module, batch, mask=None, inputs=None):
    """Per row, the summed squared reconstruction error from the first ``k`` code units,
    ``k = 1..width``: a tensor of shape ``(n_rows, width)``. ``mask``: observed entries;
    ``inputs``: what the module reads, when not ``batch`` itself."""
    codes = module.encode(batch if inputs is None else inputs)
    width = codes.shape[1]
    units = torch.arange(width, device=codes.device)
    errors = []
    for k in range(1, width + 1):
        error = (module.output(module.decode(codes * (units < k))) - batch) ** 2
        errors.append((error if mask is None else error * mask).sum(dim=1))
    return torch.stack(errors, dim=1)


def measured_rows(heldout, n_rows, seed):
    """Indices of the rows that measure R² by width: a seeded random subset of at most
    :data:`R2_MAX_ROWS` of ``heldout`` (all ``n_rows`` rows when fewer than
    :data:`R2_MIN_ROWS` are held out), sorted."""
    rows = np.arange(n_rows) if heldout is None or len(heldout) < R2_MIN_ROWS else np.asarray(heldout)
    if len(rows) > R2_MAX_ROWS:
        rows = np.random.default_rng(seed).choice(rows, R2_MAX_ROWS, replace=False)
    return np.sort(rows)


def column_moments(X, missing="zero", block=4096):
    """Per column: the number of observed entries, their sum and their sum of squares.

    Unstored sparse entries are zeros, or unobserved with ``missing='mask'``; NaN is
    unobserved. Dense ``X`` is read in blocks (no float64 copy of all of it).
    """
    if sp.issparse(X):
        X = X.astype(np.float64)  # a copy of the stored values
        stored_nan = np.isnan(X.data)
        X.data[stored_nan] = 0.0
        if missing == "mask":
            counts = np.bincount(X.indices[~stored_nan], minlength=X.shape[1])  # sparse arrays: no getnnz
        else:
            counts = np.full(X.shape[1], X.shape[0])
        return counts, np.asarray(X.sum(axis=0)).ravel(), np.asarray(X.multiply(X).sum(axis=0)).ravel()
    moments = np.zeros((3, X.shape[1]))
    for start in range(0, X.shape[0], block):
        part = X[start:start + block]
        observed = ~np.isnan(part)
        part = np.where(observed, part, 0.0).astype(np.float64, copy=False)
        moments += observed.sum(axis=0), part.sum(axis=0), (part * part).sum(axis=0)
    return moments


def r2_by_width(sse, X, X_train, missing="zero"):
    """R² of decoding ``X`` from the first ``k`` units, ``k = 0..width``.

    ``sse`` holds the summed squared errors of ``X`` by width (see
    :func:`squared_errors_by_width`); R² is ``1 - SSE / SST`` with SST around the
    column means of ``X_train`` (what zero units predict: R² 0).
    """
    counts, sums, _ = column_moments(X_train, missing)
    means = sums / np.maximum(counts, 1)
    counts, sums, squares = column_moments(X, missing)
    sst = float(np.sum(squares - 2 * means * sums + counts * means ** 2))
    if sst <= CANCELLATION * np.finfo(np.float64).eps * float(np.sum(squares)):
        # the rows are their column means (up to rounding): R² undefined (as r2_score)
        return np.concatenate([[0.0], np.where(sse == 0, 1.0, 0.0)])
    return np.concatenate([[0.0], 1.0 - sse / sst])


def choose_width(r2, fraction, owner):
    """Smallest width whose R² (``r2[k]``, ``k = 0..width``) reaches ``fraction``; all
    units, with a warning naming ``owner``, when none does."""
    reached = np.flatnonzero(r2[1:] >= fraction)
    if reached.size:
        return int(reached[0]) + 1
    width = len(r2) - 1
    warnings.warn(
        f"{owner}: n_components={fraction} asks for a held-out R² of {fraction}, but all {width} "
        f"units of the ordered code reach only {r2[-1]:.4f}; n_components_={width}. Use a wider "
        "network or a smaller fraction.",
        UserWarning,
    )
    return width


#: The trained code is kept at PCA's width only when it beats PCA there by more than this
#: many standard errors on the measured rows (as ``Trainer.fit``'s start margin; not tuned).
PCA_MARGIN = 2.0
#: A narrower code is kept only when it beats PCA at PCA's width by more than this many
#: standard errors. Measured on digits, wine, breast cancer and 21 ADBench sets (seeds
#: 0-2, fractions 0.8, 0.9, 0.95: 216 cases) for 1, 2, 3, 4, 5, 6 and 8: held-out R² below
#: PCA(f)'s in 11, 4, 2, 3, 2, 0 and 0 cases, all on optdigits and mnist at 0.8 from 2 on
#: (standardised pixels are heavy-tailed: the measured rows miss the rare extreme ones).
#: 6 and 8 keep 7 units on the 5-dimensional manifold of tests/test_ordered.py at 0.95
#: (the evidence for 6 units is 5.6 standard errors); of those that find its dimension,
#: 3 and 5 miss least, and 3 keeps fewer units (0.71 fewer than PCA on average, 5: 0.36).
#: In-sample: chosen on these very sets and that test.
FEWER_UNITS_MARGIN = 3.0


def width_against_pca(errors, pca_errors, explained, fraction, held_out=True):
    """The width a fractional ``n_components`` keeps when the code started at PCA, and
    whether the trained code is kept there.

    ``PCA(n_components=fraction).fit(X)`` keeps the fewest components ``k`` whose
    explained-variance ratio on all the rows (``explained[k]``, ``k = 0..width``)
    exceeds ``fraction``. The code keeps ``k`` units, or fewer: the fewest ``w``
    whose per-row squared errors (``errors[:, w - 1]``) are below PCA's with ``k``
    components (``pca_errors[:, k - 1]``, the start's, on the same rows) by more
    than :data:`FEWER_UNITS_MARGIN` standard errors of the mean difference. So it
    never keeps more units than that PCA, and fewer only on clear evidence: the
    measured rows are few, and those of heavy-tailed data vary. At ``k`` units the
    trained code is kept only when it beats PCA there by :data:`PCA_MARGIN`
    standard errors; otherwise the start is (``trained`` False): PCA with ``k``
    components, which :func:`_anchor.refit_kept_start` then makes
    ``PCA(fraction).fit(X)`` itself. Without ``held_out`` rows (the measured rows
    are training rows, on which the trained code is favoured) there is no evidence:
    ``(k, False)``.

    Returns
    -------
    width, trained : int, bool
        Or None without a PCA start (``pca_errors`` None) or when PCA would need
        more units than the code has: then the width reaching ``fraction`` of R².
    """
    if pca_errors is None:
        return None
    k = int(np.searchsorted(explained[1:], fraction, side="right")) + 1  # as PCA chooses
    if k > errors.shape[1]:
        return None
    n = errors.shape[0]
    if not held_out or n < 2:
        return k, False
    gains = pca_errors[:, k - 1:k] - errors[:, :k]  # (rows, w = 1..k)
    beaten = np.flatnonzero(clear_lead(gains[:, :k - 1], FEWER_UNITS_MARGIN).numpy() > 0)
    if beaten.size:
        return int(beaten[0]) + 1, True
    return k, bool(clear_lead(gains[:, k - 1], PCA_MARGIN) > 0)


@torch.no_grad()
def cut(module, narrow):
    """Load into ``narrow`` (the same network built with fewer code units) the weights of
    ``module``, sliced: what feeds or reads the dropped units goes. Returns ``narrow``."""
    old = module.state_dict()
    narrow.load_state_dict({
        name: old[name][tuple(slice(0, size) for size in tensor.shape)]
        for name, tensor in narrow.state_dict().items()
    })
    return narrow
