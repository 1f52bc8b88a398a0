"""The scikit-learn contract of every autoencoder, written once.

:class:`BaseAutoencoder` owns parameter validation, input validation, dtype and
device resolution, the fitted state, the outlier-detection convention and
pickling. A variant supplies its extra parameters, the parameters among them
that shape its network (``_architecture_params``) and the fitted attributes it
adds (``_fitted_attributes``), the torch module it builds
(:meth:`BaseAutoencoder._build_module`, mirrored MLPs unless overridden) and,
where they differ, its training loss (:meth:`BaseAutoencoder._loss`) and its
per-row score (:meth:`BaseAutoencoder._row_scores`). Training itself is
:class:`skautoencoder.nn.Trainer`; the ordered latent space is
:mod:`skautoencoder._ordered`; the device policy is :mod:`skautoencoder._runtime`.

The fitted state has one representation, plain values and numpy arrays
(:meth:`BaseAutoencoder._fitted_state`, read back by
:meth:`BaseAutoencoder._restore_fitted_state`, which validates every field):
pickling, :meth:`BaseAutoencoder.save` / :func:`load`, warm starts and
``skops.io`` all go through it.
"""

import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    OutlierMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state, deprecated, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils._set_output import _get_container_adapter
from sklearn.utils.validation import _check_feature_names_in, check_array, check_is_fitted, validate_data

from . import _ordered, _persistence, _state
from ._anchor import (explained_by_pca, keep_the_better_start, refit_kept_start, refits_to_pca, restore_start,
                      start_at_pca)
from ._codes import code_distance, fit_code_term
from ._state import as_param as _as_param
from ._state import plain as _plain
from ._ratings import observed_offsets
from ._runtime import out_of_memory_hint, resolve_device, restore_device, step_work, threads_for, with_autograd
from .nn.corruption import NOISES, corrupt, hide
from .nn.losses import RECONSTRUCTION_LOSSES, reconstruction_loss, reconstruction_terms
from .nn.modules import (
    ACTIVATIONS,
    AutoencoderModule,
    ObservedOffsetsModule,
    build_anchored_autoencoder,
    build_mlp_autoencoder,
    reset_parameters,
)
from .nn.steps import forward_stack, linear_stack, plain_mse_loss
from .nn.training import OPTIMIZERS, DivergenceError, History, Trainer, torch_threads

