"""Reconstruction losses, per row and averaged.

Every loss here takes the decoder's *raw* output (logits for ``"bce"``) and the
target rows. ``reduction="none"`` gives one value per row (the mean over the
features), which is what outlier scores are made of; ``"mean"`` gives the
scalar that training minimises. Regularisers (sparsity, contraction, KL) live
beside these and are added to the reconstruction term.
"""

import torch
import torch.nn.functional as F

__all__ = ["RECONSTRUCTION_LOSSES", "reconstruction_loss"]

RECONSTRUCTION_LOSSES = ("mse", "bce")


def reconstruction_loss(raw, target, kind="mse", reduction="mean"):
    """Reconstruction error of ``target`` by the decoder output ``raw``.

    Parameters
    ----------
    raw : torch.Tensor of shape (n_rows, ...)
        Decoder output: the reconstruction itself for ``"mse"``, logits for
        ``"bce"``.
    target : torch.Tensor of the same shape
        The rows to reconstruct (in [0, 1] for ``"bce"``).
    kind : {"mse", "bce"}, default="mse"
        Squared error, or binary cross-entropy on logits.
    reduction : {"mean", "none"}, default="mean"
        ``"none"`` returns the mean over the features of each row, shape
        ``(n_rows,)``; ``"mean"`` the mean of that.

    Returns
    -------
    loss : torch.Tensor
    """
    if kind == "mse":
        err = F.mse_loss(raw, target, reduction=reduction)
    elif kind == "bce":
        err = F.binary_cross_entropy_with_logits(raw, target, reduction=reduction)
    else:
        raise ValueError(f"Unknown reconstruction loss {kind!r}; expected one of {RECONSTRUCTION_LOSSES}.")
    if reduction == "none":
        err = err.reshape(err.shape[0], -1).mean(dim=1)
    return err
