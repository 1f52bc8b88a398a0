"""Convolutional autoencoder: for images and sequences given as flattened rows."""

import math
from numbers import Integral

from sklearn.utils._param_validation import Interval

from ._base import BaseAutoencoder
from ._docs import fill_doc
from .nn.modules import build_conv_autoencoder

__all__ = ["ConvolutionalAutoencoder"]


@fill_doc
class ConvolutionalAutoencoder(BaseAutoencoder):
    """Convolutional autoencoder on the rows of a 2-D ``X``.

    Each row is a flattened image (``image_shape=(H, W)`` or ``(C, H, W)``,
    C-ordered and channels first, as ``images.reshape(n, -1)`` gives) or, with
    ``image_shape=None``, a 1-D signal over the features (a sequence). So it
    takes the 2-D ``X`` that pipelines pass. The encoder applies one stride-2
    convolution per entry of ``channels`` (halving the spatial size each
    time), then dense layers of ``hidden_layer_sizes`` down to the code; the
    decoder mirrors it with transposed convolutions back to the exact input
    size.

    ``init`` defaults to ``'random'`` here: with ``init='pca'`` a dense affine
    path over all the pixels runs beside the convolutions, and the model
    starts as PCA, a code made of global (not local, not translation-
    equivariant) features; the convolutional features only grow as a
    correction to it. ``init='pca'`` is available when the never-worse-than-
    PCA guarantee matters more than convolutional features.

    Parameters
    ----------
%(shared_parameters)s

    image_shape : tuple of int or None, default=None
        ``(H, W)`` or ``(C, H, W)`` with ``C * H * W == n_features``; ``None``
        treats each row as a 1-channel sequence of length ``n_features``.

    channels : tuple of int, default=(16, 32)
        Output channels of the encoder's convolutions (one per stride-2 layer).

    kernel_size : int, default=3
        Odd size of the convolution kernels.

    Attributes
    ----------
%(shared_attributes)s

    See Also
    --------
    Autoencoder : Dense layers only.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautoencoder import ConvolutionalAutoencoder
    >>> X = load_digits().data / 16
    >>> cae = ConvolutionalAutoencoder(8, image_shape=(8, 8), max_iter=5,
    ...                                random_state=0).fit(X)
    >>> cae.transform(X).shape
    (1797, 8)
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "image_shape": ["array-like", None],
        "channels": ["array-like"],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
    }
    _architecture_params = BaseAutoencoder._architecture_params + ("image_shape", "channels", "kernel_size")

    def __init__(
        self,
        n_components=8,
        *,
        hidden_layer_sizes=(),
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
        image_shape=None,
        channels=(16, 32),
        kernel_size=3,
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
        self.image_shape = image_shape
        self.channels = channels
        self.kernel_size = kernel_size

    def _input_shape(self, n_features):
        if self.image_shape is None:
            return (1, n_features)
        shape = tuple(self.image_shape)
        if len(shape) not in (2, 3) or not all(isinstance(s, Integral) and s >= 1 for s in shape):
            raise ValueError(f"image_shape must be (H, W) or (C, H, W) of positive ints, got {self.image_shape!r}.")
        if math.prod(shape) != n_features:
            raise ValueError(
                f"image_shape={shape} holds {math.prod(shape)} values per row, but X has {n_features} features."
            )
        shape = tuple(int(s) for s in shape)  # numpy ints too: torch's layers take Python ints only
        return shape if len(shape) == 3 else (1, *shape)

    def _build_module(self, n_features):
        channels = tuple(self.channels)
        if not channels or not all(isinstance(c, Integral) and c >= 1 for c in channels):
            raise ValueError(f"channels must be a non-empty tuple of positive ints, got {self.channels!r}.")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}.")
        return build_conv_autoencoder(
            self._input_shape(n_features), tuple(int(c) for c in channels), int(self.kernel_size), self._hidden_sizes(),
            self.n_components_, self.activation, self._output_activation(),
        )
