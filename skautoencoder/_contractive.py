"""Contractive autoencoder: codes that change little when the input moves."""

from numbers import Real

from sklearn.utils._param_validation import Interval

from ._base import NOISE_CONSTRAINTS, BaseAutoencoder
from ._docs import fill_doc
from .nn.corruption import check_level
from .nn.losses import contraction

__all__ = ["ContractiveAutoencoder"]

# Above this many Jacobian entries (n_features * n_components), training
# estimates the penalty from one random projection instead of computing it.
_EXACT_JACOBIAN_MAX = 4096


@fill_doc
class ContractiveAutoencoder(BaseAutoencoder):
    """Contractive autoencoder (Rifai et al., 2011).

    Adds ``contraction_weight`` times the mean squared Frobenius norm of the
    encoder's Jacobian, ``||d codes / d x||_F^2``, to the reconstruction loss,
    so that codes are locally insensitive to small input changes (robust
    features, a smoother latent space).

    Cost: when ``n_features * n_components <= 4096`` the penalty is exact and
    costs ``n_components`` extra (differentiable) backward passes through the
    encoder per training step; above that, one random Rademacher projection
    ``v`` gives the unbiased estimate ``||v^T J||^2`` at the cost of one
    extra backward pass. Validation losses always use the exact penalty.

    Parameters
    ----------
%(shared_parameters)s

    contraction_weight : float, default=0.01
        Weight of the Jacobian penalty, relative to the reconstruction loss (a
        mean over features). The penalty depends on the scale of ``X``; the
        variants guide shows its effect on digits.

    noise : {'gaussian', 'masking', 'salt_and_pepper'} or None, default=None
        Corruption of training batches, as in :class:`DenoisingAutoencoder`.

    noise_level : float, default=0.2
        Strength of ``noise``.

    Attributes
    ----------
%(shared_attributes)s

    See Also
    --------
    Autoencoder : The same network without the penalty.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautoencoder import ContractiveAutoencoder
    >>> X = load_digits().data / 16
    >>> cae = ContractiveAutoencoder(8, max_iter=10, random_state=0).fit(X)
    >>> cae.transform(X).shape
    (1797, 8)
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        **NOISE_CONSTRAINTS,
        "contraction_weight": [Interval(Real, 0, None, closed="left")],
    }

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
        init="auto",
        contraction_weight=0.01,
        noise=None,
        noise_level=0.2,
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
        self.contraction_weight = contraction_weight
        self.noise = noise
        self.noise_level = noise_level

    def _check_params(self):
        check_level(self.noise, self.noise_level)

    def _loss_is_plain_mse(self):
        return False  # a contraction penalty

    def _penalties(self, module, inputs, codes, generator):
        exact = generator is None or self.n_features_in_ * self.n_components_ <= _EXACT_JACOBIAN_MAX
        return (self.contraction_weight * contraction(module.encode, inputs, generator, exact),)
