"""The sections of documentation every estimator shares, written once.

:func:`fill_doc` puts them into a variant's docstring, so that six docstrings
do not repeat (and drift from) one text.
"""

import inspect
import re

__all__ = ["fill_doc"]

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
        fraction; the result is ``n_components_``. Started at PCA
        (``init``), it keeps instead as many units as
        ``PCA(n_components=fraction)`` keeps (the fewest components that
        explain that fraction of the training rows' variance), or fewer when
        fewer reconstruct those held-out rows better than that PCA by more
        than two standard errors: never more units than PCA. When no size
        reaches it, a warning says so and every unit is kept.

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
        (0, 0.5] is the expected proportion of outliers: ``offset_`` is that
        percentile of the scores of the held-out rows (the
        ``validation_fraction`` split, which the network did not train on),
        so that about that share of *new* rows like them is flagged. ``'auto'``
        assumes no rate: a row is an outlier when its score falls below Tukey's
        lower fence of those scores, ``Q1 - 1.5 * (Q3 - Q1)``. Without held-out
        rows (``early_stopping=False`` with an int ``n_components``, fewer
        than 20 held-out rows, or :meth:`partial_fit`) the training rows'
        scores are used, which a network reconstructs better than new rows:
        the threshold then flags more than the rate on new data.

    device : str or torch.device, default='auto'
        Where to train and infer: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...;
        ``'auto'`` picks CUDA when available. A device that is not available
        is an error at :meth:`fit`; a fitted model unpickled or loaded where
        its device is missing moves to CUDA or the CPU with a warning. On the
        CPU the number of torch threads follows the work, within your limits;
        ``with skautoencoder.nn.torch_threads(n):`` fixes it (see :ref:`threads`).

    missing : {'zero', 'mask'}, default='zero'
        What an entry that is not there means. ``'zero'``: the unstored
        entries of a sparse ``X`` are zeros, and NaN is an error.
        ``'mask'``: unstored entries of a sparse ``X`` and NaN entries of a
        dense ``X`` are unobserved: left out of the loss and of the scores
        (means over the observed entries of each row). Predictions for every
        entry come from ``inverse_transform(transform(X))``; with
        ``loss='mse'`` and ``n_components >= 2`` the model is built for
        ratings (:class:`~skautoencoder.nn.ObservedOffsetsModule`): column
        offsets from the observed entries (global mean plus item biases), the
        row's own offset as the first code unit (the user bias), and a network
        of what is left, trained to predict a random quarter of each row's
        observed entries from the rest. An unobserved entry is then predicted
        as "the item's average for this user" plus the user's tastes, never
        as 0. Otherwise unobserved entries are fed to the encoder as zeros.
        See :func:`~skautoencoder.recommend`.

    trim_fraction : float in [0, 1), default=0.0
        Fraction of the rows of each training batch with the highest loss
        that are left out of that batch's loss (a trimmed loss). Outliers in
        the training data then barely shape the model, which makes it a
        better outlier detector (measured in the outlier detection guide;
        :class:`~skautoencoder.AutoencoderOutlierDetector` trims 0.2 by default).
        Validation losses and scores are not trimmed.

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
        is a float. With ``init='pca'`` the code starts as PCA's, whose
        prefixes are PCA's with fewer components, and each width's loss is
        weighted by PCA's training error at that width to the power -1/2,
        plus the whole code's loss alike, so that the small widths' large
        losses do not pull the wide prefixes below PCA.

    init : {'auto', 'pca', 'random'}, default='auto'
        How the network starts (the default is ``'auto'`` for
        :class:`Autoencoder`, :class:`ContractiveAutoencoder` and
        :class:`SparseAutoencoder`, and ``'random'`` for the other variants,
        whose docstrings say why).
        ``'auto'``: ``'pca'`` when the code is narrower than the input
        (``n_components < n_features``) or ordered (``ordered=True`` or a
        fractional ``n_components``: each prefix is a narrower code), else
        ``'random'``: with as many code units as features, PCA is the
        identity map and a network that starts there has nothing to learn
        (as :class:`~sklearn.decomposition.NMF`'s default ``init`` falls back
        to a random start when ``n_components`` exceeds the data's size).
        ``'pca'``: beside the encoder and decoder
        MLPs runs an affine path, ``encode(x) = (x - mean) @ W_e + g(x)``
        and ``decode(z) = mean + z @ W_d + h(z)``, that starts as the PCA of
        the training rows (never the validation rows), with the last layers
        of the MLPs ``g`` and ``h`` at zero: before training,
        :meth:`transform` and :meth:`inverse_transform` are PCA's (to float32
        rounding; with ``loss='bce'`` the decoder starts at PCA linearised
        through the sigmoid). Everything trains from there, and with early
        stopping the start counts as epoch 0 of the best-weight restore (a
        trained epoch replaces it only when it validates better by more
        than two standard errors), so
        the validation loss never ends above the start's; when the start is
        kept, the plain model becomes the PCA of all the rows
        (``PCA(n_components).fit(X)``). For the plain
        model (and the denoising one, whose validation loss is clean), the
        validation MSE never ends above PCA's (see the user guide, "Never
        worse than PCA"). For codes of one or two units
        (not ordered), ``fit`` also trains from the random start (exactly
        ``init='random'``'s fit) and keeps whichever validates better: the
        best such code is far from PCA's. With ``missing='mask'``,
        ``loss='mse'`` and two or more units the network starts from its
        column and row offsets instead, and ``init`` changes nothing.
        ``'random'``: random initialisation only, as before ``init`` existed.""",
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
        The trained network (:class:`skautoencoder.nn.AutoencoderModule`;
        with ``init='pca'``, :class:`skautoencoder.nn.AnchoredAutoencoderModule`).

    n_iter_ : int
        Number of epochs run, over all calls to :meth:`fit` (with
        ``warm_start``) and :meth:`partial_fit`.

    loss_curve_ : list of float
        Mean training loss of each epoch.

    validation_loss_curve_ : list of float
        Validation loss of each epoch (same objective as ``loss_curve_``,
        lower is better); empty without early stopping. (Called
        ``validation_scores_`` before; that name is deprecated.)

    best_loss_ : float
        Lowest monitored loss of the last :meth:`fit` (validation loss with
        early stopping, training loss otherwise); after :meth:`partial_fit`,
        the lowest training loss of all the epochs in ``loss_curve_``.

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
    ``%(shared_attributes)s``, each on a line of its own followed by the next
    entry or section; other ``%`` characters are left alone. A shared
    parameter whose default differs in ``cls`` (e.g. the convolutional
    variant's ``hidden_layer_sizes=()``) is documented with ``cls``'s default.
    """
    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}

    def own_default(match):
        default = defaults.get(match.group(1), inspect.Parameter.empty)
        if default is inspect.Parameter.empty:
            return match.group(0)
        if isinstance(default, float):  # keep the written form (1e-3) of an unchanged float
            try:
                if float(match.group(2)) == default:
                    return match.group(0)
            except ValueError:
                pass
        return f"{match.group(0)[:match.start(2) - match.start(0)]}{default!r}"

    for key, text in _SHARED_DOCS.items():
        text = re.sub(r"(?m)^    (\w+) : .*, default=(.*)$", own_default, text)
        cls.__doc__ = cls.__doc__.replace(f"%({key})s\n", text + "\n\n")
    return cls
