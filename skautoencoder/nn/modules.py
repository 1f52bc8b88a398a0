"""Torch building blocks of the autoencoders: MLP and convolutional encoders and
decoders, the top-k code activation and the Gaussian latent head.

Pure PyTorch: nothing here imports scikit-learn or validates numpy input, so a
PyTorch user can take these modules as they are.

Parameters are created on the ``meta`` device and initialised by
:func:`reset_parameters` from an explicit :class:`torch.Generator`, so that
building a module never draws from (or advances) torch's global random state.
"""

import math

import torch
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "AffinePath",
    "AnchoredAutoencoderModule",
    "AnchoredSparseModule",
    "AnchoredVariationalModule",
    "AutoencoderModule",
    "ObservedOffsetsModule",
    "TopK",
    "VariationalModule",
    "build_anchored_autoencoder",
    "build_conv_autoencoder",
    "build_mlp_autoencoder",
    "build_variational_autoencoder",
    "reset_parameters",
    "set_affine_start",
]

#: Hidden activations by name (scikit-learn's ``MLPRegressor`` names first).
ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}


class MLP(nn.Sequential):
    """Fully connected layers with an activation between them.

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output, e.g. ``(64, 128, 8)`` is two linear layers.
    activation : str, default="relu"
        Key of :data:`ACTIVATIONS`, applied after every layer but the last.
    device : torch.device or str, default="meta"
        Where the parameters are created. On ``"meta"`` they hold no memory
        until :meth:`torch.nn.Module.to_empty` and :func:`reset_parameters`.
    """

    def __init__(self, sizes, activation="relu", device="meta"):
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i > 0:
                layers.append(ACTIVATIONS[activation]())
            layers.append(nn.Linear(n_in, n_out, device=device))
        super().__init__(*layers)


class AutoencoderModule(nn.Module):
    """An encoder and a decoder, with an optional output activation.

    ``decode`` returns the decoder's raw output (logits when
    ``output_activation="sigmoid"``), which is what the losses of
    :mod:`skautoencoder.nn.losses` take; ``reconstruct`` applies the output
    activation and returns rows in input space.

    Parameters
    ----------
    encoder, decoder : torch.nn.Module
        Maps from input space to codes and back.
    output_activation : {"identity", "sigmoid"}, default="identity"
        Applied by :meth:`reconstruct` to the decoder's output.
    """

    def __init__(self, encoder, decoder, output_activation="identity"):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.output_activation = output_activation

    def encode(self, x):
        """Codes of the rows of ``x``."""
        return self.encoder(x)

    def decode(self, z):
        """Raw decoder output (logits for a sigmoid output) of codes ``z``."""
        return self.decoder(z)

    def output(self, raw):
        """Apply the output activation to raw decoder output."""
        return torch.sigmoid(raw) if self.output_activation == "sigmoid" else raw

    def reconstruct(self, x):
        """Rows of ``x`` passed through the encoder, decoder and output activation."""
        return self.output(self.decode(self.encode(x)))

    def forward(self, x):
        """Raw reconstruction of ``x`` (see :meth:`decode`)."""
        return self.decode(self.encode(x))


def build_mlp_autoencoder(n_features, hidden_layer_sizes, n_components, activation="relu",
                          output_activation="identity", code_activation=None):
    """An :class:`AutoencoderModule` of two mirrored :class:`MLP` on ``meta``.

    The encoder maps ``n_features -> *hidden_layer_sizes -> n_components``; the
    decoder mirrors it back to ``n_features``. The code layer is linear unless
    ``code_activation`` (a module, e.g. :class:`TopK`) is given.
    """
    sizes = (n_features, *hidden_layer_sizes, n_components)
    encoder = MLP(sizes, activation)
    if code_activation is not None:
        encoder.append(code_activation)
    return AutoencoderModule(encoder, MLP(sizes[::-1], activation), output_activation)


