"""The GPU path: every test needs a CUDA device and is skipped without one.

Run them alone with ``pytest -m cuda`` (``benchmarks/device_check.sh`` does, on a
GPU machine).
"""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import skautoencoder
from skautoencoder import (
    Autoencoder,
    ContractiveAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

RNG = np.random.RandomState(0)
X = np.tanh(RNG.randn(400, 4) @ RNG.randn(4, 16)).astype(np.float32)
SMALL = dict(n_components=3, hidden_layer_sizes=(32,), max_iter=5, random_state=0, device="cuda")


@pytest.mark.parametrize("model", [
    Autoencoder(**SMALL), DenoisingAutoencoder(**SMALL), SparseAutoencoder(**SMALL, sparsity="topk"),
    ContractiveAutoencoder(**SMALL), VariationalAutoencoder(**SMALL),
    ConvolutionalAutoencoder(**SMALL, image_shape=(4, 4), channels=(2,)),
    Autoencoder(**SMALL, missing="mask"), Autoencoder(**SMALL, ordered=True),
], ids=lambda m: type(m).__name__ + ("-mask" if m.missing == "mask" else "-ordered" if m.ordered else ""))
def test_fit_transform_score_samples(model):
    model.fit(X)
    assert model.device_.type == "cuda"
    assert all(p.is_cuda for p in model.module_.parameters())
    codes = model.transform(X)
    assert isinstance(codes, np.ndarray) and codes.dtype == np.float32
    assert codes.shape == (400, model.n_components_)
    assert model.transform(X.astype(np.float64)).dtype == np.float64
    scores = model.score_samples(X)
    assert scores.dtype == np.float64 and scores.shape == (400,) and np.isfinite(scores).all()
    # rows far from the training data score lower than the training rows
    assert np.median(model.score_samples(X + 5)) < np.median(scores)
    assert set(np.unique(model.predict(X))) <= {-1, 1}
    recon = model.inverse_transform(codes)
    assert recon.shape == X.shape and np.isfinite(recon).all()


def test_same_seed_same_model_on_the_gpu():
    a = Autoencoder(**SMALL).fit(X)
    b = Autoencoder(**SMALL).fit(X)
    np.testing.assert_allclose(a.transform(X), b.transform(X), rtol=1e-5, atol=1e-6)
    assert a.loss_curve_ == pytest.approx(b.loss_curve_, rel=1e-5)


def test_sparse_input_is_densified_per_batch_on_the_gpu():
    Xs = sp.random(300, 40, density=0.1, format="csr", random_state=0, dtype=np.float32)
    model = Autoencoder(**SMALL).fit(Xs)
    np.testing.assert_allclose(model.transform(Xs), model.transform(Xs.toarray()), rtol=1e-5, atol=1e-6)


def test_gpu_fit_learns_as_well_as_a_cpu_fit():
    # different devices draw different initial weights (device generators), so compare quality
    params = {**SMALL, "max_iter": 50}
    gpu = Autoencoder(**params).fit(X)
    cpu = Autoencoder(**{**params, "device": "cpu"}).fit(X)
    assert -gpu.score(X) < 1.5 * -cpu.score(X) + 1e-3  # score: minus the mean squared error


def test_save_and_load_across_devices(tmp_path):
    model = Autoencoder(**SMALL).fit(X)
    path = tmp_path / "gpu.pt"
    model.save(path)
    expected = model.score_samples(X)
    on_gpu = skautoencoder.load(path)
    assert on_gpu.device_.type == "cuda"
    np.testing.assert_allclose(on_gpu.score_samples(X), expected, rtol=1e-6)
    on_cpu = skautoencoder.load(path, device="cpu")
    assert on_cpu.device_.type == "cpu" and all(not p.is_cuda for p in on_cpu.module_.parameters())
    np.testing.assert_allclose(on_cpu.score_samples(X), expected, rtol=1e-4, atol=1e-6)
    # training continues on the CPU from the GPU's weights and optimiser state
    on_cpu.set_params(warm_start=True, max_iter=2).fit(X)
    assert on_cpu.n_iter_ == model.n_iter_ + 2
    # and a CPU-trained model moves to the GPU
    cpu_model = Autoencoder(**{**SMALL, "device": "cpu"}).fit(X)
    cpu_model.save(tmp_path / "cpu.pt")
    moved = skautoencoder.load(tmp_path / "cpu.pt", device="cuda")
    assert moved.device_.type == "cuda"
    np.testing.assert_allclose(moved.transform(X), cpu_model.transform(X), rtol=1e-4, atol=1e-6)


def test_pickle_across_devices(monkeypatch):
    model = Autoencoder(**SMALL).fit(X)
    blob = pickle.dumps(model)
    same = pickle.loads(blob)
    assert same.device_.type == "cuda"
    np.testing.assert_allclose(same.transform(X), model.transform(X), rtol=1e-6)
    # unpickled where CUDA is missing: moves to the CPU with a warning
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="not available"):
        moved = pickle.loads(blob)
    assert moved.device_.type == "cpu"
    np.testing.assert_allclose(moved.transform(X), model.transform(X), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("decoupled", [False, True], ids=["adam", "adamw"])
def test_fused_adam_calls_the_cuda_kernel_of_the_optimizer_step(decoupled):
    from skautoencoder.nn.steps import FusedAdam

    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    g = torch.Generator(device="cuda").manual_seed(0)
    start = [torch.randn(33, 17, device="cuda", generator=g), torch.randn(17, device="cuda", generator=g)]
    reference = [p.clone().requires_grad_() for p in start]
    direct = [p.clone().requires_grad_() for p in start]
    optimizer = cls(reference, lr=1e-2, weight_decay=1e-3, fused=True)
    adam = FusedAdam(direct, lr=1e-2, weight_decay=1e-3, decoupled=decoupled)
    assert FusedAdam.available(direct)
    for _ in range(3):
        grads = [torch.randn(p.shape, device="cuda", generator=g) for p in start]
        for p, grad in zip(reference, grads):
            p.grad = grad.clone()
        optimizer.step()
        for p, grad in zip(direct, grads):
            p.grad = grad.clone()
        adam.step()
    assert adam._fallback is None  # the fused CUDA kernel ran, not torch.optim
    for a, b in zip(reference, direct):
        assert torch.equal(a, b)
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(optimizer.state[a][key], adam.state[id(b)][key])


def test_default_fit_on_the_gpu_takes_the_fused_adam_call(monkeypatch):
    from skautoencoder.nn import steps

    calls = []
    real = steps.FusedAdam.step

    def spy(self, *args, **kwargs):
        calls.append(self._fallback)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(steps.FusedAdam, "step", spy)
    Autoencoder(**SMALL).fit(X)
    assert calls and calls[-1] is None  # every step through the kernel, no fallback


def test_out_of_memory_says_what_to_change(monkeypatch):
    def explode(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    model = Autoencoder(**SMALL, batch_size=64)
    with monkeypatch.context() as patch:
        patch.setattr(Autoencoder, "_loss", explode)
        patch.setattr(Autoencoder, "_loss_is_plain_mse", lambda self: False)  # so that _loss runs
        with pytest.raises(MemoryError, match=r"out of memory on cuda.*lower batch_size \(currently 64\)"):
            model.fit(X)
    model.fit(X)
    monkeypatch.setattr(Autoencoder, "_row_scores", explode)
    with pytest.raises(MemoryError, match=r"on cuda during inference; it runs \d+ rows at a time"):
        model.score_samples(X)
