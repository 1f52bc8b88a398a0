"""Top-n recommendations from a fitted model of a user x item matrix."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from sklearn.utils.validation import check_array

__all__ = ["recommend"]

_BLOCK = 1024  # rows predicted at a time: memory of n_items floats per row, not per matrix


@validate_params(
    {
        "estimator": [HasMethods(["transform", "inverse_transform"])],
        "X": ["array-like", "sparse matrix"],
        "n": [Interval(Integral, 1, None, closed="left")],
        "exclude_seen": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def recommend(estimator, X, n=10, *, exclude_seen=True):
    """Indices of the ``n`` items with the highest predicted rating, for each row of ``X``.

    Each row of ``X`` is a user's ratings (or any scores), one column per
    item; the predictions are ``estimator.inverse_transform(estimator.transform(X))``,
    computed a block of rows at a time. With an
    :class:`~skautoencoder.Autoencoder` trained with ``missing='mask'`` an
    unrated item is predicted from the item's offset, the user's and their
    tastes, never as 0.

    Parameters
    ----------
    estimator : estimator object
        A fitted model with ``transform`` and ``inverse_transform``, typically
        ``Autoencoder(missing='mask')`` fitted on a user x item matrix, or a
        :class:`~sklearn.pipeline.Pipeline` ending in one.
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        The users' known ratings: the stored entries of a sparse matrix, the
        non-NaN entries of a dense one (the input format of
        ``missing='mask'``).
    n : int, default=10
        Number of items per row. Fewer come back when fewer items are left
        (``n`` is capped at the number of items).
    exclude_seen : bool, default=True
        Leave out each user's known items (their rated items are not
        recommended again). A row then gets fewer than ``n`` items only when
        fewer than ``n`` are unknown: the missing places hold ``-1``.

    Returns
    -------
    items : ndarray of shape (n_users, min(n, n_items)), dtype int
        Column indices of ``X``, best first; ``-1`` where no item is left.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from skautoencoder import Autoencoder, recommend
    >>> rng = np.random.RandomState(0)
    >>> R = sp.random(200, 30, density=0.3, format="csr", random_state=rng,
    ...               data_rvs=lambda k: rng.randint(1, 6, k))
    >>> model = Autoencoder(4, max_iter=5, missing="mask", random_state=0).fit(R)
    >>> recommend(model, R[:2], n=3).shape
    (2, 3)
    """
    # a data frame goes to the estimator as it is, a block of rows at a time: its column names are
    # checked against those the estimator was fitted with (a numpy copy only warned, in any order)
    frame = X if hasattr(X, "columns") and not sp.issparse(X) else None
    if not sp.issparse(X):
        X = check_array(X, dtype=None, ensure_all_finite="allow-nan", input_name="X")
    else:
        X = X.tocsr()
    n = min(n, X.shape[1])
    out = np.empty((X.shape[0], n), dtype=np.intp)
    for start in range(0, X.shape[0], _BLOCK):
        block = X[start:start + _BLOCK]
        rows = block if frame is None else _safe_indexing(frame, np.arange(start, start + block.shape[0]))
        scores = np.asarray(estimator.inverse_transform(estimator.transform(rows)), dtype=np.float64)
        if scores.shape != block.shape:
            raise ValueError(
                f"estimator.inverse_transform(estimator.transform(X)) has shape {scores.shape}, "
                f"expected {block.shape}: the estimator must reconstruct rows of X."
            )
        scores = np.where(np.isnan(scores), -np.inf, scores)
        if exclude_seen:
            if sp.issparse(block):  # stored entries, explicit zeros included
                coo = block.tocoo()
                scores[coo.row, coo.col] = -np.inf
            else:
                scores[~np.isnan(block)] = -np.inf
        if n < scores.shape[1]:
            top = np.argpartition(-scores, n - 1, axis=1)[:, :n]
        else:
            top = np.broadcast_to(np.arange(n), scores.shape).copy()
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top[np.take_along_axis(scores, top, axis=1) == -np.inf] = -1
        out[start:start + top.shape[0]] = top
    return out
