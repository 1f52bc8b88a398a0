"""save / load: a round trip that never unpickles, and refusal of bad files."""

import json
import pickle

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

import skautoencoder
from skautoencoder import (
    Autoencoder,
    AutoencoderOutlierDetector,
    ContractiveAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.RandomState(0)
X = RNG.rand(120, 16)
SMALL = dict(n_components=3, hidden_layer_sizes=(8,), max_iter=3, random_state=0)
MODELS = [Autoencoder(**SMALL), DenoisingAutoencoder(**SMALL), SparseAutoencoder(**SMALL, sparsity="l1"),
          SparseAutoencoder(**SMALL),  # top-k codes started at PCA: an AnchoredSparseModule
          ContractiveAutoencoder(**SMALL), VariationalAutoencoder(**SMALL, loss="bce"),
          ConvolutionalAutoencoder(**SMALL, image_shape=(4, 4), channels=(2,))]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_round_trip(model, tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(16)])
    model.fit(frame)
    path = tmp_path / "model.pt"
    assert model.save(path) is model
    loaded = skautoencoder.load(path)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    for method in ("transform", "score_samples", "decision_function", "predict"):
        np.testing.assert_array_equal(getattr(loaded, method)(frame), getattr(model, method)(frame))
    assert list(loaded.feature_names_in_) == list(frame.columns)
    assert loaded.loss_curve_ == model.loss_curve_ and loaded.n_iter_ == model.n_iter_
    if hasattr(model, "sample"):  # the stored quantiles come back
        np.testing.assert_array_equal(loaded.sample(5, random_state=0), model.sample(5, random_state=0))
        unpickled = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(unpickled.sample(5, random_state=0), model.sample(5, random_state=0))


def test_warm_start_continues_after_load_like_the_original(tmp_path):
    model = Autoencoder(**SMALL, warm_start=True).fit(X)
    model.save(tmp_path / "m.pt")
    loaded = skautoencoder.load(tmp_path / "m.pt")
    model.fit(X)
    loaded.fit(X)
    assert loaded.n_iter_ == 6
    np.testing.assert_allclose(loaded.transform(X), model.transform(X), rtol=1e-6, atol=1e-7)


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only fallback")
def test_cuda_trained_model_loads_on_cpu(tmp_path):
    model = Autoencoder(**SMALL).fit(X)
    model.device_ = torch.device("cuda")  # as if trained on a GPU: save writes CPU tensors
    model.save(tmp_path / "gpu.pt")
    loaded = skautoencoder.load(tmp_path / "gpu.pt")
    assert loaded.device_ == torch.device("cpu")
    model.device_ = torch.device("cpu")
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError):
        Autoencoder().save(tmp_path / "x.pt")


class Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED_BY_PICKLE",))


def _saved(tmp_path):
    model = Autoencoder(**SMALL).fit(X)
    path = tmp_path / "good.pt"
    model.save(path)
    return path, torch.load(path, weights_only=True)


def _ref(state, *path):
    node = state
    for key in path:
        node = node[key]
    return node["__array__"]


def _first_weight(state):
    return next(iter(state["weights"]))


STATE_CORRUPTIONS = {
    # fitted attributes
    "no n_features_in_": lambda p, s: s["attributes"].pop("n_features_in_"),
    "no offset_": lambda p, s: s["attributes"].pop("offset_"),
    "no n_iter_": lambda p, s: s["attributes"].pop("n_iter_"),
    "no loss_curve_": lambda p, s: s["attributes"].pop("loss_curve_"),
    "no architecture": lambda p, s: s.pop("architecture"),
    "architecture of another net": lambda p, s: s["architecture"].update(hidden_layer_sizes=[5]),
    "n_iter_ a string": lambda p, s: s["attributes"].update(n_iter_="3"),
    "n_iter_ not the curve's length": lambda p, s: s["attributes"].update(n_iter_=99),
    "nan offset_": lambda p, s: s["attributes"].update(offset_=float("nan")),
    "unknown attribute": lambda p, s: s["attributes"].update(evil_=1),
    "feature names of wrong length": lambda p, s: s.update(feature_names_in_=["a"]),
    "device not a string": lambda p, s: s.update(device_=3),
    "negative seed": lambda p, s: s.update(seed=-1),  # partial_fit would fail in numpy's SeedSequence
    "code term half missing": lambda p, s: s["attributes"].pop("_code_center"),  # score_samples: AttributeError
    # a network far too large to allocate: refused by its shapes, before torch tries (was a RuntimeError)
    "architecture too large to build": lambda p, s: s["architecture"].update(hidden_layer_sizes=[10**12]),
    "n_features_in_ too large to build": lambda p, s: s["attributes"].update(n_features_in_=10**12),
    # weights
    "wrong shape": lambda p, s: p["arrays"].update({_ref(s, "weights", _first_weight(s)): torch.zeros(2, 2)}),
    "missing weight": lambda p, s: s["weights"].pop(_first_weight(s)),
    "nan weight": lambda p, s: p["arrays"][_ref(s, "weights", _first_weight(s))].fill_(float("nan")),
    "weight not a tensor": lambda p, s: p["arrays"].update({_ref(s, "weights", _first_weight(s)): [1.0]}),
    "bfloat16 weight": lambda p, s: p["arrays"].update(  # numpy has no bfloat16 (was torch's TypeError)
        {_ref(s, "weights", _first_weight(s)): p["arrays"][_ref(s, "weights", _first_weight(s))].bfloat16()}),
    "dangling array reference": lambda p, s: s["weights"].update({_first_weight(s): {"__array__": "999"}}),
    # optimiser state
    "nan optimizer state": lambda p, s: p["arrays"][_ref(s["optimizer"]["state"][0], "exp_avg")].fill_(float("nan")),
    "optimizer state of wrong shape": lambda p, s: p["arrays"].update(
        {_ref(s["optimizer"]["state"][0], "exp_avg"): torch.zeros(3)}),
    "optimizer state for too few parameters": lambda p, s: s["optimizer"]["state"].pop(),
    "unknown optimizer": lambda p, s: s["optimizer"].update(settings=["lbfgs", 0.001, 0.0]),
}


