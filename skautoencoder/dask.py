"""Block-wise inference of fitted autoencoders over Dask arrays.

Each function takes a fitted estimator and a two-dimensional
:class:`dask.array.Array` whose rows are split into chunks, and returns a
*lazy* Dask array: nothing runs until ``.compute()`` (or ``dask.compute``,
``.persist()``, ``.to_zarr(...)``, ...). Every row chunk is handed to the
estimator's own method, so the results are those of the in-memory call, and
the lazy ``shape``, ``chunks`` and ``dtype`` are the computed ones:

==========================  ====================================  ====================
function                    shape                                 dtype
==========================  ====================================  ====================
:func:`transform`           ``(n_samples, n_components_)``        float32 for float32
                                                                  input, else float64
:func:`inverse_transform`   ``(n_samples, n_features_in_)``       as :func:`transform`
:func:`score_samples`       ``(n_samples,)``                      float64
:func:`decision_function`   ``(n_samples,)``                      float64
:func:`predict`             ``(n_samples,)``                      int (+1 / -1)
==========================  ====================================  ====================

The row chunks of the result are those of the input. The feature axis must be
a single chunk for the estimator to see whole rows; an input split along it is
rechunked to one column chunk first (cheap for the narrow arrays that
autoencoders take).

This module needs the ``dask`` extra (``pip install "skautoencoder[dask]"``);
``import skautoencoder`` never imports Dask.

The scheduler is Dask's: the local threaded one by default, or a
``dask.distributed`` cluster when a :class:`~distributed.Client` is active,
in which case the estimator is pickled once into the task graph and sent to
the workers. Inside Dask's worker threads the estimators infer with one torch
thread; when the workers are threads of the client process (an in-process
cluster, or Dask's threaded scheduler), also call ``torch.set_num_threads(1)``
there (see the "Scaling out with Dask" page of the documentation).

See Also
--------
dask_ml.wrappers.Incremental : Fit with ``partial_fit`` over the chunks of a
    Dask array (data larger than memory).
dask_ml.wrappers.ParallelPostFit : Generic block-wise prediction; its
    ``transform`` reports a wrong lazy shape for autoencoders (the input's
    column count) and it has no ``score_samples``.
"""

import numbers

import dask.array as da
import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["decision_function", "inverse_transform", "predict", "score_samples", "transform"]


def _as_rows(estimator, X, method, n_columns):
    """Check that ``estimator`` is fitted; ``X`` as a 2-D Dask array of ``n_columns`` columns in one chunk."""
    check_is_fitted(estimator)
    X = da.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D array of shape (n_samples, n_features), got {X.ndim} dimension(s).")
    if not np.issubdtype(X.dtype, np.number) and X.dtype != np.bool_:
        raise ValueError(f"Expected a numeric array, got dtype {X.dtype}.")
    width = X.shape[1]
    if isinstance(width, numbers.Integral) and n_columns is not None and width != n_columns:
        raise ValueError(
            f"X has {width} features, but {type(estimator).__name__}.{method} is expecting "
            f"{n_columns} features as input."
        )
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})  # whole rows per block
    return X


def _float_dtype(dtype):
    """Floating dtype of the estimator's outputs for input of ``dtype`` (as ``validate_data`` casts)."""
    return np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)


def _call_block(block, estimator, method, n_columns, out_dtype):
    """``estimator.<method>(block)`` in the declared dtype; empty chunks give empty results."""
    if block.shape[0] == 0:  # scikit-learn refuses 0 rows; Dask arrays may hold empty chunks
        return np.empty((0,) if n_columns is None else (0, n_columns), dtype=out_dtype)
    return np.asarray(getattr(estimator, method)(block)).astype(out_dtype, copy=False)


def _blockwise(estimator, X, method, n_columns, dtype):
    """Lazy ``estimator.<method>`` over the row chunks of ``X`` (already checked)."""
    if n_columns is None:  # one value per row: the column axis goes away
        chunks, drop_axis, meta = (X.chunks[0],), 1, np.empty((0,), dtype=dtype)
    else:
        chunks, drop_axis, meta = (X.chunks[0], (n_columns,)), None, np.empty((0, n_columns), dtype=dtype)
    return X.map_blocks(
        _call_block,
        estimator=estimator,
        method=method,
        n_columns=n_columns,
        out_dtype=dtype,
        chunks=chunks,
        dtype=dtype,
        drop_axis=drop_axis,
        meta=meta,
        token=f"skautoencoder-{method.replace('_', '-')}",
    )