class ObservedOffsetsModule(nn.Module):
    """An autoencoder for rows with unobserved entries (NaN), e.g. user x item ratings.

    What a rating model needs is built in, so that the network learns only
    what the offsets leave: each column has an offset (for ratings, the global
    mean plus the item bias, set by :meth:`set_offsets` from the observed
    entries), and each row has its own offset, the shrunken mean of its
    observed deviations, ``sum(x - column_offset) / (n_observed + shrinkage)``
    (the user bias). The first code unit *is* that row offset; the other
    units are the codes of ``inner``, an autoencoder of the row's deviations
    from both offsets. An unobserved entry is predicted as column offset plus
    row offset (times ``1 + row_loading``, a learned per-column parameter
    that starts at 0) plus what ``inner`` adds, never 0.

    Regularisation for very sparse rows and columns: ``inner`` reads each row
    divided by its number of observed entries (plus ``shrinkage``; times the
    mean count of the training rows), so rows with few and many entries give
    codes of one scale; and column ``j`` enters and leaves ``inner`` weighted
    by ``n_j / (n_j + evidence)``, ``n_j`` its number of observed training
    entries, so that columns seen a few times stay close to their offsets.

    Parameters
    ----------
    inner : AutoencoderModule or None
        The network of the deviations (``n_components - 1`` code units), or
        None for offsets only (one code unit).
    n_features : int
    shrinkage : float, default=5.0
        Ridge shrinkage of the row offsets (in observed entries).
    evidence : float, default=20.0
        Observed entries at which a column counts half (see above).
    device : torch.device or str, default="meta"
    """

    def __init__(self, inner, n_features, shrinkage=5.0, evidence=20.0, device="meta"):
        super().__init__()
        self.inner = inner
        self.shrinkage = shrinkage
        self.evidence = evidence
        self.register_buffer("column_offset", torch.empty(n_features, device=device))
        self.register_buffer("column_weight", torch.empty(n_features, device=device))
        self.register_buffer("row_scale", torch.empty((), device=device))
        self.row_loading = nn.Parameter(torch.empty(n_features, device=device))

    @torch.no_grad()
    def reset_parameters(self):
        """Offsets and loadings 0, weights 1 (deterministic); :meth:`set_offsets` sets them from data."""
        self.column_offset.zero_()
        self.column_weight.fill_(1.0)
        self.row_scale.fill_(1.0)
        self.row_loading.zero_()

    @torch.no_grad()
    def set_offsets(self, column_offset, column_count, row_count=None):
        """Set the column offsets, the column weights from the observed entries per column
        (``column_count``) and the row scale from the mean observed entries per row
        (``row_count``; None keeps it: a scale the network has learnt to read)."""
        self.column_offset.copy_(torch.as_tensor(column_offset))
        count = torch.as_tensor(column_count, dtype=self.column_weight.dtype)
        self.column_weight.copy_(count / (count + self.evidence))
        if row_count is not None:
            self.row_scale.fill_(float(row_count) + self.shrinkage)

    def encode(self, x):
        """Codes of the rows of ``x`` (NaN = unobserved): the row offset, then ``inner``'s codes."""
        observed = ~torch.isnan(x)
        deviation = torch.where(observed, x - self.column_offset, 0.0)
        n_observed = observed.sum(dim=1, keepdim=True).to(x.dtype)
        row_offset = deviation.sum(dim=1, keepdim=True) / (n_observed + self.shrinkage)
        if self.inner is None:
            return row_offset
        residual = torch.where(observed, deviation - row_offset, 0.0)
        scaled = residual * (self.row_scale / (n_observed + self.shrinkage)) * self.column_weight
        return torch.cat([row_offset, self.inner.encode(scaled)], dim=1)

    def decode(self, z):
        """Predicted rows of codes ``z``."""
        out = self.column_offset + z[:, :1] * (1.0 + self.column_weight * self.row_loading)
        if self.inner is None:
            return out
        return out + self.column_weight * self.inner.decode(z[:, 1:])

    def output(self, raw):
        """The identity: :meth:`decode` already gives rows in input space."""
        return raw

    def reconstruct(self, x):
        """Rows of ``x`` passed through the encoder and the decoder."""
        return self.decode(self.encode(x))

    def forward(self, x):
        """Reconstruction of ``x`` (see :meth:`decode`)."""
        return self.decode(self.encode(x))


