"""The scikit-learn contract of every autoencoder, written once.

:class:`BaseAutoencoder` owns parameter validation, input validation, dtype and
device resolution, the fitted state, the outlier-detection convention and
pickling. A variant supplies only its extra parameters, the torch module it
builds (:meth:`BaseAutoencoder._build_module`, mirrored MLPs unless
overridden) and, where they differ, its
training loss (:meth:`BaseAutoencoder._loss`) and its per-row score
(:meth:`BaseAutoencoder._row_scores`). Training itself is
:class:`skautoencoder.nn.training.Trainer`.
"""

import contextlib
import copy
import math
import warnings
import weakref
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    OutlierMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .nn.corruption import NOISES, corrupt
from .nn.losses import RECONSTRUCTION_LOSSES, reconstruction_loss
from .nn.modules import ACTIVATIONS, AutoencoderModule, build_mlp_autoencoder, reset_parameters
from .nn.fastpath import forward_stack, linear_stack
from .nn.training import OPTIMIZERS, DivergenceError, Trainer, threads_pinned, torch_threads

__all__ = ["BaseAutoencoder"]

_INFERENCE_BATCH = 4096
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_OutOfMemoryError = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)  # torch < 2.5


def _resolve_device(device):
    """``torch.device`` for the ``device`` parameter, with a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} was requested but CUDA is not available; use device='cpu'.")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only {torch.cuda.device_count()} CUDA device(s) exist."
            )
    elif resolved.type not in ("cpu", "mps", "xpu"):
        raise ValueError(f"device={device!r} is not supported; use 'auto', 'cpu' or 'cuda[:N]'.")
    return resolved


# Shared sections of the variants' docstrings, filled in by ``fill_doc``.
_SHARED_DOCS = {
    "shared_parameters": """    n_components : int or float, default=8
        Dimension of the latent space (the width of the code layer). A float
        in (0, 1) chooses it as :class:`~sklearn.decomposition.PCA` does: the
        network is trained with an ordered latent space (see ``ordered``) of
        ``min(n_features, hidden_layer_sizes[-1], 128)`` units (without
        hidden layers, ``min(n_features, 128)``), and then cut to the
        smallest number of units whose reconstruction R² on held-out rows
        (a ``validation_fraction`` split, made for this even without early
        stopping; all rows when it would hold fewer than 20) reaches that
        fraction; the result is ``n_components_``. When no size reaches it,
        a warning says so and every unit is kept.

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
        Rows per training step. ``'auto'`` is ``n_train // 32`` clipped to
        [32, 256] (and to ``n_train``), ``n_train`` being the number of
        training rows: at least about 32 steps per epoch on small data,
        batches of 256 from 8,192 rows on. An int is clipped to the number of
        training rows.

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
        Seeds the weight initialisation, the validation split, the batch
        order and any noise, through torch generators local to the estimator:
        torch's global random state is never used, and numpy's only when
        ``random_state=None`` (as everywhere in scikit-learn). Pass an int for
        reproducible results across calls.

    verbose : int or bool, default=0
        Report training progress: one printed line per epoch (training loss,
        validation loss, time), or a progress bar when ``tqdm`` is installed
        and standard output is a terminal. Nothing at 0.

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
        ``'auto'`` picks CUDA when available. On the CPU, training and
        inference use one torch thread (fastest for small networks, and safe
        on a busy machine); for more, run them inside
        ``with skautoencoder.nn.torch_threads(n):``.

    missing : {'zero', 'mask'}, default='zero'
        What an entry that is not there means. ``'zero'``: the unstored
        entries of a sparse ``X`` are zeros, and NaN is an error.
        ``'mask'``: unstored entries of a sparse ``X`` and NaN entries of a
        dense ``X`` are unobserved: they are fed to the encoder as zeros and
        left out of the loss and of the scores (means over the observed
        entries of each row), as in AutoRec-style recommenders. Predictions
        for every entry come from ``inverse_transform(transform(X))``.

    trim_fraction : float in [0, 1), default=0.0
        Fraction of the rows of each training batch with the highest loss
        that are left out of that batch's loss (a trimmed loss). Outliers in
        the training data then barely shape the model, which makes it a
        better outlier detector: on the 21 ADBench datasets of the project's
        benchmark, 0.2 (with 40 epochs of batches of 256, no early stopping)
        raised the mean ROC-AUC from 0.77 to 0.83. Validation losses and scores are not
        trimmed.

    ordered : bool, default=False
        Train an ordered latent space (nested dropout, Rippel et al., 2014):
        each training row is reconstructed from its first ``k`` code units
        only, ``k`` drawn from 1 to ``n_components`` with probability
        proportional to ``1 / sqrt(k)``, so the model minimises a weighted
        average over ``k`` of the loss of reconstructing from the first ``k``
        units. The first ``k`` columns of :meth:`transform`
        are then a good ``k``-dimensional code on their own, as with PCA
        (decode them with the other columns set to zero), and
        ``explained_variance_ratio_`` is set. Always on when ``n_components``
        is a float.""",
    "shared_attributes": """    n_components_ : int
        Dimension of the latent space.

    explained_variance_ratio_ : ndarray of shape (n_components_,)
        Only for an ordered latent space (``ordered=True`` or a float
        ``n_components``): entry ``k`` is the reconstruction R² gained by
        decoding from the first ``k + 1`` code units instead of the first
        ``k`` (R² of no units: 0), measured on the held-out rows of
        :meth:`fit` (its training rows when none are held out; the chunk in
        :meth:`partial_fit`). Its cumulative sum is the R² of each
        truncated code; R² is ``1 - SSE / SST`` over all entries, SST taken
        around the column means of the training data, as PCA's ratios are
        fractions of the total variance. Unlike PCA's, an entry can be
        negative (a unit that a briefly trained network decodes badly).

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
        has feature names that are all strings.""",
}


def fill_doc(cls):
    """Class decorator: put the shared parameter and attribute docs into ``cls.__doc__``.

    The docstring marks the places with ``%(shared_parameters)s`` and
    ``%(shared_attributes)s``; other ``%`` characters are left alone.
    """
    for key, text in _SHARED_DOCS.items():
        cls.__doc__ = cls.__doc__.replace(f"%({key})s", text)
    return cls


#: Constraints of the corruption parameters, for the variants that take them.
NOISE_CONSTRAINTS = {
    "noise": [StrOptions(set(NOISES)), None],
    "noise_level": [Interval(Real, 0, None, closed="left")],
}


class BaseAutoencoder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, OutlierMixin, BaseEstimator
):
    """Base class of the autoencoders; not for direct use.

    See :class:`skautoencoder.Autoencoder` for the parameters and attributes
    that every variant shares.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), Interval(RealNotInt, 0, 1, closed="neither")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "device": [str, torch.device],
        "missing": [StrOptions({"zero", "mask"})],
        "trim_fraction": [Interval(Real, 0, 1, closed="left")],
        "ordered": ["boolean"],
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
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.contamination = contamination
        self.device = device
        self.missing = missing
        self.trim_fraction = trim_fraction
        self.ordered = ordered

    # ------------------------------------------------------------------
    # What a variant provides
    # ------------------------------------------------------------------
    def _build_module(self, n_features):
        """The untrained torch module (on the ``meta`` device) for ``n_features``.

        Mirrored MLPs by default; the convolutional and variational variants
        build their own.
        """
        return build_mlp_autoencoder(
            n_features, self._hidden_sizes(), self.n_components_, self.activation,
            self._output_activation(), self._code_activation(),
        )

    def _output_activation(self):
        return "sigmoid" if self.loss == "bce" else "identity"

    def _code_activation(self):
        """Activation of the code layer (a torch module), or None for linear codes."""
        return None

    def _loss(self, module, X, generator):
        """Scalar training loss of the batch ``X``.

        Reconstruction of ``X`` from its (corrupted, when training with
        ``noise``) copy, plus the variant's penalty terms. ``generator`` is
        ``None`` for a deterministic evaluation (validation): no corruption.
        """
        X, mask = self._observed(X)
        inputs = X if generator is None else self._corrupt(X, generator)
        codes = module.encode(inputs)
        raw = module.decode(self._nested_dropout(codes, generator))
        if generator is not None and self.trim_fraction > 0:
            loss = self._trimmed_mean(reconstruction_loss(raw, X, self.loss, reduction="none", mask=mask))
        else:
            loss = reconstruction_loss(raw, X, self.loss, mask=mask)
        for penalty in self._penalties(module, inputs, codes, generator):
            loss = loss + penalty
        return loss

    def _check_params(self):
        """Checks of parameter combinations that ``_parameter_constraints`` cannot express."""

    def _nested_dropout(self, codes, generator):
        """``codes`` with every unit after the first ``k`` of each row zeroed, for an
        ordered latent space (else ``codes`` itself).

        ``P(k)`` is proportional to ``1 / sqrt(k)`` on ``1..n_components_``: small codes
        are trained more often than under a uniform ``k``, which measured better
        at every ``k`` on digits (a log-uniform or geometric ``k`` trades the large
        codes away). ``k`` is drawn from ``generator`` in training; without one
        (validation) the rows take the quantiles of that distribution in turn.
        """
        if not self._is_ordered():
            return codes
        n_rows, width = codes.shape
        device = codes.device
        cdf = torch.arange(1, width + 1, dtype=torch.float32, device=device).rsqrt().cumsum(0)
        if generator is None:
            u = (torch.arange(n_rows, dtype=torch.float32, device=device) + 0.5) / n_rows
        else:
            u = torch.rand(n_rows, generator=generator, device=device)
        keep = torch.searchsorted(cdf, u * cdf[-1]).clamp_(max=width - 1) + 1
        return codes * (torch.arange(width, device=device) < keep[:, None])

    def _is_ordered(self):
        return bool(self.ordered) or self._fraction() is not None

    def _fraction(self):
        """The R² fraction that ``n_components`` asks for, or None for a fixed size."""
        n = self.n_components
        return float(n) if isinstance(n, Real) and not isinstance(n, Integral) else None

    def _trimmed_mean(self, row_losses):
        """Mean of the per-row losses of a training batch without its ``trim_fraction``
        highest ones: rows that reconstruct worst (likely outliers) do not pull the model."""
        keep = max(1, math.ceil((1.0 - self.trim_fraction) * row_losses.shape[0]))
        if keep >= row_losses.shape[0]:
            return row_losses.mean()
        return row_losses.topk(keep, largest=False, sorted=False).values.mean()

    def _corrupt(self, X, generator):
        """Training-time corruption of a batch: ``noise`` and ``noise_level``, when the variant has them."""
        noise = getattr(self, "noise", None)
        return X if noise is None else corrupt(X, noise, self.noise_level, generator)

    def _penalties(self, module, inputs, codes, generator):
        """Regularisation terms added to the reconstruction loss (none here)."""
        return ()

    def _row_scores(self, module, X):
        """Per-row score tensor, higher = more normal (minus the reconstruction error)."""
        X, mask = self._observed(X)
        return -reconstruction_loss(module(X), X, self.loss, reduction="none", mask=mask)

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers, got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _validate_X(self, X, reset, training=False):
        X = validate_data(
            self, X, reset=reset, dtype=[np.float64, np.float32], accept_sparse=("csr", "csc"),
            ensure_all_finite="allow-nan" if self.missing == "mask" else True,
        )
        if sp.issparse(X):
            X = X.tocsr()  # row batches; a copy of the stored values only for CSC input
        if training:
            values = X.data if sp.issparse(X) else X
            if values.size and values.dtype == np.float64 and np.nanmax(np.abs(values), initial=0) > _FLOAT32_MAX:
                raise ValueError(
                    f"X holds values up to {np.nanmax(np.abs(values)):.3g}, beyond the float32 range that "
                    "training runs in. Scale X first, e.g. with StandardScaler."
                )
            low, high = (np.nanmin(values, initial=0), np.nanmax(values, initial=0)) if values.size else (0, 0)
            if sp.issparse(X) and X.nnz < np.prod(X.shape):  # implicit zeros
                low, high = min(low, 0), max(high, 0)
            if self.loss == "bce" and (low < 0 or high > 1):
                raise ValueError(
                    f"loss='bce' needs X in [0, 1]; got values in [{low:.4g}, {high:.4g}]. "
                    "Scale X (e.g. MinMaxScaler) or use loss='mse'."
                )
        return X

    def _to_tensor(self, X, dtype=torch.float32):
        """Dense rows as a tensor on ``device_``, without a copy when they already fit.

        Sparse rows are densified here (a batch at a time): their unstored
        entries become zeros, or NaN (= unobserved) with ``missing='mask'``.
        """
        if sp.issparse(X):
            dense = np.zeros(X.shape, dtype=X.dtype) if self.missing == "zero" else np.full(X.shape, np.nan, X.dtype)
            X = X.tocoo()
            dense[X.row, X.col] = X.data
            X = dense
        with warnings.catch_warnings():
            # read-only inputs (memmaps) are fine: nothing writes into them
            warnings.filterwarnings("ignore", message=".*non-writable.*", category=UserWarning)
            return torch.as_tensor(np.ascontiguousarray(X), dtype=dtype, device=self.device_)

    def _training_data(self, X):
        """``(data, take)`` for the Trainer: one float32 tensor on the device, or the
        CSR matrix itself with a ``take`` that densifies the rows of each batch."""
        if not sp.issparse(X):
            return self._to_tensor(X), None
        return X, lambda data, rows: self._to_tensor(data[rows.cpu().numpy()])

    def _observed(self, X):
        """``(X with missing entries zeroed, mask of observed entries)``; the mask
        is None unless ``missing='mask'``."""
        if self.missing != "mask":
            return X, None
        mask = ~torch.isnan(X)
        return torch.where(mask, X, torch.zeros((), dtype=X.dtype, device=X.device)), mask

    def _threads(self):
        """Torch threads for training and inference: the user's inside
        ``nn.torch_threads(n)``, one otherwise.

        One thread is the default because on a shared or busy machine torch's
        OpenMP threads wait on each other and a small network can train many
        times slower with two threads than with one (measured here: up to
        40x); one thread also keeps results independent of the machine.
        """
        return None if threads_pinned() else 1

    def _initialize(self, X, random_state):
        """Resolve the ``'auto'`` parameters and build a fresh module."""
        self._hidden_sizes()  # validates
        self.device_ = _resolve_device(self.device)
        self.n_components_ = self._max_components(X.shape[1]) if self._fraction() else int(self.n_components)
        self._seed = int(random_state.randint(np.iinfo(np.int32).max))
        generator = torch.Generator(device=self.device_).manual_seed(self._seed)
        self.module_ = reset_parameters(self._build_module(X.shape[1]), generator, self.device_)
        self._architecture = self._architecture_key()
        self._optimizer = self._optimizer_state = None
        self.n_iter_ = 0
        self.loss_curve_ = []
        self.validation_scores_ = []
        self.best_loss_ = math.inf

    #: Widest ordered code that a fractional ``n_components`` trains.
    _MAX_FRACTION_WIDTH = 128

    def _max_components(self, n_features):
        """Width of the ordered code trained when ``n_components`` is a fraction."""
        hidden = self._hidden_sizes()
        return min(n_features, hidden[-1] if hidden else n_features, self._MAX_FRACTION_WIDTH)

    #: Parameters that shape the network: warm starts and partial fits may not change them.
    _architecture_params = ("n_components", "hidden_layer_sizes", "activation", "loss")

    def _architecture_key(self):
        return {name: repr(getattr(self, name)) for name in self._architecture_params}

    def _check_architecture(self):
        for name, old in self._architecture.items():
            new = repr(getattr(self, name))
            if new != old:
                raise ValueError(
                    f"{name} changed from {old} to {new} since the network was built; warm_start "
                    "and partial_fit continue the same network. Fit with warm_start=False to rebuild it."
                )

    def _plain_mse(self):
        """Whether the training loss is exactly ``mse_loss(module_(X), X)``, drawing nothing
        from the generator: the Trainer may then run its hand-written backward pass."""
        base = BaseAutoencoder
        return (
            self.loss == "mse" and self.missing != "mask" and self.trim_fraction == 0
            and not self._is_ordered() and getattr(self, "noise", None) is None
            and all(getattr(type(self), name) is getattr(base, name)
                    for name in ("_loss", "_observed", "_corrupt", "_penalties", "_nested_dropout"))
        )

    def _optimizer_key(self):
        return (self.optimizer, float(self.learning_rate_init), float(self.alpha))

    def _trainer(self, seed, n_train):
        """A Trainer over ``module_`` that continues the fitted history and,
        when its settings are unchanged, the optimiser's state."""
        if self.batch_size == "auto":
            # small data needs steps, not epochs: on digits (1,212 training rows) batches of
            # 256 left a 32-unit code at held-out R² 0.84, batches of 37 reach 0.91
            self.batch_size_ = min(n_train, max(32, min(256, n_train // 32)))
        else:
            self.batch_size_ = min(self.batch_size, n_train)
        generator = torch.Generator(device=self.device_).manual_seed(seed)
        trainer = Trainer(
            self.module_,
            self._loss,
            optimizer=self.optimizer,
            learning_rate=self.learning_rate_init,
            weight_decay=self.alpha,
            batch_size=self.batch_size_,
            shuffle=self.shuffle,
            generator=generator,
            verbose=self.verbose,
            mse=self._plain_mse(),
        )
        if getattr(self, "_optimizer_settings", None) == self._optimizer_key():
            if self._optimizer is not None:
                trainer.optimizer = self._optimizer
            elif self._optimizer_state is not None:  # unpickled
                trainer.optimizer.load_state_dict(self._optimizer_state)
        trainer.loss_curve = list(self.loss_curve_)
        trainer.validation_scores = list(self.validation_scores_)
        trainer.n_iter = self.n_iter_
        return trainer, generator

    def _train(self, trainer, X, run, heldout=None, cut=True):
        """Call ``run()`` (a Trainer loop), record the outcome, warn or raise as it ended.

        ``heldout`` indexes the rows of ``X`` that measure an ordered latent space (all when None);
        ``cut``: cut it to a fractional ``n_components`` (fit, not partial_fit).
        """
        with torch_threads(self._threads()), _out_of_memory_hint(self, "training"):
            try:
                status = run()
            except DivergenceError as exc:
                self._record(trainer, X, heldout, cut)
                raise ValueError(
                    f"{type(self).__name__} training diverged: {exc}. Use a smaller learning_rate_init "
                    f"(currently {self.learning_rate_init}) or scale the input (e.g. StandardScaler)."
                ) from None
            self._record(trainer, X, heldout, cut)
        if status == "max_iter":
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        elif status == "interrupted":
            warnings.warn(
                f"{type(self).__name__}: training interrupted after {self.n_iter_} epoch(s); "
                "the best weights seen so far are kept.",
                ConvergenceWarning,
            )

    def _record(self, trainer, X, heldout=None, cut=True):
        """Copy the trainer's history into fitted attributes; measure an ordered
        latent space on the rows ``heldout`` of ``X`` (cutting it to a fractional
        ``n_components``); set ``offset_``."""
        _CAST_CACHE.pop(self.module_, None)  # fused optimisers do not bump tensor versions
        self._optimizer, self._optimizer_state = trainer.optimizer, None
        self._optimizer_settings = self._optimizer_key()
        self.n_iter_ = trainer.n_iter
        self.loss_curve_ = trainer.loss_curve
        self.validation_scores_ = trainer.validation_scores
        self.best_loss_ = trainer.best_loss
        self.__dict__.pop("explained_variance_ratio_", None)
        if self._is_ordered():
            limit = self._R2_ROWS if cut else 2048
            if heldout is None or heldout.shape[0] < self._MIN_HELDOUT_ROWS:
                rows = X[:limit]  # too few held-out rows for a usable R²: all the rows
            else:
                rows = X[heldout[:limit]]
            r2 = self._r2_by_width(rows, X)
            fraction = self._fraction()
            if fraction is not None and cut:
                reached = np.flatnonzero(r2[1:] >= fraction)
                width = int(reached[0]) + 1 if reached.size else self.n_components_
                if not reached.size:
                    warnings.warn(
                        f"{type(self).__name__}: n_components={fraction} asks for a held-out R² of "
                        f"{fraction}, but all {width} units of the ordered code reach only {r2[-1]:.4f}; "
                        f"n_components_={width}. Use a wider network or a smaller fraction.",
                        UserWarning,
                    )
                self._truncate(width)
                r2 = r2[:width + 1]
            self.explained_variance_ratio_ = np.diff(r2)
        self.offset_ = self._offset(self._score_samples(X))

    #: Most held-out rows of fit that measure R² by code width (a random subset already),
    #: and fewest: below that, all the rows passed to fit measure it.
    _R2_ROWS = 10000
    _MIN_HELDOUT_ROWS = 20

    def _r2_by_width(self, X, X_train):
        """Reconstruction R² of ``X`` from the first ``k`` code units, ``k = 0..n_components_``:
        ``1 - SSE / SST`` with SST around the column means of ``X_train`` (what zero units
        predict: R² 0); observed entries only with ``missing='mask'``."""
        width = self.n_components_

        def squared_errors(module, batch):
            batch, mask = self._observed(batch)
            codes = module.encode(batch)
            units = torch.arange(width, device=codes.device)
            errors = []
            for k in range(1, width + 1):
                error = (module.output(module.decode(codes * (units < k))) - batch) ** 2
                errors.append((error if mask is None else error * mask).sum(dim=1))
            return torch.stack(errors, dim=1)

        sse = self._apply(X, squared_errors).sum(axis=0, dtype=np.float64)
        counts, sums, squares = self._column_moments(X_train)
        means = sums / np.maximum(counts, 1)
        counts, sums, squares = self._column_moments(X)
        sst = float(np.sum(squares - 2 * means * sums + counts * means ** 2))
        if sst <= 0:  # the rows are their column means: R² undefined (as r2_score)
            return np.concatenate([[0.0], np.where(sse == 0, 1.0, 0.0)])
        return np.concatenate([[0.0], 1.0 - sse / sst])

    def _column_moments(self, X):
        """Per column: number of observed entries, their sum and their sum of squares
        (unstored sparse entries are zeros, or unobserved with ``missing='mask'``; NaN
        is unobserved)."""
        if sp.issparse(X):
            X = X.astype(np.float64)  # a copy
            stored_nan = np.isnan(X.data)
            X.data[stored_nan] = 0.0
            if self.missing == "mask":
                counts = X.getnnz(axis=0) - np.bincount(X.indices[stored_nan], minlength=X.shape[1])
            else:
                counts = np.full(X.shape[1], X.shape[0])
            return counts, np.asarray(X.sum(axis=0)).ravel(), np.asarray(X.multiply(X).sum(axis=0)).ravel()
        moments = np.zeros((3, X.shape[1]))
        for start in range(0, X.shape[0], _INFERENCE_BATCH):  # no float64 copy of all of X
            block = X[start:start + _INFERENCE_BATCH]
            observed = ~np.isnan(block)
            block = np.where(observed, block, 0.0).astype(np.float64, copy=False)
            moments += observed.sum(axis=0), block.sum(axis=0), (block * block).sum(axis=0)
        return moments

    def _truncate(self, width):
        """Keep the first ``width`` units of the code: a module of that width holding
        the trained weights, sliced (what feeds or reads the dropped units goes)."""
        if width == self.n_components_:
            return
        old = self.module_.state_dict()
        self.n_components_ = width
        module = reset_parameters(
            self._build_module(self.n_features_in_), torch.Generator(device=self.device_), self.device_
        )
        state = {
            name: old[name][tuple(slice(0, size) for size in tensor.shape)]
            for name, tensor in module.state_dict().items()
        }
        module.load_state_dict(state)
        self.module_ = module
        self._optimizer = self._optimizer_state = self._optimizer_settings = None

    def _offset(self, scores):
        """Threshold on training scores below which a row is an outlier."""
        if self.contamination == "auto":
            # Tukey's lower fence: no assumed contamination rate
            q1, q3 = np.percentile(scores, [25.0, 75.0])
            return float(q1 - 1.5 * (q3 - q1))
        return float(np.percentile(scores, 100.0 * self.contamination))

    def fit(self, X, y=None):
        """Train the autoencoder on ``X``.

        Training starts from a new random initialisation unless
        ``warm_start=True`` and the estimator is already fitted. With
        ``early_stopping=True``, a random ``validation_fraction`` of the rows is
        held out, training stops once the validation loss stalls, and the
        weights of the best validation epoch are kept.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            On invalid input, when ``warm_start`` would continue a network
            whose architecture parameters were changed, or when training
            diverges (a non-finite loss or weight). In the latter case the
            estimator keeps the weights of the last epoch that ended finite and
            stays usable.

        Warns
        -----
        ConvergenceWarning
            When ``max_iter`` epochs ran without the loss settling, or when
            training was interrupted (Ctrl-C); the best weights so far are kept.
        """
        self._validate_params()
        self._check_params()
        continuing = self.warm_start and hasattr(self, "module_")
        X = self._validate_X(X, reset=not continuing, training=True)
        random_state = check_random_state(self.random_state)
        seed = int(random_state.randint(np.iinfo(np.int32).max))  # split and batch order
        if continuing:
            self._check_architecture()
        else:
            self._initialize(X, random_state)

        n_samples = X.shape[0]
        # rows held out to monitor early stopping, and to choose a fractional n_components
        held_out = self.early_stopping or self._fraction() is not None
        n_val = math.ceil(self.validation_fraction * n_samples) if held_out else 0
        if n_val >= n_samples:  # too few rows to hold any out: use the training rows
            n_val = 0
        trainer, generator = self._trainer(seed, n_samples - n_val)
        train_rows = val_rows = None
        if n_val:
            perm = torch.randperm(n_samples, generator=generator, device=self.device_)
            val_rows, train_rows = perm[:n_val].sort().values, perm[n_val:].sort().values
        data, take = self._training_data(X)
        trainer.take = take or trainer.take
        monitored = val_rows if self.early_stopping else None
        self._train(trainer, X, lambda: trainer.fit(
            data, train_rows, monitored, max_epochs=self.max_iter, tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
        ), heldout=None if val_rows is None else val_rows.cpu().numpy())
        return self

    def partial_fit(self, X, y=None):
        """Train for one pass over ``X``.

        The first call initialises the model; later calls continue training it,
        so that data too large for memory can be streamed chunk by chunk. No
        rows are held out and there is no early stopping. ``offset_`` is set
        from the scores of the last chunk. A Ctrl-C during the pass restores
        the weights from before it (with a warning).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The estimator.

        Notes
        -----
        With a fractional ``n_components``, :meth:`partial_fit` trains the
        ordered code at the width it has (its full width on the first call)
        and does not cut it: the cut needs held-out rows, which only
        :meth:`fit` takes. ``explained_variance_ratio_`` is measured on the
        first 2048 rows of the chunk; choose the size from it.
        """
        self._validate_params()
        self._check_params()
        first = not hasattr(self, "module_")
        X = self._validate_X(X, reset=first, training=True)
        if first:
            self._initialize(X, check_random_state(self.random_state))
        else:
            self._check_architecture()
        trainer, _ = self._trainer((self._seed + 7919 * (self.n_iter_ + 1)) % (2**63 - 1), X.shape[0])
        data, take = self._training_data(X)
        trainer.take = take or trainer.take
        self._train(trainer, X, lambda: trainer.partial_fit(data), cut=False)
        return self

    # ------------------------------------------------------------------
    # Inference: streamed in batches, in the input's floating dtype
    # ------------------------------------------------------------------
    def _apply(self, X, fn):
        """``fn(module, batch)`` over batches of ``X``, as a numpy array.

        Runs in float64 when ``X`` is float64 (on a float64 copy of the
        module), so that results depend neither on the batch size nor on the
        other rows of ``X``.
        """
        dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        module = _cast(self.module_, dtype)
        module.eval()
        out = None
        with torch.inference_mode(), torch_threads(self._threads()), _out_of_memory_hint(self, "inference"):
            for start in range(0, X.shape[0], _INFERENCE_BATCH):
                batch = self._to_tensor(X[start:start + _INFERENCE_BATCH], dtype)
                result = fn(module, batch).cpu().numpy()
                if out is None:
                    out = np.empty((X.shape[0],) + result.shape[1:], dtype=result.dtype)
                out[start:start + result.shape[0]] = result
        return out

    def _score_samples(self, X):
        """:meth:`score_samples` of validated ``X``, as float64."""
        scores = self._apply(X, self._row_scores).astype(np.float64, copy=False)
        if not np.isfinite(scores).all():
            warnings.warn(
                f"{np.count_nonzero(~np.isfinite(scores))} score(s) overflowed to -inf: those rows are "
                "too far from the training data to be scored in floating point. Scale X like the "
                "training data.",
                RuntimeWarning,
            )
        return scores

    def transform(self, X):
        """Encode ``X`` into the latent space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components_)
            Codes, of the floating dtype of ``X`` (float64 for integer input).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._apply(X, self._encode)

    def _encode(self, module, batch):
        """Codes of a batch (inference). A plain MLP encoder runs as bare ``addmm`` with
        in-place activations: the same operations as ``module.encode``, less memory traffic."""
        batch = self._observed(batch)[0]
        stack = linear_stack(module.encoder) if type(module) is AutoencoderModule else None
        return module.encode(batch) if stack is None else forward_stack(stack, batch)

    def inverse_transform(self, X):
        """Decode latent codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components_)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            Reconstructed rows, of the floating dtype of ``X``.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__}.inverse_transform is "
                f"expecting {self.n_components_} features (n_components_) as input."
            )
        return self._apply(X, lambda module, batch: module.output(module.decode(batch)))

    def score_samples(self, X):
        """Per-row normality score: higher is more normal.

        Minus the mean reconstruction error of each row (squared error for
        ``loss='mse'``, binary cross-entropy for ``loss='bce'``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
            The score of each row.
        """
        check_is_fitted(self)
        return self._score_samples(self._validate_X(X, reset=False))

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over ``X``.

        Higher is better, so :class:`~sklearn.model_selection.GridSearchCV`
        can use it directly. Note that a larger latent space almost always
        reconstructs better: to choose ``n_components``, use a fractional
        ``n_components``, score with
        :func:`~skautoencoder.masked_reconstruction_score`, or score a
        downstream supervised pipeline.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        score : float
            Mean per-row score.
        """
        return float(self.score_samples(X).mean())

    def decision_function(self, X):
        """Shifted score: negative for outliers, non-negative for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        decision : ndarray of shape (n_samples,), dtype float64
            ``score_samples(X) - offset_``.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each row as inlier (+1) or outlier (-1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int
            ``+1`` where :meth:`decision_function` is non-negative, ``-1`` elsewhere.
        """
        decision = self.decision_function(X)
        labels = np.ones(decision.shape[0], dtype=int)
        labels[decision < 0] = -1
        return labels

    def save(self, path):
        """Write the fitted estimator to a file that loads without unpickling.

        The file holds the parameters and fitted attributes as JSON text and
        the weights (and optimiser state) as tensors, with the versions of
        skautoencoder, torch and scikit-learn that wrote it. Read it back with
        :func:`skautoencoder.load`, which uses
        ``torch.load(weights_only=True)`` and validates everything, so loading
        a file cannot run code (unlike pickle or joblib, which also work).

        Parameters
        ----------
        path : str or path-like
            Where to write.

        Returns
        -------
        self : object
            The estimator.
        """
        from ._persistence import save

        save(self, path)
        return self

    # ------------------------------------------------------------------
    # scikit-learn plumbing
    # ------------------------------------------------------------------
    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = self.missing == "mask"
        return tags

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: never alter self.__dict__
        if "module_" in state:
            module = state["module_"]
            if next(module.parameters()).device.type != "cpu":
                state["module_"] = copy.deepcopy(module).cpu()
            optimizer = state.pop("_optimizer", None)
            if optimizer is not None:
                state["_optimizer_state"] = _to_cpu(optimizer.state_dict())
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "module_" in state:
            self._optimizer = None
            device = self.device_
            if device.type == "cuda" and not (
                torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
            ):
                fallback = torch.device("cuda" if torch.cuda.is_available() else "cpu")
                warnings.warn(
                    f"{type(self).__name__} was trained on {device}, which is not available "
                    f"here; it was loaded on {fallback} (device_={str(fallback)!r}).",
                    UserWarning,
                )
                device = self.device_ = fallback
            self.module_ = self.module_.to(device)


@contextlib.contextmanager
def _out_of_memory_hint(estimator, stage):
    """Turn a device out-of-memory error into a MemoryError that says what to change."""
    try:
        yield
    except _OutOfMemoryError as exc:
        advice = (f"lower batch_size (currently {estimator.batch_size_}), " if stage == "training"
                  else f"inference runs {_INFERENCE_BATCH} rows at a time; ")
        raise MemoryError(
            f"{type(estimator).__name__} ran out of memory on {estimator.device_} during {stage}: "
            f"{advice}use a smaller network, or use device='cpu'."
        ) from exc


# float64 copies of trained modules, reused while the weights are unchanged: dropped
# after every training call, and rebuilt when a tensor's version counter moves
_CAST_CACHE = weakref.WeakKeyDictionary()


def _cast(module, dtype):
    """``module`` in ``dtype``: itself, or a cached copy rebuilt whenever its weights change."""
    if next(module.parameters()).dtype == dtype:
        return module
    versions = (dtype, tuple(t._version for t in module.state_dict(keep_vars=True).values()))
    cached = _CAST_CACHE.get(module)
    if cached is None or cached[0] != versions:
        cached = (versions, copy.deepcopy(module).to(dtype))
        _CAST_CACHE[module] = cached
    return cached[1]


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj
