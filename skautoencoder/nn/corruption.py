"""Input corruption for denoising autoencoders.

Every draw comes from an explicit :class:`torch.Generator`, so corruption is
reproducible and never touches torch's global random state.
"""

import torch

__all__ = ["NOISES", "check_level", "corrupt", "hide"]

NOISES = ("gaussian", "masking", "salt_and_pepper")


def corrupt(X, noise, level, generator):
    """A corrupted copy of the batch ``X``.

    Parameters
    ----------
    X : torch.Tensor of shape (n_rows, n_features)
    noise : {"gaussian", "masking", "salt_and_pepper"}
        ``"gaussian"`` adds ``level * N(0, 1)`` to every entry (``level`` is a
        standard deviation in the units of ``X``); ``"masking"`` sets each
        entry to zero with probability ``level``; ``"salt_and_pepper"`` sets
        each entry, with probability ``level``, to the minimum or the maximum
        (equally likely) of its column in the batch.
    level : float
    generator : torch.Generator
        On the device of ``X``.

    Returns
    -------
    X_noisy : torch.Tensor
    """
    if noise == "gaussian":
        return X + level * torch.randn(X.shape, generator=generator, device=X.device, dtype=X.dtype)
    hit = torch.rand(X.shape, generator=generator, device=X.device) < level
    if noise == "masking":
        return X.masked_fill(hit, 0.0)
    if noise == "salt_and_pepper":
        salt = torch.rand(X.shape, generator=generator, device=X.device) < 0.5
        extreme = torch.where(salt, X.amax(dim=0, keepdim=True), X.amin(dim=0, keepdim=True))
        return torch.where(hit, extreme, X)
    raise ValueError(f"Unknown noise {noise!r}; expected one of {NOISES}.")


def check_level(noise, level):
    """Raise a ValueError when ``level`` is no valid strength of ``noise``: a probability,
    at most 1, for ``"masking"`` and ``"salt_and_pepper"`` (any ``level >= 0`` for ``"gaussian"``)."""
    if noise in ("masking", "salt_and_pepper") and level > 1:
        raise ValueError(
            f"noise_level={level!r} is the probability of corrupting an entry with noise={noise!r}: "
            "it must be in [0, 1]."
        )


def hide(X, fraction, generator):
    """A copy of ``X`` with each entry replaced by NaN (= unobserved) with probability ``fraction``.

    Training a model of rows with unobserved entries on such copies teaches it
    to predict the entries it does not see, not to copy those it does.
    """
    hit = torch.rand(X.shape, generator=generator, device=X.device) < fraction
    return X.masked_fill(hit, float("nan"))