__all__ = ["BaseAutoencoder", "load"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Most rows per inference chunk: larger chunks measured slower (cache), whatever
#: ``working_memory`` allows.
_CACHE_ROWS = 4096

#: Constraints of the corruption parameters, for the variants that take them.
NOISE_CONSTRAINTS = {
    "noise": [StrOptions(set(NOISES)), None],
    "noise_level": [Interval(Real, 0, None, closed="left")],
}


def _architecture_value(name, value):
    """An architecture parameter as recorded, in one form: plain values, and
    ``hidden_layer_sizes=8`` as ``[8]``, the network that ``(8,)`` builds."""
    value = _plain(value)
    return [value] if name == "hidden_layer_sizes" and isinstance(value, int) else value


def load(path, device=None):
    """Read an estimator written by :meth:`~skautoencoder.Autoencoder.save`.

    Nothing is unpickled: the file is read with ``torch.load(weights_only=True)``
    and every part is checked before the estimator is built.

    Parameters
    ----------
    path : str or path-like
        The file.
    device : str or torch.device, optional
        Where to put the module. ``None``: the device it was trained on when
        available here, else CUDA or the CPU (with a warning). A device given
        here must be available.

    Returns
    -------
    estimator : BaseAutoencoder
        The fitted estimator, ready for ``transform``, ``score_samples``, ...

    Raises
    ------
    ValueError
        When ``device`` is not an available device, or the file is not a
        skautoencoder model, is corrupted or does not match its own
        description (the message names the field).

    Warns
    -----
    UserWarning
        When the file was written by another version of skautoencoder or torch.
    """
    target = None if device is None else resolve_device(device)
    name, params, state, output = _persistence.read(path)
    classes = {cls.__name__: cls for cls in _subclasses(BaseAutoencoder)
               if cls.__module__.startswith("skautoencoder.")}
    if name not in classes:
        raise ValueError(f"{path!s} is not a valid skautoencoder model: unknown estimator class {name!r}.")
    try:
        estimator = classes[name]()
        unknown = set(params) - set(estimator.get_params(deep=False))
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}")
        estimator.set_params(**{k: _as_param(v) for k, v in params.items()})
        estimator._validate_params()
        estimator._restore_fitted_state(state, device=target)
        if output:  # as pickling keeps it
            estimator.set_output(**output)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path!s} is a corrupted or inconsistent skautoencoder model: {exc}") from None
    return estimator


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


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
        "init": [StrOptions({"auto", "pca", "random"})],
    }
    #: Parameters that shape the network: a warm start or a partial fit that finds one
    #: changed raises (it would continue another network); the fitted state records them.
    _architecture_params = ("n_components", "hidden_layer_sizes", "activation", "loss", "missing", "init")
    #: Fitted attributes beyond the module, its optimiser, the device and the feature
    #: names, by kind; the fitted state holds exactly these ("?" marks the optional).
    _fitted_attributes = {
        "n_features_in_": "int",
        "n_components_": "int",
        "n_iter_": "int",
        "loss_curve_": "floats",
        "validation_loss_curve_": "floats",
        "best_loss_": "float",
        "offset_": "float",
        "batch_size_": "int",
        "explained_variance_ratio_": "array?",
        "_prefix_weights": "array?",  # init='pca' with an ordered code: each width's loss weight
        "_code_center": "code?",  # the code term of score_samples (see _codes.py)
        "_code_precision": "square?",
        "_offset_totals": "totals?",  # missing='mask': what partial_fit continues the offsets from
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
        self.init = init

    # ------------------------------------------------------------------
    # What a variant provides
    # ------------------------------------------------------------------
    def _build_module(self, n_features):
        """The untrained torch module (on the ``meta`` device) for ``n_features``.

        Mirrored MLPs by default; the convolutional and variational variants
        build their own. Reads only the ``_architecture_params`` and ``n_components_``.
        With ``missing='mask'``, ``loss='mse'`` and two or more code units, the MLPs
        model what an :class:`~skautoencoder.nn.ObservedOffsetsModule` leaves of the
        rows (column and row offsets; the row offset is its first code unit).
        """
        offsets = self._row_offset_unit()
        module = build_mlp_autoencoder(
            n_features, self._hidden_sizes(), self.n_components_ - offsets, self.activation,
            self._output_activation(), self._code_activation(),
        )
        return ObservedOffsetsModule(module, n_features) if offsets else module

    def _row_offset_unit(self):
        """Whether the code's first unit is the row offset of an
        :class:`~skautoencoder.nn.ObservedOffsetsModule`, not a unit of the network."""
        return self.missing == "mask" and self.loss == "mse" and self.n_components_ > 1

    def _output_activation(self):
        return "sigmoid" if self.loss == "bce" else "identity"

    def _code_activation(self):
        """Activation of the code layer (a torch module), or None for linear codes."""
        return None

    def _check_params(self):
        """Checks of parameter combinations that ``_parameter_constraints`` cannot express."""

    def _resolve_params(self):
        """Resolve parameters into fitted attributes at every training call (not only the first)."""

    def _after_training(self, X, first=True):
        """Fit what the variant derives from the trained network and the training rows ``X``
        (validated), at the end of every training call, before ``offset_``; ``first``: False
        for a :meth:`partial_fit` chunk after the first (the rows seen before count too)."""

    def _loss_is_plain_mse(self):
        """Whether the training loss is exactly ``mse_loss(module_(X), X)``, drawing nothing
        from the generator. A variant whose loss adds a term or samples says no."""
        return (self.loss == "mse" and self.missing != "mask" and self.trim_fraction == 0
                and not self._is_ordered() and getattr(self, "noise", None) is None)

    def _loss(self, module, X, generator):
        """Scalar training loss of the batch ``X``.

        Reconstruction of ``X`` from its (corrupted, when training with
        ``noise``) copy, plus the variant's penalty terms. ``generator`` is
        ``None`` for a deterministic evaluation (validation): no corruption.
        """
        observed, mask = self._observed(X)
        inputs = self._inputs(module, X, observed, generator)
        X = observed
        codes = module.encode(inputs)
        truncated, widths = self._nested_dropout(codes, generator, return_widths=True)
        raw = module.decode(truncated)
        weights = None
        if widths is not None and hasattr(module, "affine"):  # started at PCA
            weights = getattr(self, "_prefix_weights", None)
        if weights is not None and weights.shape[0] != codes.shape[1]:
            weights = None  # the code was cut since
        if weights is not None or (generator is not None and self.trim_fraction != 0):
            rows = reconstruction_loss(raw, X, self.loss, reduction="none", mask=mask)
            if weights is not None:  # each width's loss relative to PCA's there (init='pca', ordered)
                rows = rows * torch.as_tensor(weights, dtype=rows.dtype, device=rows.device)[widths - 1]
            trim = generator is not None and self.trim_fraction != 0
            loss = self._trimmed_mean(rows) if trim else rows.mean()
            if weights is not None and generator is not None:
                # and the whole code's, weighted alike: keeps the widest prefixes at PCA's level or above
                full = reconstruction_loss(module.decode(codes), X, self.loss, mask=mask)
                loss = loss + float(weights[-1]) * full
        else:
            loss = reconstruction_loss(raw, X, self.loss, mask=mask)
        if isinstance(module, ObservedOffsetsModule):  # the row offset is data, not a learnt unit
            codes = codes[:, 1:]
        for penalty in self._penalties(module, inputs, codes, generator):
            loss = loss + penalty
        return loss

    def _penalties(self, module, inputs, codes, generator):
        """Regularisation terms added to the reconstruction loss (none here)."""
        return ()

    def _feature_scores(self, module, X):
        """Per-feature score tensor of shape ``(n_rows, n_features)``: minus each feature's
        share of the row's reconstruction error."""
        return self._scored_codes(module, X)[0]

    def _scored_codes(self, module, X):
        """``(per-feature scores, codes)`` of a batch, from one encoding."""
        observed, mask = self._observed(X)
        codes = self._encode(module, X)
        return -reconstruction_terms(module.decode(codes), observed, self.loss, mask=mask), codes

    def _row_scores(self, module, X):
        """Per-row score tensor, higher = more normal: the row sums of :meth:`_feature_scores`
        minus the code term of :func:`_codes.code_distance` (once fitted)."""
        feature_scores, codes = self._scored_codes(module, X)
        return self._minus_code_term(feature_scores.sum(dim=1), codes)

    def _minus_code_term(self, reconstruction_scores, codes):
        """Row scores from minus the reconstruction errors and the codes: minus the code term
        of :func:`_codes.code_distance` too, once it is fitted."""
        if getattr(self, "_code_precision", None) is None:
            return reconstruction_scores
        return reconstruction_scores - code_distance(codes, self._code_center, self._code_precision)

    # ------------------------------------------------------------------
    # Pieces of the loss
    # ------------------------------------------------------------------
    def _nested_dropout(self, codes, generator, return_widths=False):
        """``codes`` through :func:`_ordered.nested_dropout` for an ordered latent space
        (``return_widths``: and each row's width, None when not ordered)."""
        if not self._is_ordered():
            return (codes, None) if return_widths else codes
        return _ordered.nested_dropout(codes, generator, return_widths)

    def _is_ordered(self):
        return bool(self.ordered) or self._r2_target() is not None

    def _r2_target(self):
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

    #: Fraction of the observed entries of each training row that an ObservedOffsetsModule does
    #: not see and must predict (a fixed draw on validation rows): chosen on generated ratings
    _HIDDEN_FRACTION = 0.25

    def _inputs(self, module, X, observed, generator):
        """What ``module`` reads of a training (``generator``) or validation batch ``X``
        (``observed``: ``X`` with its unobserved entries zeroed).

        Unobserved entries zeroed, then ``noise`` in training. An
        :class:`~skautoencoder.nn.ObservedOffsetsModule` reads NaN as
        unobserved and gets ``X`` with a random ``_HIDDEN_FRACTION`` of its
        observed entries hidden (``noise_level`` of them with ``noise='masking'``), so that it learns
        to predict entries it does not see rather than to copy those it does.
        """
        if not isinstance(module, ObservedOffsetsModule):
            return observed if generator is None else self._corrupt(observed, generator)
        masking = getattr(self, "noise", None) == "masking"  # then noise_level is the hidden fraction
        fraction = self.noise_level if masking else self._HIDDEN_FRACTION
        X = hide(X, fraction, generator if generator is not None else torch.Generator(X.device).manual_seed(0))
        return X if generator is None or masking else self._corrupt(X, generator)

    def _module_input(self, module, X, observed=None):
        """``X`` as ``module`` reads it at inference: NaN = unobserved for an
        ObservedOffsetsModule, ``X`` with unobserved entries zeroed (``observed``, when the
        caller has it) for the others."""
        if isinstance(module, ObservedOffsetsModule):
            return X
        return self._observed(X)[0] if observed is None else observed

    def _corrupt(self, X, generator):
        """Training-time corruption of a batch: ``noise`` and ``noise_level``, when the variant has them."""
        noise = getattr(self, "noise", None)
        return X if noise is None else corrupt(X, noise, self.noise_level, generator)

    def _observed(self, X):
        """``(X with missing entries zeroed, mask of observed entries)``; the mask
        is None unless ``missing='mask'``."""
        if self.missing != "mask":
            return X, None
        mask = ~torch.isnan(X)
        return torch.where(mask, X, torch.zeros((), dtype=X.dtype, device=X.device)), mask

    # ------------------------------------------------------------------
    # Input
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
        try:
            X = validate_data(
                self, X, reset=reset, dtype=[np.float64, np.float32], accept_sparse=("csr", "csc"),
                ensure_all_finite="allow-nan" if self.missing == "mask" else True,
            )
        except ValueError as exc:
            if "NaN" not in str(exc) or self.missing == "mask":
                raise
            raise ValueError(
                f"{exc} For data with missing entries, use missing='mask' (unobserved entries are left "
                "out of the loss and the scores), or fill them first, e.g. with "
                "skautoencoder.AutoencoderImputer or sklearn.impute.SimpleImputer."
            ) from None
        if sp.issparse(X):
            X = X.tocsr()  # row batches; a copy of the stored values only for CSC input
        if training:
            values = X.data if sp.issparse(X) else X
            low, high = (np.nanmin(values, initial=0), np.nanmax(values, initial=0)) if values.size else (0, 0)
            if values.dtype == np.float64 and max(-low, high) > _FLOAT32_MAX:  # no np.abs copy of X
                raise ValueError(
                    f"X holds values up to {max(-low, high):.3g}, beyond the float32 range that "
                    "training runs in. Scale X first, e.g. with StandardScaler."
                )
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
            # one copy at most, to the tensor's dtype (a Fortran-ordered frame: not a float64 one first)
            X = np.ascontiguousarray(X, dtype=np.float64 if dtype == torch.float64 else np.float32)
            return torch.as_tensor(X, device=self.device_)

    def _training_data(self, X):
        """``(data, get_batch)`` for the Trainer: one float32 tensor on the device, or the
        CSR matrix itself with a ``get_batch`` that densifies the rows of each batch."""
        if not sp.issparse(X):
            return self._to_tensor(X), None
        return X, lambda data, rows: self._to_tensor(data[rows.cpu().numpy()])

    def _threads(self, n_rows, training):
        """Torch threads for a call over batches of ``n_rows`` rows (the policy: ``_runtime``)."""
        return threads_for(step_work(self.module_, n_rows, training), self.device_)

    # ------------------------------------------------------------------
    # Fitting: validate -> initialise -> split -> train -> (ordered: measure, cut) -> offset_
    # ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    @with_autograd
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
            whose architecture parameters (``n_components``,
            ``hidden_layer_sizes``, ``activation``, ``loss`` and the variant's
            own, such as ``channels``) were changed, or when training
            diverges (a non-finite loss or weight). In the latter case the
            estimator keeps the weights of the last epoch that ended finite and
            stays usable.

        Warns
        -----
        ConvergenceWarning
            When ``max_iter`` epochs ran without the loss settling, or when
            training was interrupted (Ctrl-C); the best weights so far are kept.
        """
        self._check_params()
        continuing = self.warm_start and hasattr(self, "module_")
        X = self._validate_X(X, reset=not continuing, training=True)
        random_state = check_random_state(self.random_state)
        seed = int(random_state.randint(np.iinfo(np.int32).max))  # split and batch order
        if continuing:
            self._check_architecture()
            self._merge_offsets(X, alone=True)  # missing='mask': the offsets of this X
        else:
            self._initialize(X, random_state)
        self._resolve_params()
        generator = torch.Generator(device=self.device_).manual_seed(seed)
        train_rows, heldout = self._split(X.shape[0], generator)
        monitored = torch.as_tensor(heldout, device=self.device_) if self.early_stopping and len(heldout) else None
        random_start = pca_errors = explained = None
        measured = _ordered.measured_rows(heldout, X.shape[0], seed) if self._is_ordered() else None
        new_pca_start = self._starts_at_pca() and not continuing
        start_rows = None if train_rows is None else train_rows.cpu().numpy()
        if new_pca_start:  # PCA of the training rows only
            random_start = start_at_pca(self, X, start_rows, monitored is not None)
            if self._r2_target() is not None:  # PCA's errors by width, on the rows that choose the width
                pca_errors = self._errors_by_width(X, measured)
                explained = explained_by_pca(self, X)  # of all the rows, as PCA(f).fit(X) chooses
        data, get_batch = self._training_data(X)

        def train(generator, include_start):
            trainer = self._trainer(generator, X.shape[0] - len(heldout))
            trainer.get_batch = get_batch or trainer.get_batch
            return self._train(trainer, X, lambda history: trainer.fit(
                data, history, train_rows, monitored, max_epochs=self.max_iter, tol=self.tol,
                n_iter_no_change=self.n_iter_no_change, include_start=include_start,
            ))

        status = train(generator, self._starts_at_pca())
        if random_start is not None and status != "interrupted":  # Ctrl-C stops, not only this run
            # init='random''s own fit: its generator, its split's draw replayed
            def train_random():
                replay = torch.Generator(device=self.device_).manual_seed(seed)
                self._split(X.shape[0], replay)
                return train(replay, False)

            status = keep_the_better_start(self, random_start, status, train_random)
        if self._is_ordered():
            errors = self._errors_by_width(X, measured)
            r2 = self._r2_by_width(X, measured, errors)
            if self._r2_target() is not None:
                target = self._r2_target()
                held_out = len(heldout) >= _ordered.R2_MIN_ROWS  # else the training rows measured
                chosen = _ordered.width_against_pca(errors, pca_errors, explained, target, held_out)
                width, trained = chosen or (_ordered.choose_width(r2, target, type(self).__name__), True)
                self._cut(width)
                if not trained and refits_to_pca(self):  # no better than PCA there: PCA (the refit below)
                    restore_start(self, X, start_rows)
                    r2 = self._r2_by_width(X, measured)
            self.explained_variance_ratio_ = np.diff(r2[:self.n_components_ + 1])
        else:  # a warm start after ordered=True: the ratios were of that code
            self.__dict__.pop("explained_variance_ratio_", None)
        self._after_training(X)
        self._calibrate(X, heldout)
        # last: the held-out rows measured the start (offset_, the width, explained_variance_ratio_)
        if new_pca_start and refit_kept_start(self, X):
            self._module_in(torch.float64 if X.dtype == np.float64 else torch.float32)  # fresh inference copy
            self._fit_code_term(X)  # the refitted codes' statistics (offset_ stays the start's)
        self._warn_end(status)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    @with_autograd
    def partial_fit(self, X, y=None):
        """Train for one pass over ``X``.

        The first call initialises the model; later calls continue training it,
        so that data too large for memory can be streamed chunk by chunk. No
        rows are held out and there is no early stopping. ``offset_`` (and
        the code term of :meth:`score_samples`) is set from the scores of the
        last chunk of at least 20 rows (with an observed entry, for
        ``missing='mask'``; the first chunk's, if none has as many): a
        remainder of a few rows keeps the threshold. With
        ``missing='mask'`` the column offsets are those of every chunk so far
        (each chunk's observed entries are merged into per-column totals
        after the pass; a chunk passed twice counts twice). A Ctrl-C during
        the pass restores the weights from before it (with a warning).

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
        :meth:`fit` takes. ``explained_variance_ratio_`` is measured on a
        random subset of the chunk (of the last chunk of at least 20 rows,
        as ``offset_``); choose the size from it.
        """
        self._check_params()
        first = not hasattr(self, "module_")
        X = self._validate_X(X, reset=first, training=True)
        if first:
            self._initialize(X, check_random_state(self.random_state))
            if self._starts_at_pca():
                start_at_pca(self, X, None)
        else:
            self._check_architecture()
        self._resolve_params()
        seed = int(np.random.SeedSequence([self._seed, self.n_iter_]).generate_state(1)[0])  # one per pass
        trainer = self._trainer(torch.Generator(device=self.device_).manual_seed(seed), X.shape[0])
        data, get_batch = self._training_data(X)
        trainer.get_batch = get_batch or trainer.get_batch
        status = self._train(trainer, X, lambda history: (trainer.partial_fit(data, history), None), first)
        if not first and status != "interrupted":  # a Ctrl-C undid the pass: its rows were not seen
            self._merge_offsets(X)
        # rows that can measure: a chunk with fewer keeps the last chunk's R² and threshold
        scored = X.shape[0] - (np.count_nonzero(self._rows_without_observations(X)) if self.missing == "mask" else 0)
        if not self._is_ordered():
            self.__dict__.pop("explained_variance_ratio_", None)
        elif (first or scored >= _ordered.R2_MIN_ROWS
              or getattr(self, "explained_variance_ratio_", np.empty(0)).shape != (self.n_components_,)):
            self.explained_variance_ratio_ = np.diff(
                self._r2_by_width(X, _ordered.measured_rows(None, X.shape[0], seed)))
        if first or status != "interrupted":  # a Ctrl-C undid the pass: its rows were not seen
            self._after_training(X, first=first)
        if first or scored >= self._MIN_CALIBRATION_ROWS:
            self._calibrate(X, np.empty(0, dtype=np.int64))  # nothing held out: the chunk's rows
        self._warn_end(status)
        return self

    def _initialize(self, X, random_state):
        """Resolve the ``'auto'`` parameters, record the architecture and build a fresh module."""
        self._hidden_sizes()  # validates
        self.device_ = resolve_device(self.device)
        self.n_components_ = self._max_components(X.shape[1]) if self._r2_target() else int(self.n_components)
        self._seed = int(random_state.randint(np.iinfo(np.int32).max))
        self._architecture = {name: _architecture_value(name, getattr(self, name))
                              for name in self._architecture_params}
        generator = torch.Generator(device=self.device_).manual_seed(self._seed)
        self.module_ = reset_parameters(self._build_network(X.shape[1]), generator, self.device_)
        self._optimizer_state = self._optimizer_settings = None
        self.n_iter_ = 0
        self.loss_curve_ = []
        self.validation_loss_curve_ = []
        self.best_loss_ = math.inf
        self._drop_optional_attributes()  # of an earlier fit
        self._float64_module = None
        # from all the rows, held-out ones included: measured better on held-out ratings than
        # the training rows' offsets (benchmarks/recommend.py RMSE 0.8306 vs 0.8371, 3 seeds)
        self._merge_offsets(X, first=True)

    def _merge_offsets(self, X, first=False, alone=False):
        """``missing='mask'``'s column offsets and weights from the observed entries of ``X``
        and of the rows seen before (the earlier chunks of :meth:`partial_fit`); ``alone``: of
        ``X`` alone (a warm-start :meth:`fit` models its ``X``); ``first``: that, and the row
        scale too. Nothing for a model saved without the totals, unless ``alone``."""
        restart = first or alone
        if not isinstance(self.module_, ObservedOffsetsModule) or not (restart or hasattr(self, "_offset_totals")):
            return
        offset, count, row_count, self._offset_totals = observed_offsets(
            X, None if restart else self._offset_totals)
        self.module_.set_offsets(offset, count, row_count if first else None)
        self._float64_module = None

    #: Widest ordered code that a fractional ``n_components`` trains.
    _MAX_FRACTION_WIDTH = 128

    def _max_components(self, n_features):
        """Width of the ordered code trained when ``n_components`` is a fraction."""
        hidden = self._hidden_sizes()
        return min(n_features, hidden[-1] if hidden else n_features, self._MAX_FRACTION_WIDTH)

    def _check_architecture(self):
        for name, old in self._architecture.items():
            new = _architecture_value(name, getattr(self, name))
            if new != _architecture_value(name, old):
                raise ValueError(
                    f"{name} changed from {_as_param(old)!r} to {_as_param(new)!r} since the network was built; warm_start "
                    "and partial_fit continue the same network. Fit with warm_start=False to rebuild it."
                )

    def _split(self, n_samples, generator):
        """``(training rows or None for all, held-out rows)``: a random ``validation_fraction``
        held out to monitor early stopping and to measure an ordered latent space."""
        held_out = self._holds_out_rows()
        n_val = math.ceil(self.validation_fraction * n_samples) if held_out else 0
        if not n_val or n_val >= n_samples:  # too few rows to hold any out: use the training rows
            return None, np.empty(0, dtype=np.int64)
        perm = torch.randperm(n_samples, generator=generator, device=self.device_)
        return perm[n_val:].sort().values, perm[:n_val].sort().values.cpu().numpy()

    def _holds_out_rows(self):
        """Whether :meth:`fit` holds ``validation_fraction`` of the rows out of training: to
        stop early, to choose a fractional ``n_components``; they also set ``offset_``."""
        return self.early_stopping or self._r2_target() is not None

    def _trainer(self, generator, n_train):
        """A Trainer over ``module_`` that continues the optimiser's state when its
        settings are unchanged."""
        if self.batch_size == "auto":
            # small data needs steps, not epochs: on digits (1,212 training rows) batches of
            # 256 left a 32-unit code at held-out R² 0.84, batches of 37 reach 0.91
            self.batch_size_ = min(n_train, max(32, min(256, n_train // 32)))
        else:
            self.batch_size_ = min(self.batch_size, n_train)
        settings = (self.optimizer, float(self.learning_rate_init), float(self.alpha))
        return Trainer(
            self.module_,
            plain_mse_loss if self._loss_is_plain_mse() else self._loss,
            optimizer=self.optimizer,
            optimizer_state=self._optimizer_state if self._optimizer_settings == settings else None,
            learning_rate=self.learning_rate_init,
            weight_decay=self.alpha,
            batch_size=self.batch_size_,
            shuffle=self.shuffle,
            generator=generator,
            verbose=self.verbose,
        )

    def _train(self, trainer, X, run, first=True):
        """``run(history)`` (a Trainer loop extending this estimator's history); keep its
        outcome. On divergence the estimator keeps the last finite weights, stays usable,
        and a ValueError says what to change; ``first``: False for a :meth:`partial_fit` pass
        that continues a model, whose divergence restores the weights from before it."""
        history = History(self.loss_curve_, self.validation_loss_curve_)
        with torch_threads(self._threads(self.batch_size_, True)), out_of_memory_hint(
                type(self).__name__, self.device_,
                f"during training; lower batch_size (currently {self.batch_size_}), "):
            try:
                status, best_loss = run(history)
            except DivergenceError as exc:
                self._keep(trainer, history)
                if first:  # what the kept weights need (VAE: its quantiles), and their threshold
                    self._after_training(X)
                    self._calibrate(X, np.empty(0, dtype=np.int64))
                raise ValueError(
                    f"{type(self).__name__} training diverged: {exc}. Use a smaller learning_rate_init "
                    f"(currently {self.learning_rate_init}) or scale the input (e.g. StandardScaler)."
                ) from None
        self._keep(trainer, history)
        if best_loss is not None:
            self.best_loss_ = best_loss
        elif self.loss_curve_:
            self.best_loss_ = min(self.loss_curve_)
        return status

    def _keep(self, trainer, history):
        """Record what a training call left: epochs run, the optimiser's state and its settings."""
        self.n_iter_ = history.n_iter
        self._optimizer_state = trainer.optimizer_state()
        self._optimizer_settings = (self.optimizer, float(self.learning_rate_init), float(self.alpha))
        self._float64_module = None  # the weights changed

    #: Whether ``max_iter`` is a budget by design (no ConvergenceWarning when it is spent).
    _max_iter_is_budget = False

    def _warn_end(self, status):
        if status == "max_iter" and not self._max_iter_is_budget:
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

    def _errors_by_width(self, X, rows):
        """Per row of ``X[rows]``, the summed squared reconstruction error from the first
        ``k`` code units, ``k = 1..n_components_``: shape ``(len(rows), n_components_)``."""
        def squared_errors(module, batch):
            observed, mask = self._observed(batch)
            inputs = self._module_input(module, batch, observed)
            batch = observed
            return _ordered.squared_errors_by_width(module, batch, mask, inputs)

        return self._map_batches(X[rows], squared_errors).astype(np.float64)

    def _r2_by_width(self, X, rows, errors=None):
        """Reconstruction R² of the rows ``rows`` of ``X`` from the first ``k`` code units,
        ``k = 0..n_components_`` (:func:`_ordered.r2_by_width`); ``errors``: their
        :meth:`_errors_by_width`, when already measured."""
        errors = self._errors_by_width(X, rows) if errors is None else errors
        return _ordered.r2_by_width(errors.sum(axis=0), X[rows], X, self.missing)

    def _cut(self, width):
        """Keep the first ``width`` units of the code (:func:`_ordered.cut`). The ratings
        model keeps at least two: its first unit is the row offset, the network starts after it."""
        if isinstance(self.module_, ObservedOffsetsModule):
            width = max(width, min(2, self.n_components_))
        if width == self.n_components_:
            return
        self.n_components_ = width
        self.module_ = _ordered.cut(self.module_, self._new_module(self.device_))
        self._optimizer_state = self._optimizer_settings = None
        self._float64_module = None

    def _new_module(self, device):
        """A module of the recorded architecture and ``n_components_``, on ``device``
        (weights to be loaded; ``None``: left on ``meta``, shapes only). Built from the
        parameters recorded at fit, which ``set_params`` may have changed since."""
        builder = self
        if any(_architecture_value(name, getattr(self, name)) != _architecture_value(name, value)
               for name, value in self._architecture.items()):
            builder = clone(self).set_params(**{k: _as_param(v) for k, v in self._architecture.items()})
            builder.n_components_ = self.n_components_
        module = builder._build_network(self.n_features_in_)
        return module if device is None else reset_parameters(module, torch.Generator(device=device), device)

    def _build_network(self, n_features):
        """:meth:`_build_module`, with the affine path of ``init='pca'`` beside it (not beside
        the offsets of ``missing='mask'``, which are that model's own start)."""
        module = self._build_module(n_features)
        if not self._pca_init(n_features) or isinstance(module, ObservedOffsetsModule):
            return module
        return build_anchored_autoencoder(module, n_features, self.n_components_,
                                          code_activation=self._code_activation() is not None)

    def _pca_init(self, n_features):
        """Whether ``init`` starts at PCA: ``'pca'``, or ``'auto'`` when the code is narrower
        than the input or ordered (every prefix of an ordered code is narrower; otherwise
        ``n_components >= n_features`` makes that PCA the identity)."""
        if self.init == "auto":
            return self._is_ordered() or self.n_components_ < n_features
        return self.init == "pca"

    def _starts_at_pca(self):
        return hasattr(self.module_, "affine")

    #: Fewest held-out rows that set ``offset_``; below that, all the rows passed to fit do.
    _MIN_CALIBRATION_ROWS = 20

    def _calibrate(self, X, heldout):
        """Set what the scores need: the code term's statistics (:meth:`_fit_code_term`), then
        ``offset_``, measured on rows the network did not train on (the held-out rows; all of
        ``X`` when fewer than 20 are held out). When the code term measured every row of ``X``,
        those measurements give the scores too: one pass over the rows, not two. Rows with
        nothing observed (``missing='mask'``) score NaN meanwhile and are left out, not
        counted at an earlier ``offset_``."""
        self.__dict__.pop("offset_", None)
        measured = self._fit_code_term(X)
        rows = self._calibration_rows(heldout)
        if measured is None:
            scores = self._score_samples(X[rows])
        else:
            values = torch.from_numpy(measured[rows])  # errors and codes, in the network's dtype
            scores = self._finish_scores(X[rows], self._minus_code_term(-values[:, 0], values[:, 1:]).numpy())
        self.offset_ = self._offset(scores)

    #: Most rows (a seeded random subset of the rows passed to fit) that the code term is fitted on.
    _CODE_TERM_ROWS = 10000

    def _fit_code_term(self, X):
        """Fit the code term of :meth:`score_samples` on the rows of ``X`` (at most
        :data:`_CODE_TERM_ROWS` of them): the centre and scaled precision of their codes
        (:func:`_codes.fit_code_term`); with :meth:`partial_fit`, of the chunk (as
        ``offset_``), unless it has no more rows than code units. Variants whose score is
        not the reconstruction error alone leave it out (:attr:`_scores_codes`).

        Returns the reconstruction errors (first column) and codes of every row of ``X``,
        in the network's dtype, when it measured them all; else None."""
        if not self._scores_codes:
            return None
        fitted = getattr(self, "_code_precision", None)
        if X.shape[0] <= self.n_components_ and fitted is not None and len(fitted) == self.n_components_:
            return None  # a partial_fit chunk too small to estimate them: keep the last chunk's
        every_row = X.shape[0] <= self._CODE_TERM_ROWS
        if not every_row:
            rng = np.random.default_rng(self._seed)
            X = X[np.sort(rng.choice(X.shape[0], self._CODE_TERM_ROWS, replace=False))]

        def errors_and_codes(module, batch):
            feature_scores, codes = self._scored_codes(module, batch)
            return torch.cat([-feature_scores.sum(dim=1, keepdim=True), codes], dim=1)

        values = self._map_batches(X, errors_and_codes)
        measured = values.astype(np.float64)
        self._code_center, self._code_precision = fit_code_term(measured[:, 1:], measured[:, 0])
        return values if every_row else None

    #: Whether :meth:`score_samples` adds the code term to the reconstruction error.
    _scores_codes = True

    def _calibration_rows(self, heldout):
        """Which rows set ``offset_``: ``heldout`` (not trained on); all (a slice) when there
        are fewer than 20."""
        return slice(None) if len(heldout) < self._MIN_CALIBRATION_ROWS else heldout

    def _offset(self, scores):
        """Threshold on the scores of held-out rows below which a row is an outlier."""
        scores = scores[np.isfinite(scores)]
        if scores.size == 0:
            return 0.0
        if self.contamination == "auto":
            # Tukey's lower fence: no assumed contamination rate
            q1, q3 = np.percentile(scores, [25.0, 75.0])
            return float(q1 - 1.5 * (q3 - q1))
        # the k-th lowest of n held-out scores, k = c (n + 1): an expected share c of new rows below it
        return float(np.percentile(scores, 100.0 * self.contamination, method="weibull"))

    # ------------------------------------------------------------------
    # Inference: streamed in chunks, in the input's floating dtype
    # ------------------------------------------------------------------
    def _module_in(self, dtype):
        """``module_`` in ``dtype``: itself, or a float64 copy kept until the weights change."""
        module = self.module_
        if next(module.parameters()).dtype == dtype:
            return module
        key = (id(module), tuple(t._version for t in module.state_dict(keep_vars=True).values()))
        cached = getattr(self, "_float64_module", None)
        if cached is None or cached[0] != key:
            cached = self._float64_module = (key, copy.deepcopy(module).to(dtype))
        return cached[1]

    def _chunk_rows(self, X):
        """Rows per inference chunk: what ``sklearn.get_config()['working_memory']`` allows
        for the network's activations, at most :data:`_CACHE_ROWS`."""
        widths = self.n_features_in_ * 3 + self.n_components_ + 2 * sum(self._hidden_sizes())
        return min(_CACHE_ROWS, get_chunk_n_rows(row_bytes=X.dtype.itemsize * widths, max_n_rows=X.shape[0]))

    def _map_batches(self, X, fn):
        """``fn(module, batch)`` over chunks of the rows of ``X``, as a numpy array.

        Runs in float64 when ``X`` is float64 (on a float64 copy of the
        module), so that results depend neither on the chunk size nor on the
        other rows of ``X``.
        """
        dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        module = self._module_in(dtype)
        module.eval()
        out = None
        chunk = self._chunk_rows(X)
        advice = (f"during inference; it runs {chunk} rows at a time: lower "
                  "sklearn.set_config(working_memory=...) (in MB), ")
        threads = self._threads(min(X.shape[0], chunk), False)
        with torch.inference_mode(), torch_threads(threads), out_of_memory_hint(
                type(self).__name__, self.device_, advice):
            for rows in gen_batches(X.shape[0], chunk):
                result = fn(module, self._to_tensor(X[rows], dtype)).cpu().numpy()
                if out is None:
                    out = np.empty((X.shape[0],) + result.shape[1:], dtype=result.dtype)
                out[rows] = result
        return out

    def _score_samples(self, X):
        """:meth:`score_samples` of validated ``X``, as float64.

        With ``missing='mask'`` a row with no observed entry carries no evidence
        either way: it scores ``offset_`` (NaN inside :meth:`fit`, before ``offset_``
        exists, and left out of it).
        """
        return self._finish_scores(X, self._map_batches(X, self._row_scores))

    def _finish_scores(self, X, scores):
        """The per-row ``scores`` of validated ``X`` as :meth:`_score_samples` returns them."""
        scores = scores.astype(np.float64, copy=False)
        if self.missing == "mask":
            empty = self._rows_without_observations(X)
            scores[empty] = getattr(self, "offset_", np.nan)
        if not np.isfinite(scores[~np.isnan(scores)]).all():
            warnings.warn(
                f"{np.count_nonzero(np.isinf(scores))} score(s) overflowed to -inf: those rows are "
                "too far from the training data to be scored in floating point. Scale X like the "
                "training data.",
                RuntimeWarning,
            )
        return scores

    @staticmethod
    def _rows_without_observations(X):
        """Boolean mask of the rows of ``X`` whose entries are all unobserved (NaN or unstored)."""
        if sp.issparse(X):
            observed = X.copy()
            observed.data = (~np.isnan(observed.data)).astype(np.int8)
            observed.eliminate_zeros()
            return np.diff(observed.indptr) == 0
        return np.isnan(X).all(axis=1)

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
        return self._map_batches(X, self._encode)

    def _encode(self, module, batch):
        """Codes of a batch (inference). A plain MLP encoder runs as bare ``addmm`` with
        in-place activations: the same operations as ``module.encode``, less memory traffic."""
        batch = self._module_input(module, batch)
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
        return self._map_batches(X, lambda module, batch: module.output(module.decode(batch)))

    def score_samples(self, X):
        """Per-row normality score: higher is more normal.

        Minus the sum of two terms: the row's mean reconstruction error
        (squared error for ``loss='mse'``, binary cross-entropy for
        ``loss='bce'``), which is large off the surface the model
        reconstructs, and a code term, which is large on that surface but far
        from the training data: the squared Mahalanobis distance of the row's
        code from the codes of the rows passed to ``fit``, scaled so that the
        median of those rows' code terms equals the median of their
        reconstruction errors. :class:`~sklearn.decomposition.PCA`'s
        ``score_samples`` likewise adds the distance within its subspace to
        the residual. :meth:`score_features` splits the reconstruction term by
        feature.

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

    def score_features(self, X):
        """Per-feature terms of :meth:`score_samples`: which features make a row abnormal.

        Entry ``(i, j)`` is minus feature ``j``'s share of the reconstruction
        error of row ``i``, so each row sums to the reconstruction term of
        ``score_samples(X)[i]``, without its code term (for
        :class:`~skautoencoder.VariationalAutoencoder`, to the reconstruction
        term of its ELBO, without the KL term). Higher is more normal; the
        most negative entry of a row names the feature that the model
        reconstructs worst. With ``missing='mask'``, unobserved entries
        are 0 (and a row with no observed entry, which scores ``offset_``,
        has only zeros).

        The terms are on the scale the model scores: for a pipeline with a
        scaler, that of the scaled features (call it on the last step with
        ``pipe[:-1].transform(X)``, or draw it with
        :class:`~skautoencoder.plotting.OutlierExplanationDisplay`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray or DataFrame of shape (n_samples, n_features_in_), dtype float64
            The per-feature scores; a pandas or polars DataFrame whose columns
            are the input feature names under
            ``set_output(transform="pandas")`` (or ``"polars"``).
        """
        check_is_fitted(self)
        X_valid = self._validate_X(X, reset=False)
        scores = self._map_batches(X_valid, self._feature_scores).astype(np.float64, copy=False)
        adapter = _get_container_adapter("transform", self)
        if adapter is None:
            return scores
        return adapter.create_container(scores, X, columns=_check_feature_names_in(self), inplace=False)

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

    @deprecated("validation_scores_ was renamed validation_loss_curve_ (it holds losses, not "
                "scores) in 0.1 and will be removed in 0.3.")
    @property
    def validation_scores_(self):
        """Deprecated name of ``validation_loss_curve_``."""
        return self.validation_loss_curve_

    # ------------------------------------------------------------------
    # Fitted state: one representation for pickling, save/load and skops
    # ------------------------------------------------------------------
    @classmethod
    def _declared_attributes(cls):
        """``_fitted_attributes`` of the class and its bases, merged."""
        declared = {}
        for klass in reversed(cls.__mro__):
            declared.update(vars(klass).get("_fitted_attributes", {}))
        return declared

    def _drop_optional_attributes(self):
        """Forget the declared optional fitted attributes ("?"), which not every fit sets."""
        for name, kind in self._declared_attributes().items():
            if kind.endswith("?"):
                self.__dict__.pop(name, None)

    def _fitted_state(self):
        """The fitted state as plain values and numpy arrays (see :meth:`_restore_fitted_state`)."""
        attributes = {
            name: getattr(self, name) if kind.rstrip("?") in _state.ARRAY_KINDS
            else _state.to_numpy(_plain(getattr(self, name)))
            for name, kind in self._declared_attributes().items() if hasattr(self, name)
        }
        optimizer = None
        if self._optimizer_state is not None:
            optimizer = {"settings": list(self._optimizer_settings), "state": _state.to_numpy(self._optimizer_state)}
        names = getattr(self, "feature_names_in_", None)
        return {
            "attributes": attributes,
            "feature_names_in_": None if names is None else [str(n) for n in names],
            "device_": str(self.device_),
            "seed": self._seed,
            "architecture": dict(self._architecture),
            "weights": {k: v.detach().cpu().numpy() for k, v in self.module_.state_dict().items()},
            "optimizer": optimizer,
        }

    @with_autograd  # a module read inside inference mode must still infer in float64 and train
    def _restore_fitted_state(self, state, device=None):
        """Set the fitted attributes from ``state`` (of :meth:`_fitted_state`), after
        checking every field (:mod:`skautoencoder._state`): kind, shape, finiteness,
        consistency. A ValueError names the first field that is wrong; nothing is set then.

        ``device``: where to put the module (already resolved); ``None`` puts it on
        the recorded device when available here, else CUDA or the CPU, with a warning.
        """
        fitted, architecture, seed = _state.check_fields(state, self._declared_attributes(),
                                                         self._architecture_params)
        device = device if device is not None else restore_device(state["device_"], type(self).__name__)
        probe = clone(self)  # builds the network as recorded, whatever the parameters say now
        probe.__dict__.update(fitted, _architecture=architecture)
        try:
            module = probe._new_module(None)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"architecture {architecture} does not build a network: {exc}") from None
        optional = getattr(module, "OPTIONAL_STATE", ())  # missing: as reset
        weights = _state.check_weights(state["weights"], module.state_dict(), optional)  # before allocating any
        module = reset_parameters(module, torch.Generator(device=device), device)
        module.load_state_dict(weights, strict=not optional)
        optimizer_state, settings = _state.check_optimizer(state["optimizer"], list(module.parameters()),
                                                           OPTIMIZERS, device)
        self._drop_optional_attributes()
        self.__dict__.pop("feature_names_in_", None)
        self.__dict__.update(fitted)
        self.device_ = device
        self.module_ = module
        self._seed = seed
        self._architecture = architecture
        self._optimizer_state, self._optimizer_settings = optimizer_state, settings
        self._float64_module = None

    def __getstate__(self):
        params = self.get_params(deep=False)
        state = {name: value for name, value in super().__getstate__().items()  # parameters and
                 if name in params or name.startswith("_sklearn") or name == "_metadata_request"}  # sklearn config
        if hasattr(self, "module_"):
            state["_fitted_state"] = self._fitted_state()
        return state

    def __setstate__(self, state):
        state = dict(state)
        fitted = state.pop("_fitted_state", None)
        super().__setstate__(state)
        if fitted is not None:
            self._restore_fitted_state(fitted)

    def save(self, path):
        """Write the fitted estimator to a file that loads without unpickling.

        The file holds the parameters and the fitted state (plain values as JSON
        text, arrays as tensors), the ``set_output`` configuration, and the
        versions of skautoencoder, torch and scikit-learn that wrote it. Read it back with
        :func:`skautoencoder.load`, which uses ``torch.load(weights_only=True)``
        and validates every field, so loading a file cannot run code (unlike
        pickle or joblib, which also work). To save a whole pipeline safely, use
        ``skops.io`` (see the persistence guide).

        Parameters
        ----------
        path : str or path-like
            Where to write.

        Returns
        -------
        self : object
            The estimator.
        """
        check_is_fitted(self)
        params = {name: _plain(value) for name, value in self.get_params(deep=False).items()}
        if isinstance(params.get("device"), torch.device):
            params["device"] = str(params["device"])
        if not isinstance(params.get("random_state"), (int, type(None))):
            params["random_state"] = None  # a generator's state is not a parameter worth keeping
        _persistence.write(path, type(self).__name__, params, self._fitted_state(),
                           getattr(self, "_sklearn_output_config", None))
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
