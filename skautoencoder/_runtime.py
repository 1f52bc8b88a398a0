"""Where and how the estimators run: the device policy and the out-of-memory hint.

One function decides a device for every path: :func:`resolve_device` for a
device the user asks for (``fit``, ``load(device=...)``), strict, and
:func:`restore_device` for a device recorded in a fitted model (unpickling,
``load``), which falls back with a warning when it is not available here.
"""

import contextlib
import warnings

import torch

__all__ = ["out_of_memory_hint", "resolve_device", "restore_device"]

_OutOfMemoryError = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)  # torch < 2.5


def _available(device):
    """Why ``device`` cannot be used here (a sentence), or None when it can."""
    kind = device.type
    if kind == "cpu":
        return None
    if kind == "cuda":
        if not torch.cuda.is_available():
            return "CUDA is not available"
        if device.index is not None and device.index >= torch.cuda.device_count():
            return f"only {torch.cuda.device_count()} CUDA device(s) exist"
        return None
    if kind == "mps":
        backend = getattr(torch.backends, "mps", None)
        return None if backend is not None and backend.is_available() else "MPS is not available"
    if kind == "xpu":
        xpu = getattr(torch, "xpu", None)
        return None if xpu is not None and xpu.is_available() else "XPU is not available"
    return f"device type {kind!r} is not supported"


def resolve_device(device, name="device"):
    """``torch.device`` for a device the user asks for; a ValueError that says what to
    use when it is malformed or not available.

    ``'auto'`` is CUDA when available, else the CPU.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a str or torch.device, got {type(device).__name__}.")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"{name}={device!r} is not a valid torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from None
    problem = _available(resolved)
    if problem is not None:
        raise ValueError(f"{name}={str(device)!r} was requested but {problem}; use 'cpu' or 'auto'.")
    return resolved


def restore_device(recorded, owner):
    """The device to put a fitted model on: the one it was ``recorded`` on when available,
    else CUDA or the CPU, with a warning naming ``owner`` (the estimator's class name)."""
    try:
        device = torch.device(recorded)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"device_={recorded!r} is not a torch device.") from None
    if _available(device) is None:
        return device
    fallback = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    warnings.warn(
        f"{owner} was trained on {device}, which is not available here; it was loaded on "
        f"{fallback} (device_={str(fallback)!r}).",
        UserWarning,
    )
    return fallback


@contextlib.contextmanager
def out_of_memory_hint(owner, device, advice):
    """Turn a device out-of-memory error into a MemoryError that says what to change."""
    try:
        yield
    except _OutOfMemoryError as exc:
        raise MemoryError(
            f"{owner} ran out of memory on {device} {advice}use a smaller network, or use device='cpu'."
        ) from exc
