"""save / load: a round trip that never unpickles, and refusal of bad files."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

import skautoencoder
from skautoencoder import (
    Autoencoder,
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
MODELS = [Autoencoder(**SMALL), DenoisingAutoencoder(**SMALL), SparseAutoencoder(**SMALL, sparsity="topk"),
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


@pytest.mark.parametrize("corruption", [
    "random bytes", "truncated", "pickle with code", "plain pickle", "wrong tag", "future version",
    "unknown class", "unknown parameter", "invalid parameter", "wrong shape", "missing weight", "nan weight",
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
        elif corruption == "wrong shape":
            key = next(iter(payload["state_dict"]))
            payload["state_dict"][key] = torch.zeros(2, 2)
        elif corruption == "missing weight":
            payload["state_dict"].pop(next(iter(payload["state_dict"])))
        elif corruption == "nan weight":
            key = next(iter(payload["state_dict"]))
            payload["state_dict"][key] = torch.full_like(payload["state_dict"][key], float("nan"))
        torch.save(payload, bad)
    with pytest.raises(ValueError, match="skautoencoder model"):
        skautoencoder.load(bad)
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()
