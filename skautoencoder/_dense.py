"""The plain ("vanilla") dense autoencoder."""

from ._base import BaseAutoencoder
from .nn.modules import build_mlp_autoencoder

__all__ = ["Autoencoder"]


class Autoencoder(BaseAutoencoder):
    """Dense autoencoder: a nonlinear, trainable replacement for PCA.

    An encoder MLP maps each row to ``n_components`` codes and a mirrored
    decoder maps the codes back; both are trained to minimise the
    reconstruction error. :meth:`transform` returns the codes,
    :meth:`inverse_transform` decodes them, and the reconstruction error of a
    row is its outlier score (:meth:`score_samples`, higher = more normal).

    Training runs in float32 on ``device``; inference follows the input's
    floating dtype (float64 input is encoded with a float64 copy of the
    weights), so outputs do not depend on the batch size.

    Parameters
    ----------
    n_components : int, default=8
        Dimension of the latent space (the width of the code layer).

    hidden_layer_sizes : int or tuple of int, default=(128, 64)
        Widths of the encoder's hidden layers, from the input towards the
        code; the decoder mirrors them. ``()`` gives a linear autoencoder.

    activation : {'relu', 'tanh', 'logistic', 'identity', 'leaky_relu', \
'elu', 'gelu'}, default='relu'
        Activation of the hidden layers. The code layer is linear.

    loss : {'mse', 'bce'}, default='mse'
        Reconstruction loss. ``'bce'`` (binary cross-entropy) needs data in
        [0, 1] and gives a sigmoid output layer.

    optimizer : {'adam', 'adamw', 'rmsprop', 'sgd'}, default='adam'
        Optimiser; ``'sgd'`` uses Nesterov momentum 0.9.

    learning_rate_init : float, default=1e-3
        Learning rate of the optimiser.

    alpha : float, default=0.0
        L2 penalty (weight decay; decoupled for ``'adamw'``).

    batch_size : int or 'auto', default='auto'
        Rows per training step; ``'auto'`` is ``min(256, n_samples)``. Clipped
        to the number of training rows.

    max_iter : int, default=200
        Maximum number of epochs (passes over the training rows).

    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as an improvement.

    n_iter_no_change : int, default=10
        Training stops once the monitored loss (the validation loss with
        ``early_stopping=True``, the training loss otherwise) has not improved
        by ``tol`` for more than this many consecutive epochs.

    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows, monitor their loss, and
        restore the weights of the best validation epoch at the end. With too
        few rows to hold any out, the training loss is monitored instead.

    validation_fraction : float, default=0.1
        Fraction of rows held out when ``early_stopping=True``.

    shuffle : bool, default=True
        Visit the rows in a new random order every epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split and the batch
        order, through generators local to the estimator (torch's and numpy's
        global random states are never used). Pass an int for reproducible
        results across calls.

    verbose : int or bool, default=0
        Print one line per epoch (training loss, validation loss, time).

    warm_start : bool, default=False
        When the estimator is already fitted, let :meth:`fit` continue from
        the current weights and optimiser state instead of starting anew.

    contamination : 'auto' or float, default='auto'
        Sets ``offset_``, the threshold of :meth:`predict`. A float in
        (0, 0.5] is the expected proportion of outliers in the training data:
        ``offset_`` is that percentile of the training scores. ``'auto'``
        assumes no rate: a row is an outlier when its score falls below Tukey's
        lower fence of the training scores, ``Q1 - 1.5 * (Q3 - Q1)``.

    device : str or torch.device, default='auto'
        Where to train and infer: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...;
        ``'auto'`` picks CUDA when available.

    Attributes
    ----------
    n_components_ : int
        Dimension of the latent space.

    module_ : torch.nn.Module
        The trained network (:class:`skautoencoder.nn.AutoencoderModule`).

    n_iter_ : int
        Number of epochs run, over all calls to :meth:`fit` (with
        ``warm_start``) and :meth:`partial_fit`.

    loss_curve_ : list of float
        Mean training loss of each epoch.

    validation_scores_ : list of float
        Validation loss of each epoch (same objective as ``loss_curve_``,
        lower is better); empty without early stopping.

    best_loss_ : float
        Lowest monitored loss of the last :meth:`fit` (validation loss with
        early stopping, training loss otherwise).

    offset_ : float
        Threshold on :meth:`score_samples`: ``decision_function`` is
        ``score_samples - offset_``.

    batch_size_ : int
        Batch size used in the last training call.

    device_ : torch.device
        Device the module lives on.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

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

    def _build_module(self, n_features):
        return build_mlp_autoencoder(
            n_features,
            self._hidden_sizes(),
            self.n_components_,
            self.activation,
            "sigmoid" if self.loss == "bce" else "identity",
        )
