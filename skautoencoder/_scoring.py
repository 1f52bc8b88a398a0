"""A held-out criterion for choosing the latent size that does not reward size."""

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_array

__all__ = ["masked_reconstruction_score"]


@validate_params(
    {
        "estimator": [object],
        "X": ["array-like", "sparse matrix"],
        "y": [None, "array-like"],
        "mask_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def masked_reconstruction_score(estimator, X, y=None, *, mask_fraction=0.2, random_state=0):
    """R² of entries hidden from a fitted model and reconstructed from the rest of each row.

    A criterion for choosing ``n_components`` (or any other size) on held-out
    data, for :class:`~sklearn.model_selection.GridSearchCV` and
    :func:`~sklearn.model_selection.cross_val_score`: pass it as
    ``scoring=masked_reconstruction_score``. The plain reconstruction score
    keeps rising with the latent size, because a wider code copies more of
    each row through, noise included. Here a random ``mask_fraction`` of the
    entries of ``X`` is hidden (replaced by the column means of the visible
    entries, or by NaN when the estimator accepts missing values), the rows go
    through ``transform`` and ``inverse_transform``, and the score is how well
    the hidden entries come back: a code too small cannot represent the row,
    one too large copies the replaced value through instead of inferring it
    from the other entries. The score therefore peaks in between, as in the
    entry-wise cross-validation of PCA (Wold, 1978; Bro et al., 2008).

    Parameters
    ----------
    estimator : estimator object
        A fitted model with ``transform`` and ``inverse_transform``: any
        estimator of this package, :class:`~sklearn.decomposition.PCA`, or a
        :class:`~sklearn.pipeline.Pipeline` of such steps.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Held-out rows (densified if sparse). NaN entries count as already
        missing: they are neither hidden nor scored; so do the unstored
        entries of a sparse matrix for a ``missing='mask'`` model (or a
        pipeline ending in one), which reads them as unobserved.
    y : None
        Ignored; present so that the function is a scorer.
    mask_fraction : float in (0, 1), default=0.2
        Fraction of the entries hidden.
    random_state : int, RandomState instance or None, default=0
        Which entries are hidden. The fixed default hides the same entries
        for every candidate of a search, so their scores are comparable.

    Returns
    -------
    score : float
        ``1 - SSE / SST`` over the hidden entries, SST taken around the
        column means of the visible ones: 1 is perfect, 0 is no better than
        filling in the column mean. Higher is better.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skautoencoder import Autoencoder, masked_reconstruction_score
    >>> X = load_digits().data[:300] / 16
    >>> search = GridSearchCV(Autoencoder(random_state=0, max_iter=20),
    ...                       {"n_components": [2, 8, 32]}, cv=2,
    ...                       scoring=masked_reconstruction_score)
    >>> search.fit(X).best_params_  # doctest: +SKIP
    {'n_components': 8}
    """
    for method in ("transform", "inverse_transform"):
        if not callable(getattr(estimator, method, None)):
            raise TypeError(f"masked_reconstruction_score needs an estimator with {method}; "
                            f"{type(estimator).__name__} has none.")
    values = check_array(X, accept_sparse=True, dtype=np.float64, ensure_all_finite="allow-nan", input_name="X")
    if hasattr(values, "toarray") and _unstored_is_missing(estimator):  # as the model reads them
        stored, values = values.tocoo(), np.full(values.shape, np.nan)  # unobserved, not zeros
        values[stored.row, stored.col] = stored.data
    elif hasattr(values, "toarray"):
        values = values.toarray()
    observed = ~np.isnan(values)
    hide = observed & (check_random_state(random_state).random_sample(values.shape) < mask_fraction)
    if not hide.any():
        raise ValueError(
            f"mask_fraction={mask_fraction} hid no entry of X with shape {values.shape}; "
            "score more rows or use a larger mask_fraction."
        )
    visible = np.where(observed & ~hide, values, np.nan)
    counts = (observed & ~hide).sum(axis=0)
    means = np.divide(np.nansum(visible, axis=0), counts, out=np.zeros(values.shape[1]), where=counts > 0)
    fill = np.nan if _accepts_nan(estimator) else means
    masked = np.where(hide | ~observed, fill, values)
    if hasattr(X, "iloc"):  # pandas: keep the feature names the estimator was fitted with
        import pandas as pd

        masked = pd.DataFrame(masked, columns=X.columns, index=X.index)
    reconstruction = np.asarray(estimator.inverse_transform(estimator.transform(masked)), dtype=np.float64)
    truth = values[hide]
    sse = np.sum((reconstruction[hide] - truth) ** 2)
    sst = np.sum((np.broadcast_to(means, values.shape)[hide] - truth) ** 2)
    if sst == 0:  # hidden entries all equal their column means: R² undefined (as r2_score)
        return 1.0 if sse == 0 else 0.0
    return float(1.0 - sse / sst)


def _pipeline_steps(estimator):
    """The steps of a pipeline that do something (not None, not ``'passthrough'``); None when
    ``estimator`` is no pipeline."""
    steps = getattr(estimator, "steps", None)
    if steps is None:
        return None
    return [step for _, step in steps if step is not None and step != "passthrough"]


def _unstored_is_missing(estimator):
    """Whether the unstored entries of a sparse ``X`` are unobserved for ``estimator``: a
    ``missing='mask'`` model, or a pipeline ending in one."""
    steps = _pipeline_steps(estimator)
    if steps is not None:
        return bool(steps) and _unstored_is_missing(steps[-1])
    return getattr(estimator, "missing", None) == "mask"


def _accepts_nan(estimator):
    """Whether hidden entries may be passed as NaN: the estimator, or every step of a
    pipeline (whose own tag only reflects its first step), takes missing values."""
    steps = _pipeline_steps(estimator)
    if steps is not None:
        return bool(steps) and all(_accepts_nan(step) for step in steps)
    try:
        return bool(get_tags(estimator).input_tags.allow_nan)
    except Exception:  # not a scikit-learn estimator
        return False
