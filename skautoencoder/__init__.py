"""Autoencoders as scikit-learn estimators, backed by PyTorch."""

from ._base import load
from ._contractive import ContractiveAutoencoder
from ._convolutional import ConvolutionalAutoencoder
from ._denoising import DenoisingAutoencoder
from ._dense import Autoencoder
from ._impute import AutoencoderImputer
from ._outlier import AutoencoderOutlierDetector
from ._recommend import recommend
from ._scoring import masked_reconstruction_score
from ._sparse import SparseAutoencoder
from ._variational import VariationalAutoencoder
from ._version import __version__

__all__ = [
    "Autoencoder",
    "AutoencoderImputer",
    "AutoencoderOutlierDetector",
    "ContractiveAutoencoder",
    "ConvolutionalAutoencoder",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "VariationalAutoencoder",
    "__version__",
    "load",
    "masked_reconstruction_score",
    "recommend",
]