def _n_components(estimator):
    """Width of the codes: ``n_components_``, or the number of output feature names (pipelines)."""
    n = getattr(estimator, "n_components_", None)
    return int(n) if n is not None else len(estimator.get_feature_names_out())


def transform(estimator, X):
    """Encode the rows of a Dask array, chunk by chunk, lazily.

    Parameters
    ----------
    estimator : fitted estimator
        A fitted skautoencoder estimator, or a fitted
        :class:`~sklearn.pipeline.Pipeline` that ends in one.
    X : dask.array.Array of shape (n_samples, n_features_in_)
        Rows to encode, chunked along the rows. Any other array is wrapped
        with :func:`dask.array.asarray` (one chunk).

    Returns
    -------
    X_new : dask.array.Array of shape (n_samples, n_components_)
        Lazy codes with the row chunks of ``X``, float32 for float32 input and
        float64 otherwise; ``X_new.compute()`` equals
        ``estimator.transform(X.compute())``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``X`` is not 2-D or has another number of columns than the
        estimator was fitted on (checked before anything runs).

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from skautoencoder import Autoencoder
    >>> from skautoencoder import dask as skdask
    >>> X = np.random.RandomState(0).normal(size=(1000, 12)).astype(np.float32)
    >>> ae = Autoencoder(n_components=3, hidden_layer_sizes=(16,), max_iter=5,
    ...                  early_stopping=False, random_state=0)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # few epochs: ConvergenceWarning
    ...     ae = ae.fit(X)
    >>> X_dask = da.from_array(X, chunks=(250, 12))
    >>> codes = skdask.transform(ae, X_dask)
    >>> codes
    dask.array<skautoencoder-transform, shape=(1000, 3), dtype=float32, chunksize=(250, 3), ...>
    >>> np.allclose(codes.compute(), ae.transform(X))
    True
    """
    X = _as_rows(estimator, X, "transform", getattr(estimator, "n_features_in_", None))
    return _blockwise(estimator, X, "transform", _n_components(estimator), _float_dtype(X.dtype))


def inverse_transform(estimator, X):
    """Decode latent codes held in a Dask array, chunk by chunk, lazily.

    Parameters
    ----------
    estimator : fitted estimator
        A fitted skautoencoder estimator.
    X : dask.array.Array of shape (n_samples, n_components_)
        Codes, e.g. from :func:`transform`, chunked along the rows. Any other
        array is wrapped with :func:`dask.array.asarray` (one chunk).

    Returns
    -------
    X_original : dask.array.Array of shape (n_samples, n_features_in_)
        Lazy reconstructed rows with the row chunks of ``X``, float32 for
        float32 codes and float64 otherwise.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``X`` is not 2-D or does not have ``n_components_`` columns.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from skautoencoder import Autoencoder
    >>> from skautoencoder import dask as skdask
    >>> X = np.random.RandomState(0).normal(size=(1000, 12))
    >>> ae = Autoencoder(n_components=3, hidden_layer_sizes=(16,), max_iter=5,
    ...                  early_stopping=False, random_state=0)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # few epochs: ConvergenceWarning
    ...     ae = ae.fit(X)
    >>> X_dask = da.from_array(X, chunks=(250, 12))
    >>> reconstructed = skdask.inverse_transform(ae, skdask.transform(ae, X_dask))
    >>> reconstructed.shape, reconstructed.dtype, reconstructed.chunks[0]
    ((1000, 12), dtype('float64'), (250, 250, 250, 250))
    >>> np.allclose(reconstructed.compute(), ae.inverse_transform(ae.transform(X)))
    True
    """
    X = _as_rows(estimator, X, "inverse_transform", getattr(estimator, "n_components_", None))
    return _blockwise(estimator, X, "inverse_transform", int(estimator.n_features_in_), _float_dtype(X.dtype))


