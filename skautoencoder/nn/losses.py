"""Reconstruction losses and the regularisers that are added to them.

Every loss here takes the decoder's *raw* output (logits for ``"bce"``) and the
target rows. ``reduction="none"`` gives one value per row (the mean over the
features), which is what outlier scores are made of; ``"mean"`` gives the
scalar that training minimises. Regularisers (sparsity, contraction, KL) live
beside these and are added to the reconstruction term.
"""

import math

import torch
import torch.nn.functional as F

__all__ = [
    "RECONSTRUCTION_LOSSES",
    "contraction",
    "gaussian_kl",
    "kl_sparsity",
    "l1_sparsity",
    "negative_log_likelihood",
    "reconstruction_loss",
    "reconstruction_terms",
]

RECONSTRUCTION_LOSSES = ("mse", "bce")


def _entry_errors(raw, target, kind):
    """Squared error or binary cross-entropy (on logits) of every entry, shape ``(n_rows, n_entries)``."""
    if kind == "mse":
        err = F.mse_loss(raw, target, reduction="none")
    elif kind == "bce":
        err = F.binary_cross_entropy_with_logits(raw, target, reduction="none")
    else:
        raise ValueError(f"Unknown reconstruction loss {kind!r}; expected one of {RECONSTRUCTION_LOSSES}.")
    return err.reshape(err.shape[0], -1)


def reconstruction_terms(raw, target, kind="mse", mask=None):
    """Per-entry terms of the per-row reconstruction error, shape ``(n_rows, n_features)``.

    Entry ``(i, j)`` is the error of feature ``j`` of row ``i`` divided by the
    number of (observed) features of row ``i``, so that each row sums to its
    mean error: ``reconstruction_loss(..., reduction="none")``.

    Parameters
    ----------
    raw : torch.Tensor of shape (n_rows, ...)
        Decoder output: the reconstruction itself for ``"mse"``, logits for
        ``"bce"``.
    target : torch.Tensor of the same shape
        The rows to reconstruct.
    kind : {"mse", "bce"}, default="mse"
        Squared error, or binary cross-entropy on logits.
    mask : torch.Tensor of bool, optional
        Observed entries; unobserved ones contribute 0 (a row with none
        observed has error 0). Masked entries of ``target`` must be finite.

    Returns
    -------
    terms : torch.Tensor of shape (n_rows, n_features)
    """
    err = _entry_errors(raw, target, kind)
    if mask is None:
        return err / err.shape[1]
    mask = mask.reshape(err.shape).to(err.dtype)
    return err * mask / mask.sum(dim=1, keepdim=True).clamp(min=1)


def reconstruction_loss(raw, target, kind="mse", reduction="mean", mask=None):
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
        ``(n_rows,)`` (the row sums of :func:`reconstruction_terms`);
        ``"mean"`` the mean over all entries.
    mask : torch.Tensor of bool, optional
        Observed entries: the means run over these only (a row with none
        observed has error 0). Masked entries of ``target`` must be finite.

    Returns
    -------
    loss : torch.Tensor
    """
    if mask is None and reduction == "mean":  # the training hot path: one fused op
        if kind == "mse":
            return F.mse_loss(raw, target)
        if kind == "bce":
            return F.binary_cross_entropy_with_logits(raw, target)
    if reduction == "none":
        return reconstruction_terms(raw, target, kind, mask).sum(dim=1)
    err = _entry_errors(raw, target, kind)
    mask = mask.reshape(err.shape).to(err.dtype)
    return (err * mask).sum() / mask.sum().clamp(min=1)


# ----------------------------------------------------------------------
# Regularisers: each returns a scalar to add to the reconstruction loss
# ----------------------------------------------------------------------
def kl_sparsity(codes, target, eps=1e-6):
    """Sparsity penalty of Ng's sparse autoencoder.

    ``sum_j KL(target || rho_j)`` where ``rho_j`` is the mean activation of
    code unit ``j`` over the batch; codes must lie in (0, 1) (sigmoid units).
    """
    rho = codes.mean(dim=0).clamp(eps, 1 - eps)
    return (target * torch.log(target / rho) + (1 - target) * torch.log((1 - target) / (1 - rho))).sum()


def l1_sparsity(codes):
    """Mean over rows of the L1 norm of the codes."""
    return codes.abs().sum(dim=1).mean()


def contraction(encode, X, generator=None, exact=True):
    """Mean over rows of the squared Frobenius norm of the encoder's Jacobian.

    The penalty of contractive autoencoders (Rifai et al., 2011),
    ``mean_i ||d encode(x_i) / d x_i||_F^2``, assuming rows are encoded
    independently.

    Parameters
    ----------
    encode : callable
        Maps a batch of rows to codes.
    X : torch.Tensor of shape (n_rows, n_features)
    generator : torch.Generator, optional
        Source of the random projections when ``exact=False``.
    exact : bool, default=True
        Exact: one vector-Jacobian product per code unit (``n_components``
        backward passes, each differentiable). Otherwise one random Rademacher
        projection ``v``: ``||v^T J||^2`` is an unbiased estimate of
        ``||J||_F^2`` at the cost of one backward pass.

    Returns
    -------
    penalty : torch.Tensor (scalar)
    """
    with torch.enable_grad():  # also inside evaluation under no_grad
        X = X.detach().requires_grad_(True)
        codes = encode(X)
        if exact:
            total = 0.0
            for j in range(codes.shape[1]):
                (grad,) = torch.autograd.grad(codes[:, j].sum(), X, create_graph=True)
                total = total + grad.pow(2).sum()
        else:
            v = torch.randint(0, 2, codes.shape, generator=generator, device=codes.device)
            (grad,) = torch.autograd.grad(codes, X, grad_outputs=2.0 * v.to(codes.dtype) - 1.0,
                                          create_graph=True)
            total = grad.pow(2).sum()
    return total / X.shape[0]


# ----------------------------------------------------------------------
# Variational autoencoders: per-row terms of the negative ELBO
# ----------------------------------------------------------------------
def gaussian_kl(mean, log_var):
    """Per-row ``KL(N(mean, exp(log_var)) || N(0, I))``, summed over units."""
    return 0.5 * (log_var.exp() + mean.pow(2) - 1.0 - log_var).sum(dim=1)


def negative_log_likelihood(raw, target, kind="mse", log_scale=None, mask=None, reduction="sum"):
    """Per-row ``-log p(target | decoder output)``, summed over (observed) features.

    ``"mse"``: Gaussian with standard deviation ``exp(log_scale)`` (1 when
    None); ``"bce"``: Bernoulli with logits ``raw``. With a boolean ``mask``,
    only the observed entries count. ``reduction="none"`` returns the
    per-feature terms, shape ``(n_rows, n_features)``, that ``"sum"`` adds up.
    """
    raw, target = raw.reshape(raw.shape[0], -1), target.reshape(target.shape[0], -1)
    if kind == "bce":
        nll = F.binary_cross_entropy_with_logits(raw, target, reduction="none")
    elif kind == "mse":
        log_scale = torch.zeros((), device=raw.device, dtype=raw.dtype) if log_scale is None else log_scale
        nll = 0.5 * (raw - target).pow(2) * torch.exp(-2.0 * log_scale) + (log_scale + 0.5 * math.log(2 * math.pi))
    else:
        raise ValueError(f"Unknown reconstruction loss {kind!r}; expected one of {RECONSTRUCTION_LOSSES}.")
    if mask is not None:
        nll = nll * mask.reshape(nll.shape).to(nll.dtype)
    return nll if reduction == "none" else nll.sum(dim=1)
