"""Checks of a fitted state, field by field, before an estimator restores it.

The fitted state of an estimator is plain values and numpy arrays
(``BaseAutoencoder._fitted_state``): what pickling, the model files and
``skops`` carry. Whatever carried it, it is checked here before it is used:
every field's kind, every array's shape and finiteness, and the consistency of
the fields with each other. A ValueError names the first field that is wrong.
Nothing here knows an estimator class; the estimator passes what it declares.
"""

import math
import numbers

import numpy as np
import torch

__all__ = ["as_param", "check_fields", "check_optimizer", "check_weights", "plain", "to_numpy"]

FIELDS = {"attributes", "feature_names_in_", "device_", "seed", "architecture", "weights", "optimizer"}


def plain(value):
    """``value`` as a plain JSON-able value: tuples as lists, numpy scalars as Python ones."""
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def as_param(value):
    """A recorded parameter value back as an estimator takes it (lists as tuples)."""
    return tuple(as_param(v) for v in value) if isinstance(value, list) else value


def to_numpy(obj):
    """Tensors anywhere in ``obj`` (dicts, lists) as numpy arrays, on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy()
    if isinstance(obj, dict):
        return {k: to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_numpy(v) for v in obj]
    return obj


#: Kinds of fitted attribute held as numpy arrays (the others are plain values).
ARRAY_KINDS = ("array", "code", "counts", "features", "matrix", "square", "totals")


def _field(name, value, kind):
    """``value`` of the field ``name`` checked against ``kind`` ('int', 'float', 'floats', 'array',
    'matrix': 2-D, one column per feature; 'code': n_components_ entries; 'square':
    n_components_ x n_components_; 'features': one positive scale per feature; 'counts': one
    row of non-negative counts per feature; 'totals': three rows per feature, non-negative
    counts first; shapes checked in :func:`check_fields`)."""
    if kind == "int":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} should be an int, got {type(value).__name__}.")
        return int(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} should be a float, got {type(value).__name__}.")
        return float(value)
    if kind == "floats":
        if not isinstance(value, (list, tuple, np.ndarray)) or not all(
                isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
            raise ValueError(f"{name} should be a list of floats.")
        return [float(v) for v in value]
    if kind in ("array", "code", "features"):
        if not isinstance(value, np.ndarray) or value.ndim != 1 or value.dtype.kind != "f":
            raise ValueError(f"{name} should be a 1-D float array.")
        return value.astype(np.float64)
    if kind in ("counts", "matrix", "square", "totals"):
        if not isinstance(value, np.ndarray) or value.ndim != 2 or value.dtype.kind != "f":
            raise ValueError(f"{name} should be a 2-D float array.")
        return value.astype(np.float64)
    raise ValueError(f"unknown kind {kind!r} of {name}")  # a programming error


def _tensor(name, value, shape):
    """``value`` as a tensor after checking it is a finite numeric array of ``shape``."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
        raise ValueError(f"{name} should be a numeric array, got {type(value).__name__}.")
    if tuple(value.shape) != tuple(shape):
        raise ValueError(f"{name} has shape {tuple(value.shape)}, expected {tuple(shape)}.")
    if not np.isfinite(value).all():
        raise ValueError(f"{name} holds non-finite values.")
    return torch.from_numpy(np.array(value, order="C"))


_PER_AXIS = "be a finite array of shape {shape} (n_components_ per axis)"
#: Kinds of fitted array of a fixed shape (given n_features_in_ and n_components_), finite:
#: ``(shape, further check of the values, what the error says it should be)``.
_SHAPED = {
    "features": (lambda d, k: (d,), lambda a: (a > 0).all(), "hold n_features_in_ finite positive values"),
    "counts": (lambda d, k: (1, d), lambda a: (a >= 0).all(),
               "hold one row of n_features_in_ finite non-negative counts"),
    "totals": (lambda d, k: (3, d), lambda a: (a[0] >= 0).all(),
               "hold three rows of n_features_in_ finite values, non-negative counts first"),
    "code": (lambda d, k: (k,), lambda a: True, _PER_AXIS),
    "square": (lambda d, k: (k, k), lambda a: True, _PER_AXIS),
}


