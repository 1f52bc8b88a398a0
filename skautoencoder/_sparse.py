"""Sparse autoencoder: codes of which only a few units are active per row."""

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ._base import NOISE_CONSTRAINTS, BaseAutoencoder
from ._docs import fill_doc
from .nn.corruption import check_level
from .nn.losses import kl_sparsity, l1_sparsity
from .nn.modules import TopK

__all__ = ["SparseAutoencoder"]

#: Fraction of the code units that ``sparsity='topk'`` keeps per row by default (15 of 32):
#: fewer than half, and on digits (32 units, started at PCA) 14 of 32 left the held-out R²
#: 0.048 below a plain autoencoder's, 15 of 32 0.042 (benchmarks/sparse_codes.py).
TOPK_FRACTION = 0.46875


@fill_doc
class SparseAutoencoder(BaseAutoencoder):
    """Sparse autoencoder: a sparsity constraint on the codes.

    Three ways to make codes sparse, chosen by ``sparsity``:

    - ``'topk'`` (the default; k-sparse autoencoder, Makhzani and Frey, 2013):
      linear code units of which only the ``k = max(1, round(sparsity_target_ *
      n_components))`` of largest magnitude are kept in each row, with their
      signs, so that at most ``k`` codes per row are non-zero, on any data; no
      penalty. (With ``missing='mask'``, whose first unit is each row's
      offset, the others keep ``k - 1``, at least one.) The top-k acts on the
      sum of a PCA path and the encoder MLP
      (:class:`~skautoencoder.nn.AnchoredSparseModule`), so training starts
      from the ``k`` principal components of largest magnitude of each row
      (``init='auto'`` or ``'pca'``; ``init='random'``: from a random
      network). It selects units by magnitude, so it cannot be combined with
      an ordered latent space (``ordered=True`` or a float
      ``n_components``): use ``'l1'`` there;
    - ``'l1'``: ReLU code units and a penalty ``sparsity_weight`` times the
      mean L1 norm of the codes; how many codes it zeroes depends on the
      weight *and* on the scale of the data;
    - ``'kl'`` (Ng, 2011): sigmoid code units, and a penalty
      ``sparsity_weight * sum_j KL(sparsity_target_ || rho_j)`` that pulls the
      mean activation ``rho_j`` of each unit over a batch towards
      ``sparsity_target_``. It constrains the average activation, not each
      row: a low, dense code (every unit near ``sparsity_target_`` on every
      row) satisfies it, and that is what it learns at small weights.

    Sparse codes are typically wider than dense ones: raise ``n_components``.
    A sparse *denoising* autoencoder is ``SparseAutoencoder(noise=...)``.

    ``init='auto'`` (the default here) is ``'pca'`` for ``'topk'`` and
    ``'random'`` for ``'l1'`` and ``'kl'``, which need it: their ReLU and
    sigmoid code units cannot start at PCA's signed, dense codes. The user
    guide ("Sparse codes: per row, not on average") compares the three, and
    the PCA start with the random one.

    Parameters
    ----------
%(shared_parameters)s

    sparsity : {'topk', 'l1', 'kl'}, default='topk'
        How sparsity is obtained (see above).

    sparsity_target : float in (0, 1) or 'auto', default='auto'
        Fraction of code units kept per row (``'topk'``; ``'auto'``:
        0.46875, e.g. 15 of 32 units), or target mean activation of each code
        unit (``'kl'``; ``'auto'``: 0.05). Unused by ``'l1'``. Resolved into
        ``sparsity_target_``.

    sparsity_weight : float or 'auto', default='auto'
        Weight of the sparsity penalty (``'kl'`` and ``'l1'``), relative to
        the reconstruction loss (a mean over features). ``'auto'`` is 3e-3
        for ``'kl'``, 1e-3 for ``'l1'`` and 0 for ``'topk'`` (no penalty);
        larger values pull the mean activations closer to
        ``sparsity_target_`` (``'kl'``) or zero more codes (``'l1'``).
        Resolved into ``sparsity_weight_``.

    noise : {'gaussian', 'masking', 'salt_and_pepper'} or None, default=None
        Corruption of training batches, as in :class:`DenoisingAutoencoder`.

    noise_level : float, default=0.2
        Strength of ``noise``: a standard deviation (gaussian) or a
        probability, at most 1 (masking, salt and pepper).

    Attributes
    ----------
%(shared_attributes)s

    sparsity_weight_ : float
        The weight of the sparsity penalty in use.

    sparsity_target_ : float
        The ``sparsity_target`` in use (not set for ``'l1'``, which has none).

    See Also
    --------
    Autoencoder : Dense codes.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautoencoder import SparseAutoencoder
    >>> X = load_digits().data / 16
    >>> sae = SparseAutoencoder(32, sparsity_target=0.125, max_iter=10, random_state=0).fit(X)
    >>> codes = sae.transform(X)
    >>> int((codes != 0).sum(axis=1).max())
    4
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        **NOISE_CONSTRAINTS,
        "sparsity": [StrOptions({"kl", "l1", "topk"})],
        "sparsity_target": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
    }
    # 'kl' gives sigmoid code units, 'l1' ReLU ones; with 'topk' the target sets k
    _architecture_params = BaseAutoencoder._architecture_params + ("sparsity", "sparsity_target")
    _fitted_attributes = {"sparsity_weight_": "float", "sparsity_target_": "float?"}

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
        sparsity="topk",
        sparsity_target="auto",
        sparsity_weight="auto",
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
        self.sparsity = sparsity
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight
        self.noise = noise
        self.noise_level = noise_level

    def _check_params(self):
        check_level(self.noise, self.noise_level)
        if self.init == "pca" and self.sparsity != "topk":
            raise ValueError(
                f"sparsity={self.sparsity!r} needs init='random' (or 'auto'), got init='pca': a PCA "
                "start gives signed dense codes, which its code units (ReLU for 'l1', sigmoid for 'kl') "
                "cannot start from. Use sparsity='topk' to start at PCA."
            )
        if self.sparsity == "topk" and self._is_ordered():
            raise ValueError(
                "sparsity='topk' keeps the largest codes wherever they are, which an ordered latent "
                "space (ordered=True or a float n_components) cannot combine with: the first k "
                "units would not be a code of their own. Use sparsity='l1' (or 'kl'), or ordered=False "
                "with an int n_components."
            )

    def _pca_init(self, n_features):
        """``init='auto'`` starts at PCA for ``'topk'`` (at any width: top-k keeps the code a
        bottleneck), at random for the others."""
        return self.init == "pca" or (self.init == "auto" and self.sparsity == "topk")

    def _code_activation(self):
        if self.sparsity == "kl":
            return nn.Sigmoid()
        if self.sparsity == "l1":
            return nn.ReLU()
        # the ratings model's row offset (its first unit) counts among the k
        return TopK(max(1, round(self._target() * self.n_components_) - self._row_offset_unit()))

    def _target(self):
        """``sparsity_target`` with ``'auto'`` resolved (None for ``'l1'``)."""
        if self.sparsity == "l1":
            return None
        if self.sparsity_target == "auto":
            return TOPK_FRACTION if self.sparsity == "topk" else 0.05
        return float(self.sparsity_target)

    def _loss_is_plain_mse(self):
        return False  # a sparsity penalty or top-k codes

    def _resolve_params(self):
        auto = {"kl": 3e-3, "l1": 1e-3, "topk": 0.0}[self.sparsity]
        self.sparsity_weight_ = auto if self.sparsity_weight == "auto" else float(self.sparsity_weight)
        self.__dict__.pop("sparsity_target_", None)
        if self._target() is not None:
            self.sparsity_target_ = self._target()

    def _penalties(self, module, inputs, codes, generator):
        if self.sparsity == "kl":
            return (self.sparsity_weight_ * kl_sparsity(codes, self.sparsity_target_),)
        if self.sparsity == "l1":
            return (self.sparsity_weight_ * l1_sparsity(codes),)
        return ()
