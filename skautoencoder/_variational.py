"""Variational autoencoder: a generative model with a Gaussian latent space."""

from numbers import Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder
from ._docs import fill_doc
from .nn.losses import gaussian_kl, negative_log_likelihood
from .nn.modules import build_variational_autoencoder

__all__ = ["VariationalAutoencoder"]


@fill_doc
class VariationalAutoencoder(BaseAutoencoder):
    """Variational autoencoder (Kingma and Welling, 2014), with a beta-VAE weight.

    The encoder outputs a Gaussian posterior ``q(z | x) = N(mu(x),
    diag(sigma(x)^2))`` over ``n_components`` latent units with a standard
    normal prior; the decoder models ``p(x | z)``: a Gaussian with a learned
    global scale for ``loss='mse'``, a Bernoulli for ``loss='bce'``. Training
    minimises ``-log p(x | z) + beta * KL(q(z | x) || p(z))`` with one
    reparameterised sample of ``z`` per row, divided by ``n_features`` (so the
    loss is per feature, like the other variants').

    - :meth:`transform` returns the posterior mean ``mu(x)`` (deterministic);
    - :meth:`score_samples` returns the evidence lower bound (ELBO, with
      ``beta=1``) of each row, with the reconstruction term evaluated at the
      posterior mean: deterministic, higher = more likely under the model;
    - :meth:`sample` draws new rows: ``z ~ N(0, I)``, decoded.

    ``init`` defaults to ``'random'`` here: with ``init='pca'`` the posterior
    mean starts as PCA's codes (the log-variance head is the usual one), whose
    scale is PCA's, not the prior's; on digits with ``loss='bce'`` the rows
    :meth:`sample` drew then missed the data's pixel means by up to 0.17
    (0.03 with ``'random'``). ``init='pca'`` is available when the codes and
    reconstructions matter more than sampling.

    Parameters
    ----------
%(shared_parameters)s

    beta : float, default=1.0
        Weight of the KL term during training (``beta > 1`` trades
        reconstruction for a more regular latent space).

    Attributes
    ----------
%(shared_attributes)s

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

    def _negative_elbo(self, module, X, generator, beta, nested=False):
        """Per-row ``-log p(x | z) + beta * KL``; ``z`` sampled when ``generator`` is given,
        else the mean; ``nested``: decode ``z`` through the nested dropout of ``ordered``."""
        X, mask = self._observed(X)
        mean, log_var = module.posterior(X)
        z = mean
        if generator is not None:
            eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
            z = mean + torch.exp(0.5 * log_var) * eps
        if nested:
            z = self._nested_dropout(z, generator)
        nll = negative_log_likelihood(module.decode(z), X, self.loss, module.log_scale, mask)
        return nll + beta * gaussian_kl(mean, log_var)

    def _loss(self, module, X, generator):
        rows = self._negative_elbo(module, X, generator, self.beta, nested=True)
        loss = self._trimmed_mean(rows) if generator is not None and self.trim_fraction > 0 else rows.mean()
        return loss / X.shape[1]

    def _row_scores(self, module, X):
        return -self._negative_elbo(module, X, None, 1.0)

    def sample(self, n_samples=1, random_state=None):
        """Generate rows from the model.

        Draws latent codes from the standard normal prior and decodes them
        (the decoder's mean: sigmoid probabilities for ``loss='bce'``).

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
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        generator = torch.Generator(device=self.device_).manual_seed(seed)
        z = torch.randn((int(n_samples), self.n_components_), generator=generator, device=self.device_)
        z = z.cpu().numpy().astype(np.float64)
        return self._map_batches(z, lambda module, batch: module.output(module.decode(batch)))