def check_fields(state, declared, architecture_params):
    """``(fitted attributes, architecture, seed)`` of ``state``, checked.

    ``declared``: the estimator's fitted attributes by kind (a trailing ``?``
    marks the optional ones); ``architecture_params``: the parameters that must
    be recorded.
    """
    if not isinstance(state, dict) or set(state) != FIELDS:
        got = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"the fitted state should hold the fields {sorted(FIELDS)}, got {got}.")
    given = state["attributes"]
    if not isinstance(given, dict):
        raise ValueError("attributes should be a dict.")
    unknown = set(given) - set(declared)
    if unknown:
        raise ValueError(f"unknown fitted attributes {sorted(unknown)}.")
    fitted = {}
    for name, kind in declared.items():
        if name in given:
            fitted[name] = _field(f"fitted attribute {name}", given[name], kind.rstrip("?"))
        elif not kind.endswith("?"):
            raise ValueError(f"fitted attribute {name} is missing.")
    if fitted["n_features_in_"] < 1 or fitted["n_components_"] < 1:
        raise ValueError("n_features_in_ and n_components_ should be positive.")
    for name, kind in declared.items():
        if kind.rstrip("?") == "matrix" and name in fitted and (
                fitted[name].shape[1] != fitted["n_features_in_"] or np.isinf(fitted[name]).any()):
            # NaN marks a column never observed (missing='mask'); infinities are never valid
            raise ValueError(f"fitted attribute {name} should hold n_features_in_ columns without infinities.")
        if kind.rstrip("?") in _SHAPED and name in fitted:
            shape, valid, what = _SHAPED[kind.rstrip("?")]
            value, expected = fitted[name], shape(fitted["n_features_in_"], fitted["n_components_"])
            if value.shape != expected or not (np.isfinite(value).all() and valid(value)):
                raise ValueError(f"fitted attribute {name} should {what.format(shape=expected)}.")
    pieces = {kind.rstrip("?"): name in fitted for name, kind in declared.items()
              if kind.rstrip("?") in ("code", "square")}
    if len(set(pieces.values())) > 1:  # the code term of the scores: its centre and precision together
        raise ValueError(f"fitted attributes of kinds {sorted(pieces)} (the code term) should be all present "
                         "or all absent.")
    if fitted["n_iter_"] != len(fitted["loss_curve_"]):
        raise ValueError(f"n_iter_ ({fitted['n_iter_']}) should be the length of loss_curve_ "
                         f"({len(fitted['loss_curve_'])}).")
    if not math.isfinite(fitted["offset_"]):
        raise ValueError("offset_ is not finite.")
    ratios = fitted.get("explained_variance_ratio_")
    if ratios is not None and len(ratios) != fitted["n_components_"]:
        raise ValueError("explained_variance_ratio_ should hold n_components_ entries.")
    names = state["feature_names_in_"]
    if names is not None:
        if (not isinstance(names, list) or len(names) != fitted["n_features_in_"]
                or not all(isinstance(n, str) for n in names)):
            raise ValueError("feature_names_in_ should be n_features_in_ strings.")
        fitted["feature_names_in_"] = np.asarray(names, dtype=object)
    architecture = state["architecture"]
    if not isinstance(architecture, dict) or set(architecture) != set(architecture_params):
        raise ValueError(f"architecture should record {sorted(architecture_params)}.")
    if not isinstance(state["device_"], str):
        raise ValueError("device_ should be a str.")
    seed = _field("seed", state["seed"], "int")
    if seed < 0:  # fit draws it from [0, 2**31 - 1); partial_fit seeds numpy's SeedSequence with it
        raise ValueError(f"seed should be a non-negative int, got {seed}.")
    return fitted, dict(architecture), seed


def check_weights(weights, expected, optional=()):
    """The stored ``weights`` as tensors, checked against the module's ``expected`` state dict;
    the names in ``optional`` may be missing (entries that earlier versions did not have)."""
    if not isinstance(weights, dict) or not set(expected) - set(optional) <= set(weights) <= set(expected):
        raise ValueError(f"weights should hold {sorted(expected)}.")
    return {name: _tensor(f"weight {name!r}", weights[name], expected[name].shape)
            for name in expected if name in weights}


def check_optimizer(stored, params, optimizers, device):
    """``(per-parameter state as tensors on device, settings)`` of the stored optimiser
    state (``(None, None)`` when there is none), checked against ``params``."""
    if stored is None:
        return None, None
    if not isinstance(stored, dict) or set(stored) != {"settings", "state"}:
        raise ValueError("optimizer should hold 'settings' and 'state'.")
    settings = stored["settings"]
    if (not isinstance(settings, list) or len(settings) != 3 or settings[0] not in optimizers
            or not all(isinstance(v, numbers.Real) for v in settings[1:])):
        raise ValueError("optimizer settings should be [name, learning rate, alpha].")
    per_param = stored["state"]
    if not isinstance(per_param, list) or len(per_param) != len(params):
        raise ValueError(f"optimizer state should hold one entry per parameter ({len(params)}).")
    tensors = []
    for i, (entry, param) in enumerate(zip(per_param, params)):
        if entry is not None and not isinstance(entry, dict):
            raise ValueError(f"optimizer state of parameter {i} should be a dict.")
        tensors.append(None if entry is None else {
            key: _tensor(f"optimizer state {key!r} of parameter {i}", value,
                         () if key == "step" else param.shape).to(device)
            for key, value in entry.items()
        })
    return tensors, (settings[0], float(settings[1]), float(settings[2]))