class TopK(nn.Module):
    """Keep the ``k`` values of largest magnitude in each row, with their signs; zero the rest.

    The activation of k-sparse autoencoders (Makhzani and Frey, 2013): every
    row has at most ``k`` non-zero codes (exactly ``k`` unless some of them
    are exactly zero). Signed codes, as in sparse coding, let a sparse code
    start at PCA's (:class:`AnchoredSparseModule`).
    """

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        """Row-wise top-``k`` of ``x`` by magnitude."""
        if self.k >= x.shape[1]:
            return x
        indices = x.abs().topk(self.k, dim=1).indices
        return torch.zeros_like(x).scatter(1, indices, x.gather(1, indices))

    def extra_repr(self):
        return f"k={self.k}"


class VariationalModule(AutoencoderModule):
    """Encoder with a Gaussian latent head, and a decoder (a VAE).

    ``posterior(x)`` returns the mean and log-variance of ``q(z | x)``;
    ``encode(x)`` returns the mean alone, so codes are deterministic. The
    decoder models ``p(x | z)`` with a learned observation scale per feature,
    ``log_scale`` (used by Gaussian likelihoods), read through
    :meth:`observation_log_scale`, which floors it at the buffer
    ``log_scale_min`` (same shape): a feature that the decoder predicts exactly
    (a constant one) would otherwise drive its likelihood to infinity. The
    buffers ``input_shift`` and ``input_scale`` (same shape; 0 and 1 until set,
    e.g. to the data's means and standard deviations) standardise what the
    encoder's MLP reads and scale back what the decoder's MLP writes
    (:meth:`scaled`, :meth:`decode`).

    Parameters
    ----------
    body : torch.nn.Module
        Shared encoder layers, ending in an activation (or the identity).
    n_body, n_components : int
        Width of the body's output and of the latent space.
    decoder : torch.nn.Module
    output_activation : {"identity", "sigmoid"}
    device : torch.device or str, default="meta"
    n_features : int, optional
        Number of observation scales; one shared scale when None.
    """

    def __init__(self, body, n_body, n_components, decoder, output_activation="identity", device="meta",
                 n_features=None):
        super().__init__(body, decoder, output_activation)
        self.mean = nn.Linear(n_body, n_components, device=device)
        self.log_var = nn.Linear(n_body, n_components, device=device)
        self.log_scale = nn.Parameter(torch.zeros(() if n_features is None else (n_features,), device=device))
        self.register_buffer("log_scale_min", torch.zeros(self.log_scale.shape, device=device))
        self._register_scaling(device)

    def _register_scaling(self, device):
        """The buffers ``input_shift`` and ``input_scale`` (one per observation scale)."""
        self.register_buffer("input_shift", torch.zeros(self.log_scale.shape, device=device))
        self.register_buffer("input_scale", torch.ones(self.log_scale.shape, device=device))

    def reset_parameters(self):
        """Unit observation scales, floored at ``1e-4``, and no scaling; the layers initialise
        themselves."""
        with torch.no_grad():
            self.log_scale.zero_()
            self.log_scale_min.fill_(math.log(1e-4))
            self.input_shift.zero_()
            self.input_scale.fill_(1.0)

    def scaled(self, x):
        """What the encoder's MLP reads of ``x``: ``(x - input_shift) / input_scale``. Its
        decoder's output is scaled back (:meth:`decode`), so that the networks work in units
        of the data's spread whatever the data's own units; the identity by default."""
        return (x - self.input_shift) / self.input_scale

    def observation_log_scale(self):
        """``log_scale``, floored at ``log_scale_min``."""
        return torch.maximum(self.log_scale, self.log_scale_min)

    #: Entries of the state dict that a module saved by an earlier version lacks; loading
    #: leaves them as :meth:`reset_parameters` sets them (no scaling).
    OPTIONAL_STATE = ("input_shift", "input_scale")

    #: Range of the posterior's log-variance (standard deviations from ``exp(-15)`` to
    #: ``exp(10)``): on unscaled data (values in the thousands) the first steps gave
    #: log-variances whose ``exp`` overflowed float32, and a NaN loss.
    LOG_VAR_RANGE = (-30.0, 20.0)

    def posterior(self, x):
        """Mean and log-variance (in :attr:`LOG_VAR_RANGE`) of the Gaussian posterior of the
        codes of ``x``."""
        h = self.encoder(self.scaled(x))
        return self.mean(h), self.log_var(h).clamp(*self.LOG_VAR_RANGE)

    def encode(self, x):
        """Posterior mean."""
        return self.mean(self.encoder(self.scaled(x)))

    def decode(self, z):
        """Raw decoder output of codes ``z``, in the data's units (see :meth:`scaled`)."""
        return self.input_shift + self.input_scale * self.decoder(z)


