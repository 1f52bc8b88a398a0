"""The plain ("vanilla") dense autoencoder."""

from ._base import BaseAutoencoder
from ._docs import fill_doc

__all__ = ["Autoencoder"]


@fill_doc
class Autoencoder(BaseAutoencoder):
    """Dense autoencoder: a nonlinear, trainable replacement for PCA.

    An encoder MLP maps each row to ``n_components`` codes and a mirrored
    decoder maps the codes back; both are trained to minimise the
    reconstruction error. :meth:`transform` returns the codes,
    :meth:`inverse_transform` decodes them, and the reconstruction error of a
    row, plus how unusual its code is, is its outlier score
    (:meth:`score_samples`, higher = more normal).

    Training runs in float32 on ``device``; inference follows the input's
    floating dtype (float64 input is encoded with a float64 copy of the
    weights), so outputs depend on neither the batch size nor the other rows
    (beyond float64 rounding).

    Parameters
    ----------
%(shared_parameters)s
    Attributes
    ----------
%(shared_attributes)s
    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.ensemble.IsolationForest : Tree-based outlier detection.

    Notes
    -----
    The objective is the mean reconstruction loss over rows and features.
    Inputs are not scaled: put a :class:`~sklearn.preprocessing.StandardScaler`
    (or ``MinMaxScaler`` with ``loss='bce'``) before the autoencoder in a
    pipeline, as for :class:`~sklearn.neural_network.MLPRegressor`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautoencoder import Autoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> ae = Autoencoder(n_components=4, max_iter=20, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (1797, 4)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    >>> ae.predict(X[:5])
    array([1, 1, 1, 1, 1])
    """
