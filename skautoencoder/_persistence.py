"""Saving and loading fitted estimators without unpickling.

A saved model is one file written by :func:`torch.save` that holds only
tensors and plain values: a format tag, the versions it was written with,
the class name, the parameters and the fitted attributes as JSON text, the
module's ``state_dict`` and the optimiser's. :func:`load` reads it with
``torch.load(weights_only=True)``, which refuses anything else, and then
validates the class, the parameters and every tensor before it builds the
estimator, so a file from an untrusted source cannot run code.
"""

import json
import math

import numpy as np
import sklearn
import torch

from ._base import BaseAutoencoder, _to_cpu
from .nn.modules import reset_parameters

__all__ = ["load", "save"]

FORMAT = "skautoencoder-model"
FORMAT_VERSION = 1

# fitted attributes stored as JSON, and how to rebuild them
_ATTRIBUTES = {
    "n_features_in_": int,
    "n_components_": int,
    "n_iter_": int,
    "loss_curve_": list,
    "validation_scores_": list,
    "best_loss_": float,
    "offset_": float,
    "batch_size_": int,
    "sparsity_weight_": float,
    "explained_variance_ratio_": np.ndarray,
    "_seed": int,
    "_architecture": dict,
}


def _estimators():
    import skautoencoder

    return {name: getattr(skautoencoder, name) for name in skautoencoder.__all__
            if isinstance(getattr(skautoencoder, name), type)
            and issubclass(getattr(skautoencoder, name), BaseAutoencoder)}


def _json_params(estimator):
    params = {}
    for name, value in estimator.get_params(deep=False).items():
        if isinstance(value, torch.device):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, np.random.RandomState):
            value = None  # a generator's state is not a parameter worth keeping
        elif isinstance(value, (np.integer, np.floating)):
            value = value.item()
        params[name] = value
    json.dumps(params)  # raises TypeError on anything else
    return params


def save(estimator, path):
    """Write a fitted estimator to ``path`` (see :meth:`BaseAutoencoder.save`)."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    fitted = {name: getattr(estimator, name) for name in _ATTRIBUTES if hasattr(estimator, name)}
    fitted = {name: (float(v) if isinstance(v, (float, np.floating)) else v.tolist() if isinstance(v, np.ndarray)
                     else v) for name, v in fitted.items()}
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(name) for name in estimator.feature_names_in_]
    fitted["device_"] = str(estimator.device_)
    optimizer = getattr(estimator, "_optimizer", None)
    optimizer_state = optimizer.state_dict() if optimizer is not None else getattr(estimator, "_optimizer_state", None)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": json.dumps({"skautoencoder": _version(), "torch": torch.__version__,
                                "scikit-learn": sklearn.__version__}),
        "class": type(estimator).__name__,
        "params": json.dumps(_json_params(estimator)),
        "fitted": json.dumps(fitted, allow_nan=True),
        "optimizer_settings": json.dumps(list(getattr(estimator, "_optimizer_settings", ()) or ())),
        "state_dict": {k: v.detach().cpu() for k, v in estimator.module_.state_dict().items()},
        "optimizer_state": _to_cpu(optimizer_state) if optimizer_state is not None else None,
    }
    torch.save(payload, path)


def load(path, device=None):
    """Read an estimator written by :meth:`~skautoencoder.Autoencoder.save`.

    Nothing is unpickled: the file is read with ``torch.load(weights_only=True)``
    and every part is checked before the estimator is built.

    Parameters
    ----------
    path : str or path-like
        The file.
    device : str or torch.device, optional
        Where to put the module; default: the device it was trained on when
        available, else the CPU.

    Returns
    -------
    estimator : BaseAutoencoder
        The fitted estimator, ready for ``transform``, ``score_samples``, ...

    Raises
    ------
    ValueError
        When the file is not a skautoencoder model, is corrupted, or does not
        match its own description.
    """
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # unpickling errors, truncated files, foreign objects
        raise ValueError(f"{path!s} is not a readable skautoencoder model file: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path!s} is not a skautoencoder model file (no {FORMAT!r} tag).")
    if payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path!s} is a skautoencoder model of format version "
                         f"{payload.get('format_version')!r}; this skautoencoder reads version {FORMAT_VERSION}.")
    estimators = _estimators()
    name = payload.get("class")
    if name not in estimators:
        raise ValueError(f"{path!s} is not a valid skautoencoder model: unknown estimator class {name!r}.")
    try:
        params = json.loads(payload["params"])
        fitted = json.loads(payload["fitted"])
        state_dict = payload["state_dict"]
        if not isinstance(params, dict) or not isinstance(fitted, dict) or not isinstance(state_dict, dict):
            raise TypeError("params, fitted attributes and state_dict must be mappings")
        estimator = estimators[name]()
        unknown = set(params) - set(estimator.get_params(deep=False))
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}")
        estimator.set_params(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
        estimator._validate_params()
        for attr, kind in _ATTRIBUTES.items():
            if attr in fitted:
                value = fitted[attr]
                if kind is float and value is not None:
                    value = float(value)
                if kind is int:
                    value = int(value)
                if kind is np.ndarray:
                    if not isinstance(value, list) or not all(isinstance(v, (int, float)) for v in value):
                        raise TypeError(f"{attr} should be a list of numbers")
                    value = np.asarray(value, dtype=np.float64)
                if not isinstance(value, kind):
                    raise TypeError(f"{attr} should be {kind.__name__}, got {type(value).__name__}")
                setattr(estimator, attr, value)
        if "feature_names_in_" in fitted:
            estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
        target = torch.device(device) if device is not None else torch.device(fitted["device_"])
        if target.type == "cuda" and not torch.cuda.is_available():
            target = torch.device("cpu")
        estimator.device_ = target
        module = estimator._build_module(estimator.n_features_in_)
        module = reset_parameters(module, torch.Generator(device=target), target)
        for key, tensor in state_dict.items():
            if not isinstance(tensor, torch.Tensor) or not torch.isfinite(tensor).all():
                raise ValueError(f"weight {key!r} is not a finite tensor")
        module.load_state_dict(state_dict, strict=True)
        estimator.module_ = module
        if not math.isfinite(estimator.offset_):
            raise ValueError("offset_ is not finite")
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{path!s} is a corrupted or inconsistent skautoencoder model: {exc}") from None
    estimator._optimizer = None
    estimator._optimizer_state = payload.get("optimizer_state")
    settings = json.loads(payload.get("optimizer_settings", "[]"))
    estimator._optimizer_settings = tuple(settings) if settings else None
    return estimator


def _version():
    from . import __version__

    return __version__