def build_variational_autoencoder(n_features, hidden_layer_sizes, n_components, activation="relu",
                                  output_activation="identity"):
    """A :class:`VariationalModule` with mirrored MLPs and one observation scale per feature, on ``meta``."""
    body = MLP((n_features, *hidden_layer_sizes), activation)
    if hidden_layer_sizes:
        body.append(ACTIVATIONS[activation]())
    decoder = MLP((n_components, *hidden_layer_sizes[::-1], n_features), activation)
    n_body = hidden_layer_sizes[-1] if hidden_layer_sizes else n_features
    return VariationalModule(body, n_body, n_components, decoder, output_activation, n_features=n_features)


class AnchoredVariationalModule(VariationalModule):
    """A :class:`VariationalModule` whose posterior mean and decoder have an
    :class:`AffinePath` beside them: ``mean(x) = affine.encode(x) +
    mean_head(body(x))`` and ``decode(z) = affine.decode(z) + decoder(z)``;
    the log-variance head is the usual one.

    After :func:`set_affine_start` the posterior mean is PCA's code and the
    decoder PCA's ``inverse_transform``.

    Parameters
    ----------
    body : torch.nn.Module
    mean, log_var : torch.nn.Linear
        The heads of the posterior's mean (residual) and log-variance.
    decoder : torch.nn.Module
    affine : AffinePath
    output_activation : {"identity", "sigmoid"}
    n_features : int or None, default=None
        One observation log-scale per feature, or one for all (None), as in
        :class:`VariationalModule`.
    device : torch.device or str, default="meta"
    """

    def __init__(self, body, mean, log_var, decoder, affine, output_activation="identity", n_features=None,
                 device="meta"):
        nn.Module.__init__(self)
        self.encoder = body
        self.decoder = decoder
        self.output_activation = output_activation
        self.mean = mean
        self.log_var = log_var
        self.log_scale = nn.Parameter(torch.zeros(() if n_features is None else (n_features,), device=device))
        self.register_buffer("log_scale_min", torch.zeros(self.log_scale.shape, device=device))
        self._register_scaling(device)
        self.affine = affine

    def posterior(self, x):
        """Mean (affine plus residual) and log-variance of ``q(z | x)``."""
        mean, log_var = super().posterior(x)
        return self.affine.encode(x) + mean, log_var

    def encode(self, x):
        """Posterior mean."""
        return self.affine.encode(x) + super().encode(x)

    def decode(self, z):
        """Affine plus nonlinear raw decoder output of codes ``z`` (the latter scaled back)."""
        return self.affine.decode(z) + self.input_scale * self.decoder(z)

    def residual_outputs(self):
        """The posterior-mean head and the decoder's last layer."""
        return [self.mean, _last_layer(self.decoder)]


