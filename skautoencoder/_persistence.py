"""The model file: writing an estimator's parameters and fitted state, reading and
checking them back, without unpickling.

A model file is one :func:`torch.save` archive of plain values and tensors: a
format tag, the versions it was written with, the class name, the parameters
and the fitted state as JSON text, and the state's arrays as tensors (the JSON
names them by key). :func:`read` loads it with ``torch.load(weights_only=True)``,
which refuses anything else, and checks the file's own structure; the estimator
then checks every field of the state as it restores it
(``BaseAutoencoder._restore_fitted_state``). This module knows no estimator.
"""

import json
import warnings
import zipfile

import numpy as np
import sklearn
import torch

from ._version import __version__

__all__ = ["read", "write"]

FORMAT = "skautoencoder-model"
FORMAT_VERSION = 2
_ARRAY = "__array__"  # {"__array__": key}: the tensor stored under that key


def _split_arrays(obj, arrays):
    """``obj`` with every numpy array replaced by a reference into ``arrays`` (tensors)."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "fiub":
            raise TypeError(f"cannot store an array of dtype {obj.dtype}")
        key = str(len(arrays))
        arrays[key] = torch.from_numpy(np.array(obj, order="C"))
        return {_ARRAY: key}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError("keys of stored mappings must be strings")
        return {k: _split_arrays(v, arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split_arrays(v, arrays) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _join_arrays(obj, arrays, field):
    """The inverse of :func:`_split_arrays`; a ValueError naming ``field`` on a bad reference."""
    if isinstance(obj, dict):
        if set(obj) == {_ARRAY}:
            key = obj[_ARRAY]
            tensor = arrays.get(key) if isinstance(key, str) else None
            if isinstance(tensor, torch.Tensor) and not tensor.is_sparse and not tensor.is_complex():
                try:
                    return tensor.detach().numpy()
                except TypeError:  # a dtype that numpy lacks (bfloat16, ...): write never stores one
                    pass
            raise ValueError(f"{field} refers to a missing or malformed tensor {key!r}")
        return {k: _join_arrays(v, arrays, f"{field}.{k}") for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join_arrays(v, arrays, f"{field}[{i}]") for i, v in enumerate(obj)]
    return obj


def write(path, class_name, params, state, output=None):
    """Write ``params`` (JSON-able) and ``state`` (plain values and numpy arrays) of an
    estimator of class ``class_name`` to ``path``; ``output``: its ``set_output``
    configuration (e.g. ``{"transform": "pandas"}``), when set."""
    arrays = {}
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": json.dumps({"skautoencoder": __version__, "torch": torch.__version__,
                                "scikit-learn": sklearn.__version__}),
        "class": class_name,
        "params": json.dumps(params),
        "state": json.dumps(_split_arrays(state, arrays), allow_nan=True),
        "arrays": arrays,
    }
    if output:
        payload["output"] = json.dumps(output)
    torch.save(payload, path)


def read(path):
    """``(class name, params, state, output)`` of the model file ``path`` (``output``: the
    ``set_output`` configuration, an empty dict when none was written).

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ValueError
        When the file is not a skautoencoder model file, or its structure is broken;
        the message says what the file is not, or which field is wrong.

    Warns
    -----
    UserWarning
        When another version of skautoencoder or torch wrote the file.
    """
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as file:  # FileNotFoundError passes through
            head = file.read(2)
        what = ("a pickle (e.g. joblib or pickle.dump); this loader never unpickles: load such files "
                "with joblib.load or pickle.load, and only from a source you trust"
                if head[:1] == b"\x80" else "a torch.save archive")
        raise ValueError(f"{path!s} is not a skautoencoder model file: it is not {what}.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # objects the safe loader refuses, truncated archives
        raise ValueError(
            f"{path!s} is not a skautoencoder model file: it is a torch archive holding objects other "
            "than tensors and plain values, or it is damaged."
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path!s} is not a skautoencoder model file: it has no {FORMAT!r} tag "
                         "(a torch archive written by something else).")
    if payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path!s} is a skautoencoder model of format version "
                         f"{payload.get('format_version')!r}; this skautoencoder reads version {FORMAT_VERSION}.")
    expected = {"format", "format_version", "versions", "class", "params", "state", "arrays"}
    if not expected <= set(payload) <= expected | {"output"}:
        raise ValueError(f"{path!s} is a corrupted skautoencoder model: it should hold the fields "
                         f"{sorted(expected)} (and 'output'), got {sorted(payload)}.")
    fields = {"output": {}}
    for field in ("versions", "params", "state", "output"):
        if field not in payload:
            continue
        try:
            fields[field] = json.loads(payload[field])
        except (TypeError, ValueError):
            raise ValueError(f"{path!s} is a corrupted skautoencoder model: field {field!r} is not "
                             "JSON text.") from None
        if not isinstance(fields[field], dict):
            raise ValueError(f"{path!s} is a corrupted skautoencoder model: field {field!r} is not a mapping.")
    if not all(k == "transform" and v in ("default", "pandas", "polars") for k, v in fields["output"].items()):
        raise ValueError(f"{path!s} is a corrupted skautoencoder model: field 'output' should map "
                         "'transform' to 'default', 'pandas' or 'polars'.")
    if not isinstance(payload["class"], str):
        raise ValueError(f"{path!s} is a corrupted skautoencoder model: field 'class' is not a string.")
    arrays = payload["arrays"]
    if not isinstance(arrays, dict):
        raise ValueError(f"{path!s} is a corrupted skautoencoder model: field 'arrays' is not a mapping.")
    try:
        state = _join_arrays(fields["state"], arrays, "state")
    except ValueError as exc:
        raise ValueError(f"{path!s} is a corrupted skautoencoder model: {exc}.") from None
    versions = fields["versions"]
    here = {"skautoencoder": __version__, "torch": torch.__version__}
    different = {k: (versions.get(k), v) for k, v in here.items() if versions.get(k) != v}
    if different:
        said = ", ".join(f"{k} {old} (this is {new})" for k, (old, new) in different.items())
        warnings.warn(f"{path!s} was written by {said}; it loads, but check its results.", UserWarning)
    return payload["class"], fields["params"], state, fields["output"]
