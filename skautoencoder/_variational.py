"""Variational autoencoder: a generative model with a Gaussian latent space."""

import math
from numbers import Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from . import _ordered
from ._base import BaseAutoencoder
from ._docs import fill_doc
from ._marginals import N_QUANTILES, feature_quantiles, match_marginals, merge_quantiles
from .nn.losses import gaussian_kl, negative_log_likelihood
from .nn.modules import build_variational_autoencoder

__all__ = ["VariationalAutoencoder"]


@fill_doc
class VariationalAutoencoder(BaseAutoencoder):
    """Variational autoencoder (Kingma and Welling, 2014), with a beta-VAE weight.

    The encoder outputs a Gaussian posterior ``q(z | x) = N(mu(x),
    diag(sigma(x)^2))`` over ``n_components`` latent units with a standard
    normal prior; the decoder models ``p(x | z)``: a Gaussian with a learned
    scale per feature for ``loss='mse'``, a Bernoulli for ``loss='bce'``. Training
    minimises ``-log p(x | z) + beta * KL(q(z | x) || p(z))`` with one
    reparameterised sample of ``z`` per row, divided by ``n_features`` (so the
    loss is per feature, like the other variants').

    - :meth:`transform` returns the posterior mean ``mu(x)`` (deterministic);
    - :meth:`score_samples` returns the evidence lower bound (ELBO, with
      ``beta=1``) of each row, with the reconstruction term evaluated at the
      posterior mean: deterministic, higher = more likely under the model;
    - :meth:`score_features` returns the per-feature terms of the
      reconstruction log-likelihood ``log p(x | mu(x))`` (Gaussian terms
      include their normalising constant): each row sums to the ELBO plus its
      KL term;
    - :meth:`sample` draws new rows: ``z ~ N(0, I)``, decoded with the
      decoder's observation noise, each feature then mapped onto the training
      data's distribution of that feature (see :meth:`sample`).

    ``init`` defaults to ``'random'`` here: with ``init='pca'`` the posterior
    mean starts as PCA's codes (the log-variance head is the usual one), whose
    scale is PCA's, not the prior's; on digits with ``loss='bce'`` the rows
    :meth:`sample` drew then missed the data's pixel means by up to 0.17
    (0.03 with ``'random'``). ``init='pca'`` is available when the codes and
    reconstructions matter more than sampling.

    With ``loss='mse'`` (and not ``missing='mask'``) the encoder reads, and
    the decoder writes, each feature standardised by the training rows' mean
    and standard deviation (``module_.input_shift``, ``module_.input_scale``;
    with :meth:`partial_fit`, those of the first chunk, like the observation
    scales), so that with ``init='random'`` the model is the same in any
    units: held-out R² on digits 0.78-0.79
    (three seeds) with pixels in [0, 1], [0, 16] or [0, 1600] alike (before:
    0.72, 0.63-0.71, and "diverged"). ``init='pca'`` keeps its affine path, the
    PCA of the rows in their own units, so its codes' scale, and the KL term
    of its scores, follow the data's units. The observation scales still start at
    one spread for all features, so where the columns' units differ widely a
    :class:`~sklearn.preprocessing.StandardScaler` first still helps (raw
    breast cancer: mean per-feature R² 0.33-0.38, against 0.83-0.87 scaled).

    Parameters
    ----------
%(shared_parameters)s

    beta : float, default=1.0
        Weight of the KL term during training (``beta > 1`` trades
        reconstruction for a more regular latent space).

    Attributes
    ----------
%(shared_attributes)s

    training_quantiles_ : ndarray of shape (n_levels, n_features_in_)
        Quantiles of each feature of the training rows (of at most 10,000 of
        them, drawn at random), at ``n_levels`` evenly spaced levels from 0 to
        1; NaN for a feature never observed (``missing='mask'``). With
        :meth:`partial_fit`, of all the chunks seen: each chunk's rows are
        merged into the quantiles of those before, weighted by their number.
        ``n_levels`` is 1,000 up to 2,000 features, then ``2e6 //
        n_features_in_`` (at least 100), and the rows at most ``2e7 //
        n_features_in_`` (at least 1,000), so that wide data (a user-item
        matrix) cost no more to fit and store than the network.

    model_quantiles_ : ndarray of shape (n_levels, n_features_in_)
        The same quantiles of as many rows (10,000 up to 2,000 features) drawn
        from the model itself (prior, decoder, observation noise), before the
        mapping that :meth:`sample` applies.

    See Also
    --------
    Autoencoder : A deterministic latent space.
    sklearn.neighbors.KernelDensity : Another density model with ``sample``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautoencoder import VariationalAutoencoder
    >>> X = load_digits().data / 16
    >>> vae = VariationalAutoencoder(4, loss="bce", max_iter=10, random_state=0).fit(X)
    >>> vae.sample(3, random_state=0).shape
    (3, 64)
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
    }
    # _quantile_rows: the rows training_quantiles_ summarises, per feature (one row), which
    # partial_fit merges its chunks' quantiles with
    _fitted_attributes = {"training_quantiles_": "matrix", "model_quantiles_": "matrix",
                          "_quantile_rows": "counts?"}

    def _loss_is_plain_mse(self):
        return False  # a sampled ELBO

    def __init__(
        self,
        n_components=8,
        *,
        hidden_layer_sizes=(128, 64),
        activation="relu",
        loss="mse",
        optimizer="adam",
        learning_rate_init=1e-3,
        alpha=0.0,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=True,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        verbose=0,
        warm_start=False,
        contamination="auto",
        device="auto",
        missing="zero",
        trim_fraction=0.0,
        ordered=False,
        init="random",
        beta=1.0,
    ):
        super().__init__(
            n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            loss=loss,
            optimizer=optimizer,
            learning_rate_init=learning_rate_init,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            shuffle=shuffle,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            contamination=contamination,
            device=device,
            missing=missing,
            trim_fraction=trim_fraction,
            ordered=ordered,
            init=init,
        )
        self.beta = beta

    def _build_module(self, n_features):
        return build_variational_autoencoder(
            n_features, self._hidden_sizes(), self.n_components_, self.activation, self._output_activation()
        )

    #: Rows that measure the quantiles of the training data and of the model's raw samples ...
    _QUANTILE_ROWS = 10000
    #: ... with at most this many entries (rows x features; wide data: fewer rows, at least 1,000)
    _QUANTILE_ENTRIES = 20_000_000
    #: Entries of each quantile table: wide data get fewer levels than 1,000 (at least 100).
    _TABLE_ENTRIES = 2_000_000

    def _quantile_sizes(self, n_features):
        """``(rows, levels)`` of the quantiles: 10,000 rows and 1,000 levels up to 2,000
        features; fewer for wider data, whose 10,000 x n_features samples and 1,000 x
        n_features tables cost seconds and hundreds of MB (20,000 features: 1,000 rows, 100
        levels; fit 78 s, pickle 336 MB before, against 3.7 s and 20 MB for Autoencoder)."""
        rows = min(self._QUANTILE_ROWS, max(1000, self._QUANTILE_ENTRIES // n_features))
        return rows, min(N_QUANTILES, max(100, self._TABLE_ENTRIES // n_features))

    def _initialize(self, X, random_state):
        super()._initialize(X, random_state)
        # observation scales start at the features' root mean variance, not at each feature's
        # own (measured on digits: that start weighs rare pixels so much that samples were
        # further from the data), and are floored at 1% of each feature's standard deviation
        # (of the root mean variance for a constant feature)
        counts, sums, squares = _ordered.column_moments(X, self.missing)
        counts = np.maximum(counts, 1)
        mean_square = squares / counts
        variance = mean_square - (sums / counts) ** 2
        # a constant column leaves rounding noise of its mean square here, not 0: it is constant
        variance[variance <= _ordered.CANCELLATION * np.finfo(np.float64).eps * mean_square] = 0.0
        std = np.sqrt(np.maximum(variance, 0.0))
        # rows that show no spread (one row: a first partial_fit chunk) give their magnitude
        rms = float(np.sqrt(np.mean(std ** 2))) or float(np.sqrt(np.mean(mean_square))) or 1.0
        floor = 1e-2 * np.where(std > 0, std, rms)
        with torch.no_grad():
            self.module_.log_scale.fill_(math.log(rms))
            self.module_.log_scale_min.copy_(torch.as_tensor(np.log(floor)))
            if self.loss == "mse" and self.missing != "mask":
                # the networks read and write standardised features (VariationalModule.scaled);
                # not for 'bce', whose data are in [0, 1] and output logits, nor for
                # missing='mask', whose unobserved entries reach the module as zeros
                self.module_.input_shift.copy_(torch.as_tensor(sums / counts))
                self.module_.input_scale.copy_(torch.as_tensor(np.where(std > 0, std, rms)))

    def _after_training(self, X, first=True):
        """Store the quantiles that :meth:`sample` maps its raw draws through: of the rows
        of ``X`` (at most 10,000 of them); after a later :meth:`partial_fit` chunk, of all
        the rows seen (:func:`_marginals.merge_quantiles`), not of the last chunk alone."""
        rng = np.random.RandomState(self._seed)
        n_rows, n_levels = self._quantile_sizes(X.shape[1])
        rows = X
        if X.shape[0] > n_rows:
            rows = X[np.sort(rng.choice(X.shape[0], n_rows, replace=False))]
        dense = self._to_tensor(rows, torch.float64).cpu().numpy()
        seen = getattr(self, "_quantile_rows", None)
        if first or seen is None or self.training_quantiles_.shape[0] != n_levels:
            self.training_quantiles_ = feature_quantiles(dense, n_levels)
            seen = np.zeros((1, X.shape[1]))
        else:
            self.training_quantiles_, _ = merge_quantiles(self.training_quantiles_, seen[0], dense,
                                                          X.shape[0] / rows.shape[0])
        self._quantile_rows = seen + _ordered.column_moments(X, self.missing)[0]
        self.model_quantiles_ = feature_quantiles(self._raw_samples(n_rows, rng), n_levels)

    def _raw_samples(self, n_samples, random_state):
        """Rows drawn from the model itself: ``z ~ N(0, I)``, decoded, plus the observation
        noise of the Gaussian decoder (``loss='mse'``); the decoder's mean for ``'bce'``."""
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        generator = torch.Generator(device=self.device_).manual_seed(seed)
        n = int(n_samples)
        # per row: the code, then the observation noise
        draws = torch.randn((n, self.n_components_ + self.n_features_in_), generator=generator,
                            device=self.device_, dtype=torch.float64)
        noisy = self.loss == "mse"

        def draw(module, batch):
            mean = module.output(module.decode(batch[:, :self.n_components_]))
            if noisy:
                mean = mean + torch.exp(module.observation_log_scale()) * batch[:, self.n_components_:]
            return mean

        return self._map_batches(draws.cpu().numpy(), draw)

    def _negative_elbo(self, module, X, generator, beta, nested=False, per_feature=False):
        """Per-row ``-log p(x | z) + beta * KL``; ``z`` sampled when ``generator`` is given,
        else the mean; ``nested``: decode ``z`` through the nested dropout of ``ordered``;
        ``per_feature``: the terms of ``-log p(x | z)`` per feature instead (no KL)."""
        X, mask = self._observed(X)
        mean, log_var = module.posterior(X)
        z = mean
        if generator is not None:
            eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
            z = mean + torch.exp(0.5 * log_var) * eps
        if nested:
            z = self._nested_dropout(z, generator)
        nll = negative_log_likelihood(module.decode(z), X, self.loss, module.observation_log_scale(), mask,
                                      reduction="none" if per_feature else "sum")
        return nll if per_feature else nll + beta * gaussian_kl(mean, log_var)

    def _loss(self, module, X, generator):
        rows = self._negative_elbo(module, X, generator, self.beta, nested=True)
        loss = self._trimmed_mean(rows) if generator is not None and self.trim_fraction != 0 else rows.mean()
        return loss / X.shape[1]

    def _feature_scores(self, module, X):
        return -self._negative_elbo(module, X, None, 0.0, per_feature=True)

    def _row_scores(self, module, X):
        return -self._negative_elbo(module, X, None, 1.0)

    #: The ELBO scores the code already, by its KL term: no separate code term.
    _scores_codes = False

    def sample(self, n_samples=1, random_state=None):
        """Generate rows from the model.

        Draws latent codes from the standard normal prior, decodes them and,
        for ``loss='mse'``, adds the Gaussian observation noise of the decoder
        (its learned per-feature scale); ``loss='bce'`` keeps the decoder's
        mean (pixel probabilities). Each feature of these raw draws is then
        mapped to the training data's distribution of that feature, through
        the model's own cumulative distribution and the data's quantiles
        (both stored at fit time): the model decides how the features vary
        together, the data the values each feature takes, so generated rows
        keep the data's point masses (exact zeros), discrete levels and
        range. The raw decoder means are ``inverse_transform(z)`` of codes
        ``z`` drawn from ``N(0, I)``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the draw (through a local generator).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_), dtype float64
            Generated rows.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, (int, np.integer)) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        raw = self._raw_samples(n_samples, random_state)
        return match_marginals(raw, self.model_quantiles_, self.training_quantiles_)
