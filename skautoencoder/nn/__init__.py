"""Pure PyTorch parts of skautoencoder: modules, losses, corruption, training steps and the loop.

Nothing here imports scikit-learn; PyTorch users may use these directly.
"""

from .corruption import NOISES, corrupt, hide
from .losses import (
    RECONSTRUCTION_LOSSES,
    contraction,
    gaussian_kl,
    kl_sparsity,
    l1_sparsity,
    negative_log_likelihood,
    reconstruction_loss,
    reconstruction_terms,
)
from .modules import (
    ACTIVATIONS,
    MLP,
    AffinePath,
    AnchoredAutoencoderModule,
    AnchoredSparseModule,
    AnchoredVariationalModule,
    AutoencoderModule,
    ObservedOffsetsModule,
    TopK,
    VariationalModule,
    build_anchored_autoencoder,
    build_conv_autoencoder,
    build_mlp_autoencoder,
    build_variational_autoencoder,
    reset_parameters,
    set_affine_start,
)
from .steps import FusedAdam, plain_mse_loss
from .training import (
    OPTIMIZERS,
    DivergenceError,
    History,
    Trainer,
    make_optimizer,
    threads_pinned,
    torch_threads,
)

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "NOISES",
    "OPTIMIZERS",
    "AffinePath",
    "AnchoredAutoencoderModule",
    "AnchoredSparseModule",
    "AnchoredVariationalModule",
    "RECONSTRUCTION_LOSSES",
    "AutoencoderModule",
    "ObservedOffsetsModule",
    "DivergenceError",
    "FusedAdam",
    "History",
    "TopK",
    "Trainer",
    "VariationalModule",
    "build_anchored_autoencoder",
    "build_conv_autoencoder",
    "build_mlp_autoencoder",
    "build_variational_autoencoder",
    "contraction",
    "corrupt",
    "gaussian_kl",
    "hide",
    "kl_sparsity",
    "l1_sparsity",
    "make_optimizer",
    "negative_log_likelihood",
    "plain_mse_loss",
    "reconstruction_loss",
    "reconstruction_terms",
    "reset_parameters",
    "set_affine_start",
    "threads_pinned",
    "torch_threads",
]