class AffinePath(nn.Module):
    """The affine encoder ``(x - center) @ encoder_weight`` and decoder
    ``decoder_center + z @ decoder_weight`` of a PCA-anchored autoencoder.

    With ``center`` the mean and ``encoder_weight = decoder_weight.T`` the
    principal axes of the data, the two maps are PCA's ``transform`` and
    ``inverse_transform``. Both weights train; the centres are buffers.
    :func:`reset_parameters` zeroes everything; :func:`set_affine_start` sets it.

    Parameters
    ----------
    n_features, n_components : int
    device : torch.device or str, default="meta"
    """

    def __init__(self, n_features, n_components, device="meta"):
        super().__init__()
        self.encoder_weight = nn.Parameter(torch.empty(n_features, n_components, device=device))
        self.decoder_weight = nn.Parameter(torch.empty(n_components, n_features, device=device))
        self.register_buffer("center", torch.empty(n_features, device=device))
        self.register_buffer("decoder_center", torch.empty(n_features, device=device))

    def reset_parameters(self):
        """Zero the weights and centres (deterministic)."""
        with torch.no_grad():
            for tensor in (self.encoder_weight, self.decoder_weight, self.center, self.decoder_center):
                tensor.zero_()

    def encode(self, x):
        """``(x - center) @ encoder_weight``."""
        return (x - self.center) @ self.encoder_weight

    def decode(self, z):
        """``decoder_center + z @ decoder_weight``."""
        return torch.addmm(self.decoder_center, z, self.decoder_weight)


def _last_layer(module):
    """The last submodule of ``module`` that has a weight (a linear or convolutional layer)."""
    layers = [m for m in module.modules() if isinstance(getattr(m, "weight", None), torch.Tensor)]
    return layers[-1]


class AnchoredAutoencoderModule(AutoencoderModule):
    """An :class:`AutoencoderModule` beside an :class:`AffinePath`:
    ``encode(x) = affine.encode(x) + encoder(x)`` and
    ``decode(z) = affine.decode(z) + decoder(z)``.

    After :func:`set_affine_start`, the last layers of ``encoder`` and
    ``decoder`` are zero, so the module is exactly the affine path (PCA when
    given PCA's mean and components); the nonlinear paths grow from there.

    Parameters
    ----------
    encoder, decoder : torch.nn.Module
        The nonlinear residual paths.
    affine : AffinePath
    output_activation : {"identity", "sigmoid"}, default="identity"
    """

    def __init__(self, encoder, decoder, affine, output_activation="identity"):
        super().__init__(encoder, decoder, output_activation)
        self.affine = affine

    def encode(self, x):
        """Affine plus nonlinear codes of the rows of ``x``."""
        return self.affine.encode(x) + self.encoder(x)

    def decode(self, z):
        """Affine plus nonlinear raw decoder output of codes ``z``."""
        return self.affine.decode(z) + self.decoder(z)

    def residual_outputs(self):
        """The last layers of the nonlinear paths (zeroed by :func:`set_affine_start`)."""
        return [_last_layer(self.encoder), _last_layer(self.decoder)]


class AnchoredSparseModule(AnchoredAutoencoderModule):
    """An :class:`AnchoredAutoencoderModule` whose codes pass through a code
    activation after the sum of the two paths:
    ``encode(x) = code_activation(affine.encode(x) + encoder(x))``.

    With :class:`TopK` and the affine path at PCA, the start keeps the ``k``
    principal components of largest magnitude of each row: a sparse code that
    starts close to PCA's reconstruction, not equal to it.

    Parameters
    ----------
    encoder, decoder : torch.nn.Module
        The nonlinear residual paths (no code activation of their own).
    affine : AffinePath
    code_activation : torch.nn.Module
        E.g. :class:`TopK`.
    output_activation : {"identity", "sigmoid"}, default="identity"
    """

    def __init__(self, encoder, decoder, affine, code_activation, output_activation="identity"):
        super().__init__(encoder, decoder, affine, output_activation)
        self.code_activation = code_activation

    def encode(self, x):
        """The code activation of the affine plus nonlinear codes of the rows of ``x``."""
        return self.code_activation(super().encode(x))