@pytest.mark.parametrize("corruption", sorted(STATE_CORRUPTIONS))
def test_malformed_state_is_refused_naming_the_field(tmp_path, corruption):
    path, payload = _saved(tmp_path)
    state = json.loads(payload["state"])
    STATE_CORRUPTIONS[corruption](payload, state)
    payload["state"] = json.dumps(state)
    bad = tmp_path / "bad.pt"
    torch.save(payload, bad)
    with pytest.raises(ValueError, match="is a corrupted (or inconsistent )?skautoencoder model") as info:
        skautoencoder.load(bad)
    assert "Traceback" not in str(info.value)


def _error_scale_detector():
    return AutoencoderOutlierDetector(**SMALL, scale_errors=True)


# error_scale_: a wrong length failed in torch at score time; NaN, zero or negative scales gave
# NaN or -inf scores. _quantile_rows: partial_fit weighs the stored quantiles by these counts:
# NaN or negative counts gave NaN quantiles and NaN samples, silently
FITTED_ARRAY_CORRUPTIONS = [
    *[(_error_scale_detector, "error_scale_", scale,
       "error_scale_ should hold n_features_in_ finite positive values")
      for scale in ([1.0, 1.0, 1.0], [float("nan")] * 16, [0.0] * 16, [-1.0] * 16)],
    *[(lambda: VariationalAutoencoder(**SMALL), "_quantile_rows", counts,
       "_quantile_rows should hold one row of n_features_in_ finite non-negative")
      for counts in ([[float("nan")] * 16], [[-1.0] * 16], [[5.0] * 16] * 2, [[5.0] * 3])],
    # _offset_totals: partial_fit continues missing='mask''s column offsets from them
    *[(lambda: Autoencoder(**SMALL, missing="mask"), "_offset_totals", totals,
       "_offset_totals should hold three rows of n_features_in_ finite values, non-negative counts first")
      for totals in ([[float("nan")] * 16] * 3, [[-1.0] * 16] * 3, [[5.0] * 16] * 2, [[5.0] * 3] * 3)],
]


@pytest.mark.parametrize("make, name, value, message", FITTED_ARRAY_CORRUPTIONS)
def test_malformed_fitted_array_is_refused(tmp_path, make, name, value, message):
    path = tmp_path / "model.pt"
    make().fit(X).save(path)
    payload = torch.load(path, weights_only=True)
    state = json.loads(payload["state"])
    payload["arrays"][_ref(state, "attributes", name)] = torch.tensor(value, dtype=torch.float64)
    torch.save(payload, path)
    with pytest.raises(ValueError, match=message):
        skautoencoder.load(path)


@pytest.mark.parametrize("corruption", [
    "random bytes", "truncated", "pickle with code", "plain pickle", "joblib", "wrong tag", "future version",
    "unknown class", "unknown parameter", "invalid parameter", "state not json", "extra field", "bad output",
])
def test_bad_files_are_refused_with_a_clear_error(tmp_path, monkeypatch, corruption):
    monkeypatch.chdir(tmp_path)
    path, payload = _saved(tmp_path)
    bad = tmp_path / "bad.pt"
    if corruption == "random bytes":
        bad.write_bytes(np.random.RandomState(0).bytes(2000))
    elif corruption == "truncated":
        bad.write_bytes(path.read_bytes()[:500])
    elif corruption == "pickle with code":
        torch.save({"format": "skautoencoder-model", "payload": Evil()}, bad)
    elif corruption == "plain pickle":
        bad.write_bytes(pickle.dumps(Autoencoder(**SMALL).fit(X)))
    elif corruption == "joblib":
        joblib = pytest.importorskip("joblib")
        joblib.dump(Autoencoder(**SMALL).fit(X), bad)
    else:
        if corruption == "wrong tag":
            payload["format"] = "something-else"
        elif corruption == "future version":
            payload["format_version"] = 99
        elif corruption == "unknown class":
            payload["class"] = "Popen"
        elif corruption == "unknown parameter":
            payload["params"] = payload["params"].replace('"alpha"', '"beta_x"')
        elif corruption == "invalid parameter":
            payload["params"] = payload["params"].replace('"learning_rate_init": 0.001', '"learning_rate_init": -1')
        elif corruption == "state not json":
            payload["state"] = "{not json"
        elif corruption == "extra field":
            payload["code"] = "os.system"
        elif corruption == "bad output":
            payload["output"] = json.dumps({"transform": "os.system"})
        torch.save(payload, bad)
    with pytest.raises(ValueError, match="skautoencoder model") as info:
        skautoencoder.load(bad)
    message = str(info.value)
    assert "weights_only" not in message and "will likely succeed" not in message  # torch's advice
    if corruption in ("random bytes", "plain pickle", "joblib"):
        assert "is not a skautoencoder model file: it is not" in message
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()