def score_samples(estimator, X):
    """Per-row normality scores of a Dask array (higher = more normal), lazily.

    Parameters
    ----------
    estimator : fitted estimator
        A fitted skautoencoder estimator, or a fitted
        :class:`~sklearn.pipeline.Pipeline` that ends in one.
    X : dask.array.Array of shape (n_samples, n_features_in_)
        Rows to score, chunked along the rows. Any other array is wrapped
        with :func:`dask.array.asarray` (one chunk).

    Returns
    -------
    scores : dask.array.Array of shape (n_samples,), dtype float64
        Lazy ``estimator.score_samples`` of each row, with the row chunks of
        ``X``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``X`` is not 2-D or has another number of columns than the
        estimator was fitted on.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from skautoencoder import Autoencoder
    >>> from skautoencoder import dask as skdask
    >>> X = np.random.RandomState(0).normal(size=(1000, 12))
    >>> ae = Autoencoder(n_components=3, hidden_layer_sizes=(16,), max_iter=5,
    ...                  early_stopping=False, random_state=0)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # few epochs: ConvergenceWarning
    ...     ae = ae.fit(X)
    >>> scores = skdask.score_samples(ae, da.from_array(X, chunks=(250, 12)))
    >>> scores.shape, scores.dtype, scores.chunks
    ((1000,), dtype('float64'), ((250, 250, 250, 250),))
    >>> np.allclose(scores.compute(), ae.score_samples(X))
    True

    The mean score of a data set larger than memory, computed chunk by chunk:

    >>> float(scores.mean().compute()) < 0
    True
    """
    X = _as_rows(estimator, X, "score_samples", getattr(estimator, "n_features_in_", None))
    return _blockwise(estimator, X, "score_samples", None, np.dtype(np.float64))


def decision_function(estimator, X):
    """Shifted scores of a Dask array (negative = outlier), lazily.

    Parameters
    ----------
    estimator : fitted estimator
        A fitted skautoencoder estimator, or a fitted
        :class:`~sklearn.pipeline.Pipeline` that ends in one.
    X : dask.array.Array of shape (n_samples, n_features_in_)
        Rows to score, chunked along the rows. Any other array is wrapped
        with :func:`dask.array.asarray` (one chunk).

    Returns
    -------
    decision : dask.array.Array of shape (n_samples,), dtype float64
        Lazy ``score_samples(X) - offset_``, with the row chunks of ``X``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``X`` is not 2-D or has another number of columns than the
        estimator was fitted on.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from skautoencoder import Autoencoder
    >>> from skautoencoder import dask as skdask
    >>> X = np.random.RandomState(0).normal(size=(1000, 12))
    >>> ae = Autoencoder(n_components=3, hidden_layer_sizes=(16,), max_iter=5,
    ...                  early_stopping=False, random_state=0)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # few epochs: ConvergenceWarning
    ...     ae = ae.fit(X)
    >>> decision = skdask.decision_function(ae, da.from_array(X, chunks=(250, 12)))
    >>> decision.shape, decision.dtype
    ((1000,), dtype('float64'))
    >>> np.allclose(decision.compute(), ae.decision_function(X))
    True
    """
    X = _as_rows(estimator, X, "decision_function", getattr(estimator, "n_features_in_", None))
    return _blockwise(estimator, X, "decision_function", None, np.dtype(np.float64))


def predict(estimator, X):
    """Inlier (+1) / outlier (-1) labels of the rows of a Dask array, lazily.

    Parameters
    ----------
    estimator : fitted estimator
        A fitted skautoencoder estimator, or a fitted
        :class:`~sklearn.pipeline.Pipeline` that ends in one.
    X : dask.array.Array of shape (n_samples, n_features_in_)
        Rows to label, chunked along the rows. Any other array is wrapped
        with :func:`dask.array.asarray` (one chunk).

    Returns
    -------
    labels : dask.array.Array of shape (n_samples,), dtype int
        Lazy ``estimator.predict`` of each row, with the row chunks of ``X``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If ``X`` is not 2-D or has another number of columns than the
        estimator was fitted on.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from skautoencoder import Autoencoder
    >>> from skautoencoder import dask as skdask
    >>> X = np.random.RandomState(0).normal(size=(1000, 12))
    >>> ae = Autoencoder(n_components=3, hidden_layer_sizes=(16,), max_iter=5,
    ...                  early_stopping=False, contamination=0.05, random_state=0)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # few epochs: ConvergenceWarning
    ...     ae = ae.fit(X)
    >>> labels = skdask.predict(ae, da.from_array(X, chunks=(250, 12)))
    >>> labels.shape, labels.dtype == int
    ((1000,), True)
    >>> n_outliers = int((labels == -1).sum().compute())
    >>> n_outliers == int((ae.predict(X) == -1).sum())
    True
    """
    X = _as_rows(estimator, X, "predict", getattr(estimator, "n_features_in_", None))
    return _blockwise(estimator, X, "predict", None, np.dtype(int))
