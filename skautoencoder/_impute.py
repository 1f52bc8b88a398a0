"""Imputation of missing values with an autoencoder trained on the observed entries."""

import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context, clone
from sklearn.utils._mask import _get_mask
from sklearn.utils._missing import is_scalar_nan
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted, validate_data

from ._denoising import DenoisingAutoencoder

__all__ = ["AutoencoderImputer"]


class AutoencoderImputer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Fill missing values with an autoencoder's reconstruction.

    The columns are standardised with their observed means and standard
    deviations, an autoencoder is trained with ``missing='mask'`` (missing
    entries are fed as zeros and left out of the loss), and :meth:`transform`
    replaces each missing entry by its reconstruction, mapped back to the
    column's scale. Observed entries are returned unchanged. The default
    model is a :class:`DenoisingAutoencoder` with masking noise, which learns
    exactly this: to fill in entries it does not see.

    Parameters
    ----------
    estimator : autoencoder estimator or None, default=None
        The model to train (cloned; its ``missing`` is set to ``'mask'``), with
        ``loss='mse'``: it sees standardised columns, not data in [0, 1].
        ``None`` means ``DenoisingAutoencoder(noise='masking',
        noise_level=0.2, random_state=random_state)``.

    missing_values : float or np.nan, default=np.nan
        The placeholder of missing entries. With a placeholder other than
        NaN, ``X`` must hold no NaN (as for
        :class:`~sklearn.impute.SimpleImputer`).

    random_state : int, RandomState instance or None, default=None
        Seeds the default estimator; unused when ``estimator`` is given.

    Attributes
    ----------
    estimator_ : estimator
        The fitted autoencoder.

    mean_ : ndarray of shape (n_features_in_,)
        Observed mean of each column (0 for a column with no observed value).

    scale_ : ndarray of shape (n_features_in_,)
        Observed standard deviation of each column (1 where it is 0 or undefined).

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.impute.SimpleImputer : Column statistics.
    sklearn.impute.IterativeImputer : A regressor per column, in rounds.
    sklearn.impute.KNNImputer : Means of the nearest rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skautoencoder import AutoencoderImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(300, 3) @ rng.randn(3, 12)
    >>> X_missing = np.where(rng.rand(*X.shape) < 0.2, np.nan, X)
    >>> imputer = AutoencoderImputer(random_state=0).fit(X_missing)
    >>> filled = imputer.transform(X_missing)
    >>> bool(np.isnan(filled).any())
    False
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "transform", "inverse_transform"]), None],
        "missing_values": [Real, None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, missing_values=np.nan, random_state=None):
        self.estimator = estimator
        self.missing_values = missing_values
        self.random_state = random_state

    def _standardised(self, X, reset):
        """``(X with NaN for every missing entry, standardised copy, mask of missing)``."""
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32],
                          ensure_all_finite="allow-nan" if is_scalar_nan(self.missing_values) else True,
                          copy=True)  # NaN is refused where it does not mark the missing entries
        missing = _get_mask(X, self.missing_values)
        X[missing] = np.nan
        if reset:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # columns with no observed value
                mean, scale = np.nanmean(X, axis=0), np.nanstd(X, axis=0)
            self.mean_ = np.nan_to_num(mean, nan=0.0)
            self.scale_ = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        return X, (X - self.mean_) / self.scale_, missing

    @_fit_context(prefer_skip_nested_validation=False)  # the given estimator's params are validated by its fit
    def fit(self, X, y=None):
        """Learn the column scales and train the autoencoder on the observed entries.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing entries.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        if self.estimator is not None and self.estimator.get_params().get("loss") == "bce":
            raise ValueError(
                "AutoencoderImputer trains its estimator on standardised columns (mean 0, standard "
                "deviation 1), which loss='bce' (data in [0, 1]) cannot take: use loss='mse'."
            )
        _, Xs, _ = self._standardised(X, reset=True)
        if self.estimator is None:
            estimator = DenoisingAutoencoder(noise="masking", noise_level=0.2, random_state=self.random_state)
        else:
            estimator = clone(self.estimator)
        self.estimator_ = estimator.set_params(missing="mask").fit(Xs)
        return self

    def transform(self, X):
        """Replace the missing entries of ``X`` by their reconstruction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing entries.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features)
            ``X`` with every missing entry filled; other entries unchanged.
        """
        check_is_fitted(self)
        X, Xs, missing = self._standardised(X, reset=False)
        recon = self.estimator_.inverse_transform(self.estimator_.transform(Xs))
        X[missing] = (recon * self.scale_ + self.mean_)[missing]
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = is_scalar_nan(self.missing_values)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
