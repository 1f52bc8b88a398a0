"""Autoencoders as scikit-learn estimators, backed by PyTorch."""

from ._contractive import ContractiveAutoencoder
from ._convolutional import ConvolutionalAutoencoder
from ._denoising import DenoisingAutoencoder
from ._dense import Autoencoder
from ._impute import AutoencoderImputer
from ._persistence import load
from ._scoring import masked_reconstruction_score
from ._sparse import SparseAutoencoder
from ._variational import VariationalAutoencoder

__version__ = "0.1.0.dev0"

__all__ = [
    "Autoencoder",
    "AutoencoderImputer",
    "ContractiveAutoencoder",
    "ConvolutionalAutoencoder",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "VariationalAutoencoder",
    "__version__",
    "load",
    "masked_reconstruction_score",
]