def test_set_output_survives_save_and_load_as_it_survives_pickling(tmp_path):
    pd = pytest.importorskip("pandas")
    model = Autoencoder(**SMALL).set_output(transform="pandas").fit(X)
    model.save(tmp_path / "m.pt")
    loaded = skautoencoder.load(tmp_path / "m.pt")
    for restored in (loaded, pickle.loads(pickle.dumps(model))):
        codes = restored.transform(X)
        assert isinstance(codes, pd.DataFrame) and list(codes.columns) == list(model.get_feature_names_out())
    Autoencoder(**SMALL).fit(X).save(tmp_path / "plain.pt")  # no configuration: none written
    assert "output" not in torch.load(tmp_path / "plain.pt", weights_only=True)
    assert isinstance(skautoencoder.load(tmp_path / "plain.pt").transform(X), np.ndarray)


def test_file_of_another_version_warns(tmp_path):
    path, payload = _saved(tmp_path)
    payload["versions"] = payload["versions"].replace(torch.__version__, "1.0.0")
    torch.save(payload, tmp_path / "old.pt")
    with pytest.warns(UserWarning, match="torch 1.0.0"):
        loaded = skautoencoder.load(tmp_path / "old.pt")
    np.testing.assert_array_equal(loaded.transform(X), skautoencoder.load(path).transform(X))


@pytest.mark.parametrize("device, message", [
    ("gpu", "not a valid torch device"),
    (3, "must be a str or torch.device"),
    pytest.param("cuda", "CUDA is not available",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="needs a CPU-only machine")),
    pytest.param("mps", "MPS is not available", marks=pytest.mark.skipif(
        torch.backends.mps.is_available(), reason="needs a machine without MPS")),
])
def test_load_device_argument_is_validated_apart_from_the_file(tmp_path, device, message):
    path, _ = _saved(tmp_path)
    with pytest.raises((ValueError, TypeError), match=message) as info:
        skautoencoder.load(path, device=device)
    assert "model" not in str(info.value)  # about the argument, not the file


@pytest.mark.parametrize("device", ["xpu", "mps"])
def test_unavailable_device_is_a_clear_error_at_fit(device):
    if (device == "mps" and torch.backends.mps.is_available()) or (
            device == "xpu" and hasattr(torch, "xpu") and torch.xpu.is_available()):
        pytest.skip(f"{device} is available here")
    with pytest.raises(ValueError, match=f"{device.upper()} is not available"):
        Autoencoder(**SMALL, device=device).fit(X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only fallback")
def test_unpickling_and_loading_share_the_device_fallback(tmp_path):
    model = Autoencoder(**SMALL).fit(X)
    model.device_ = torch.device("cuda:1")  # as if trained on a second GPU
    model.save(tmp_path / "gpu.pt")
    blob = pickle.dumps(model)
    for restore in (lambda: skautoencoder.load(tmp_path / "gpu.pt"), lambda: pickle.loads(blob)):
        with pytest.warns(UserWarning, match=r"trained on cuda:1, which is not available here; it was loaded on cpu"):
            restored = restore()
        assert restored.device_ == torch.device("cpu")


@pytest.mark.parametrize("how", ["pickle", "load"])
def test_model_read_inside_inference_mode_transforms_and_trains(tmp_path, how):
    # serving code often unpickles or loads under torch.inference_mode(): the module was
    # rebuilt from inference tensors, so that float64 inference raised "Inference tensors do
    # not track version counter" and training could never continue
    model = Autoencoder(2, hidden_layer_sizes=(8,), trim_fraction=0.1, max_iter=2, random_state=0).fit(X)
    model.save(tmp_path / "m.pt")
    data = pickle.dumps(model)
    with torch.inference_mode():
        restored = pickle.loads(data) if how == "pickle" else skautoencoder.load(tmp_path / "m.pt")
        np.testing.assert_array_equal(restored.transform(X), model.transform(X))
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))
    np.testing.assert_array_equal(restored.partial_fit(X).transform(X), model.partial_fit(X).transform(X))
