"""Which features make a row abnormal: per-feature contributions to its score."""

from numbers import Integral

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._utils import axes_and_figure, estimator_name

__all__ = ["OutlierExplanationDisplay"]


class OutlierExplanationDisplay:
    """Per-feature contributions to the outlier score of one row (or the mean of several).

    A horizontal bar per feature: its term of ``score_samples`` (from
    ``score_features``; higher = more normal, so the longest bars to the left
    are the features the model reconstructs worst), sorted with the most
    abnormal feature on top, on the scale the model scores: for a pipeline,
    that of the features after its scaler, so a feature with large raw values
    does not hide the one at fault.

    Use :meth:`from_estimator` to explain rows with a fitted autoencoder, or
    :meth:`from_predictions` with per-feature scores computed elsewhere; all
    parameters are stored as attributes.

    Parameters
    ----------
    feature_scores : array-like of shape (n_rows, n_features)
        Per-feature scores of the explained rows, as ``score_features``
        returns them; several rows are drawn as their mean.

    feature_names : array-like of str of shape (n_features,), default=None
        Names of the features; ``None`` uses ``x0, x1, ...``.

    name : str, default=None
        Title of the plot; ``None`` shows no title.

    Attributes
    ----------
    contributions_ : ndarray of shape (n_features,)
        The drawn values: the per-feature scores (their mean over rows).

    order_ : ndarray of shape (n_shown,)
        Indices of the drawn features, most abnormal (lowest contribution) first.

    bars_ : matplotlib BarContainer
        The bars, in the order of ``order_``.

    ax_ : matplotlib Axes
        Axes with the plot.

    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    ReconstructionDisplay : Rows next to their reconstructions.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_wine
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skautoencoder import AutoencoderOutlierDetector
    >>> from skautoencoder.plotting import OutlierExplanationDisplay
    >>> X = load_wine(as_frame=True).data
    >>> detector = make_pipeline(StandardScaler(),
    ...                          AutoencoderOutlierDetector(random_state=0)).fit(X)
    >>> display = OutlierExplanationDisplay.from_estimator(detector, X.iloc[:1], max_features=5)
    >>> len(display.bars_)
    5
    >>> plt.close(display.figure_)
    """

    def __init__(self, *, feature_scores, feature_names=None, name=None):
        self.feature_scores = feature_scores
        self.feature_names = feature_names
        self.name = name

    def plot(self, ax=None, *, max_features=10, name=None, bar_kwargs=None):
        """Draw the contributions of the ``max_features`` most abnormal features.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a new figure.

        max_features : int or None, default=10
            Number of features drawn, the most abnormal first; ``None`` draws all.

        name : str, default=None
            Title of the plot; overrides the ``name`` given at construction.

        bar_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.barh`.

        Returns
        -------
        display : OutlierExplanationDisplay
            Object that stores the computed values and the drawn artists.

        Raises
        ------
        ValueError
            When ``feature_scores`` is not 2-D or not finite, ``feature_names``
            does not match its number of columns, or ``max_features`` is not a
            positive integer or None.
        """
        scores = np.asarray(self.feature_scores, dtype=float)
        if scores.ndim == 1:
            scores = scores[None, :]
        if scores.ndim != 2 or scores.shape[0] == 0:
            raise ValueError(f"feature_scores must be of shape (n_rows, n_features), got {scores.shape}.")
        if not np.isfinite(scores).all():
            raise ValueError("feature_scores holds NaN or infinite values; score_features gives finite ones.")
        n_features = scores.shape[1]
        names = (np.array([f"x{j}" for j in range(n_features)], dtype=object) if self.feature_names is None
                 else np.asarray(self.feature_names, dtype=object))
        if names.shape != (n_features,):
            raise ValueError(
                f"feature_names has {names.size} names, but feature_scores has {n_features} columns."
            )
        if max_features is not None and (
            not isinstance(max_features, Integral) or isinstance(max_features, bool) or max_features < 1
        ):
            raise ValueError(f"max_features must be a positive integer or None, got {max_features!r}.")
        self.contributions_ = scores.mean(axis=0)
        self.order_ = np.argsort(self.contributions_, kind="stable")[:max_features]
        self.ax_, self.figure_ = axes_and_figure(ax, f"{type(self).__name__}.plot")
        positions = np.arange(self.order_.size)[::-1]  # the most abnormal feature on top
        self.bars_ = self.ax_.barh(positions, self.contributions_[self.order_], **(bar_kwargs or {}))
        self.ax_.set_yticks(positions[::-1], [str(n) for n in names[self.order_][::-1]])
        self.ax_.axvline(0.0, color="0.3", linewidth=0.8)
        rows = "" if scores.shape[0] == 1 else f" (mean of {scores.shape[0]} rows)"
        self.ax_.set_xlabel(f"contribution to score_samples{rows}; lower = more abnormal")
        name = self.name if name is None else name
        if name is not None:
            self.ax_.set_title(name)
        return self

    @classmethod
    def from_predictions(cls, feature_scores, *, feature_names=None, max_features=10, ax=None, name=None,
                         bar_kwargs=None):
        """Plot per-feature scores computed elsewhere (e.g. by ``score_features``).

        Parameters
        ----------
        feature_scores : array-like of shape (n_rows, n_features)
            Per-feature scores, higher = more normal; several rows are drawn
            as their mean. A DataFrame's columns name the features.

        feature_names : array-like of str of shape (n_features,), default=None
            Names of the features; ``None`` uses the columns of a DataFrame,
            else ``x0, x1, ...``.

        max_features : int or None, default=10
            Number of features drawn, the most abnormal first.

        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a new figure.

        name : str, default=None
            Title of the plot.

        bar_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.barh`.

        Returns
        -------
        display : OutlierExplanationDisplay
            Object that stores the computed values and the drawn artists.
        """
        if feature_names is None and hasattr(feature_scores, "columns"):
            feature_names = [str(c) for c in feature_scores.columns]
        return cls(feature_scores=np.asarray(feature_scores, dtype=float), feature_names=feature_names,
                   name=name).plot(ax=ax, max_features=max_features, bar_kwargs=bar_kwargs)

    @classmethod
    def from_estimator(cls, estimator, X, *, max_features=10, ax=None, name=None, bar_kwargs=None):
        """Explain the rows ``X`` with a fitted autoencoder (or a pipeline ending in one).

        The contributions are ``score_features`` of the autoencoder. For a
        :class:`~sklearn.pipeline.Pipeline`, ``X`` is first transformed by the
        steps before the last, so the contributions are on the scale the model
        scores, and the features are named as those steps name their output.

        Parameters
        ----------
        estimator : estimator instance
            A fitted estimator with ``score_features`` (any skautoencoder
            estimator), or a fitted pipeline whose last step has it.

        X : {array-like, sparse matrix} of shape (n_rows, n_features)
            The rows to explain: one row, or several drawn as their mean.

        max_features : int or None, default=10
            Number of features drawn, the most abnormal first; ``None`` draws all.

        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a new figure.

        name : str, default=None
            Title of the plot; ``None`` uses the estimator's class name.

        bar_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.barh`.

        Returns
        -------
        display : OutlierExplanationDisplay
            Object that stores the computed values and the drawn artists.

        Raises
        ------
        TypeError
            When the estimator (or the pipeline's last step) has no ``score_features``.
        """
        check_is_fitted(estimator)
        model, names = estimator, None
        if isinstance(estimator, Pipeline):
            model = estimator[-1]
            if len(estimator) > 1:
                head = estimator[:-1]
                X = head.transform(X)
                try:
                    names = head.get_feature_names_out()
                except (AttributeError, ValueError, TypeError):  # a step that cannot name its output
                    names = None
        if not hasattr(model, "score_features"):
            raise TypeError(
                f"{type(model).__name__} has no score_features; pass a fitted skautoencoder estimator "
                "or a pipeline that ends in one."
            )
        if names is None:
            names = _check_feature_names_in(model)
        scores = np.asarray(model.score_features(X), dtype=float)
        return cls.from_predictions(scores, feature_names=list(map(str, names)), max_features=max_features,
                                    ax=ax, name=estimator_name(model, name), bar_kwargs=bar_kwargs)