def build_anchored_autoencoder(module, n_features, n_components, code_activation=False):
    """The :class:`AutoencoderModule` ``module`` (on ``meta``) with an :class:`AffinePath` beside it.

    ``code_activation``: the last layer of ``module.encoder`` is a code activation (e.g.
    :class:`TopK`, see :func:`build_mlp_autoencoder`); it then acts on the sum of the
    two paths (:class:`AnchoredSparseModule`).
    """
    if code_activation:
        activation = module.encoder[-1]
        del module.encoder[-1]  # it moves after the sum
        return AnchoredSparseModule(module.encoder, module.decoder, AffinePath(n_features, n_components),
                                    activation, module.output_activation)
    if isinstance(module, VariationalModule):
        return AnchoredVariationalModule(
            module.encoder, module.mean, module.log_var, module.decoder, AffinePath(n_features, n_components),
            module.output_activation, n_features if module.log_scale.dim() else None,
        )
    return AnchoredAutoencoderModule(
        module.encoder, module.decoder, AffinePath(n_features, n_components), module.output_activation
    )


@torch.no_grad()
def set_affine_start(module, center, components, decoder_center=None, decoder_components=None):
    """Start an anchored module at an affine autoencoder, e.g. PCA.

    Sets ``affine.center = center``, ``affine.encoder_weight = components.T``
    and the decoder to ``decoder_center + z @ decoder_components`` (by default
    ``center`` and ``components``), and zeroes the weights and biases of the
    last layers of the nonlinear paths: ``module.encode`` and ``module.decode``
    are then exactly the affine maps.

    Parameters
    ----------
    module : AnchoredAutoencoderModule or AnchoredVariationalModule
        Initialised (e.g. by :func:`reset_parameters`).
    center : torch.Tensor of shape (n_features,)
    components : torch.Tensor of shape (n_components, n_features)
        Orthonormal rows (PCA's ``components_``) or any encoder weights.
    decoder_center, decoder_components : torch.Tensor, optional

    Returns
    -------
    module : torch.nn.Module
        The same module.
    """
    affine = module.affine
    decoder_center = center if decoder_center is None else decoder_center
    decoder_components = components if decoder_components is None else decoder_components
    affine.center.copy_(center)
    affine.encoder_weight.copy_(components.T)
    affine.decoder_center.copy_(decoder_center)
    affine.decoder_weight.copy_(decoder_components)
    for layer in module.residual_outputs():
        layer.weight.zero_()
        if getattr(layer, "bias", None) is not None:
            layer.bias.zero_()
    return module


