"""Autoencoders as scikit-learn estimators, backed by PyTorch."""

from ._dense import Autoencoder

__version__ = "0.1.0.dev0"

__all__ = ["Autoencoder", "__version__"]
