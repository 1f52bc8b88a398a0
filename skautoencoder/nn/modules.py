"""Torch building blocks of the autoencoders: MLP encoders and decoders.

Pure PyTorch: nothing here imports scikit-learn or validates numpy input, so a
PyTorch user can take these modules as they are.

Parameters are created on the ``meta`` device and initialised by
:func:`reset_parameters` from an explicit :class:`torch.Generator`, so that
building a module never draws from (or advances) torch's global random state.
"""

import math

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "MLP", "AutoencoderModule", "reset_parameters", "build_mlp_autoencoder"]

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
                          output_activation="identity"):
    """An :class:`AutoencoderModule` of two mirrored :class:`MLP` on ``meta``.

    The encoder maps ``n_features -> *hidden_layer_sizes -> n_components`` with a
    linear code layer; the decoder mirrors it back to ``n_features``.
    """
    sizes = (n_features, *hidden_layer_sizes, n_components)
    return AutoencoderModule(
        MLP(sizes, activation), MLP(sizes[::-1], activation), output_activation
    )


@torch.no_grad()
def reset_parameters(module, generator, device="cpu"):
    """Materialise ``module`` on ``device`` and initialise it from ``generator``.

    Linear and convolutional layers get PyTorch's default initialisation
    (Kaiming-uniform weights with ``a=sqrt(5)``, uniform biases), drawn from
    ``generator`` instead of the global random state.

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
    module = module.to_empty(device=device)
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
        elif hasattr(layer, "reset_parameters") and not list(layer.children()):
            if isinstance(weight, torch.Tensor) or getattr(layer, "bias", None) is not None:
                layer.reset_parameters()  # norms: deterministic ones/zeros
    return module
