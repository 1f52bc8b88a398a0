"""Pure PyTorch parts of skautoencoder: modules, losses and the training loop.

Nothing here imports scikit-learn; PyTorch users may use these directly.
"""

from .losses import reconstruction_loss
from .modules import MLP, AutoencoderModule, build_mlp_autoencoder, reset_parameters
from .training import DivergenceError, Trainer, make_optimizer, torch_threads

__all__ = [
    "MLP",
    "AutoencoderModule",
    "DivergenceError",
    "Trainer",
    "build_mlp_autoencoder",
    "make_optimizer",
    "reconstruction_loss",
    "reset_parameters",
    "torch_threads",
]