@torch.no_grad()
def reset_parameters(module, generator, device="cpu"):
    """Materialise ``module`` on ``device`` and initialise it from ``generator``.

    Linear and convolutional layers get PyTorch's default initialisation
    (Kaiming-uniform weights with ``a=sqrt(5)``, uniform biases), drawn from
    ``generator`` instead of the global random state. Any other module with a
    ``reset_parameters`` method (norms, :class:`VariationalModule`) must
    initialise deterministically and is reset by that method.

    Parameters
    ----------
    module : torch.nn.Module
        Typically built on the ``meta`` device.
    generator : torch.Generator
        Source of every random draw; must live on ``device``.
    device : torch.device or str, default="cpu"

    Returns
    -------
    module : torch.nn.Module
        The same module, on ``device``.
    """
    # torch.empty by shape, not to_empty: meta tensors' empty_like imports sympy (about 1.5 s) the first time
    module = module._apply(lambda t: torch.empty(t.shape, dtype=t.dtype, device=device))
    done = set()
    for layer in module.modules():
        weight = getattr(layer, "weight", None)
        if isinstance(weight, torch.Tensor) and weight.dim() >= 2:
            fan_in = weight[0].numel()
            # kaiming_uniform_(a=sqrt(5)) as in nn.Linear.reset_parameters
            bound = math.sqrt(6.0 / ((1 + 5) * fan_in)) if fan_in else 0.0
            weight.uniform_(-bound, bound, generator=generator)
            bias = getattr(layer, "bias", None)
            if bias is not None:
                b = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
                bias.uniform_(-b, b, generator=generator)
            done.update(map(id, layer.parameters(recurse=False)))
        elif hasattr(layer, "reset_parameters"):
            layer.reset_parameters()  # deterministic ones: norms, VariationalModule.log_scale
            done.update(map(id, layer.parameters(recurse=False)))
            done.update(map(id, layer.buffers(recurse=False)))
    for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
        if id(tensor) not in done:
            raise ValueError(
                f"reset_parameters cannot initialise {name!r}: give the module that owns it a "
                "reset_parameters method (deterministic), or make it a linear or convolutional layer."
            )
    return module


def build_conv_autoencoder(input_shape, channels, kernel_size, hidden_layer_sizes, n_components,
                           activation="relu", output_activation="identity"):
    """A convolutional :class:`AutoencoderModule` on ``meta``, for flattened rows.

    The encoder unflattens each row to ``input_shape`` = ``(C, L)`` (1-D) or
    ``(C, H, W)`` (2-D), applies one stride-2 convolution per entry of
    ``channels`` (each halving the spatial size, rounding up), flattens, and
    maps to ``n_components`` through dense layers of ``hidden_layer_sizes``.
    The decoder mirrors it with transposed convolutions whose output padding
    restores the exact input size, and returns flattened rows.

    Parameters
    ----------
    input_shape : tuple of int
        ``(C, L)`` or ``(C, H, W)``.
    channels : sequence of int
        Output channels of the encoder's convolutions.
    kernel_size : int
        Odd kernel size (padding ``kernel_size // 2``).
    hidden_layer_sizes : sequence of int
    n_components : int
    activation, output_activation : str
    """
    n_channels, *spatial = input_shape
    conv, conv_t = {1: (nn.Conv1d, nn.ConvTranspose1d), 2: (nn.Conv2d, nn.ConvTranspose2d)}[len(spatial)]
    pad = kernel_size // 2
    sizes = [tuple(spatial)]
    for _ in channels:
        sizes.append(tuple((s - 1) // 2 + 1 for s in sizes[-1]))
    widths = (n_channels, *channels)
    n_flat = widths[-1] * math.prod(sizes[-1])

    encoder = nn.Sequential(nn.Unflatten(1, tuple(input_shape)))
    for c_in, c_out in zip(widths[:-1], widths[1:]):
        encoder.extend([conv(c_in, c_out, kernel_size, stride=2, padding=pad, device="meta"),
                        ACTIVATIONS[activation]()])
    encoder.extend([nn.Flatten(), *MLP((n_flat, *hidden_layer_sizes, n_components), activation)])

    decoder = nn.Sequential(*MLP((n_components, *hidden_layer_sizes[::-1], n_flat), activation),
                            ACTIVATIONS[activation](), nn.Unflatten(1, (widths[-1], *sizes[-1])))
    for i in range(len(channels), 0, -1):
        output_padding = tuple(big - 2 * small + 1 for big, small in zip(sizes[i - 1], sizes[i]))
        decoder.append(conv_t(widths[i], widths[i - 1], kernel_size, stride=2, padding=pad,
                              output_padding=output_padding, device="meta"))
        if i > 1:
            decoder.append(ACTIVATIONS[activation]())
    decoder.append(nn.Flatten())
    return AutoencoderModule(encoder, decoder, output_activation)
