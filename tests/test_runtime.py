"""The torch thread policy: which count for which work, and whose setting wins."""

import os
import threading

import numpy as np
import pytest
import torch
from joblib import Parallel, cpu_count, delayed, parallel_backend
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_limits

import skautoencoder._base
from skautoencoder import Autoencoder, _anchor, _runtime
from skautoencoder._runtime import WORK_PER_THREAD, step_work, threads_for
from skautoencoder.nn import build_mlp_autoencoder, torch_threads

HUGE = 10**15  # multiply-adds per step: wants every core


@pytest.fixture
def machine(monkeypatch):
    """An idle 16-core machine, torch at its default of 16 threads (nothing runs on them here)."""
    monkeypatch.setattr(_runtime, "_physical_cores", lambda: 16)
    monkeypatch.setattr(_runtime, "_busy_cores", lambda: 0.0)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(16)
    yield monkeypatch
    torch.set_num_threads(before)


def _work(n_features, hidden, n_components, n_rows, training):
    return step_work(build_mlp_autoencoder(n_features, hidden, n_components), n_rows, training)


def test_step_work_counts_the_matmuls():
    # 64-128-64-8, mirrored: 2 * (64*128 + 128*64 + 64*8) = 33,792 weights
    assert _work(64, (128, 64), 8, 1, training=False) == 33_792
    assert _work(64, (128, 64), 8, 256, training=True) == 3 * 256 * 33_792


@pytest.mark.parametrize("n_features, hidden, n_components, n_rows, training, expected", [
    (64, (128, 64), 8, 256, True, 1),        # the default net, batch 256: per-op overhead dominates
    (64, (128, 64), 8, 32, True, 1),
    (64, (128, 64), 8, 100, False, 1),       # inference of a few rows
    (64, (128, 64), 8, 4096, False, 4),      # inference, one chunk of 4096 rows: 138M
    (256, (256, 128), 16, 256, True, 4),     # 154M
    (784, (512, 256), 32, 256, True, 16),    # wide: 830M
    (784, (512, 256), 32, 4096, True, 16),   # wide at batch 4096: 13G
    (784, (512, 256), 32, 4096, False, 16),  # inference over many rows
])
def test_threads_follow_the_work(machine, n_features, hidden, n_components, n_rows, training, expected):
    assert threads_for(_work(n_features, hidden, n_components, n_rows, training)) == expected


def test_thresholds(machine):
    assert threads_for(0) == 1
    assert threads_for(2 * WORK_PER_THREAD - 1) == 1
    assert threads_for(2 * WORK_PER_THREAD) == 2
    assert threads_for(HUGE) == 16
    machine.setattr(_runtime, "_physical_cores", lambda: 6)
    assert threads_for(HUGE) == 6


def test_cores_busy_elsewhere_are_left_alone(machine):
    machine.setattr(_runtime, "_busy_cores", lambda: 10.4)
    assert threads_for(HUGE) == 6
    machine.setattr(_runtime, "_busy_cores", lambda: 15.6)
    assert threads_for(HUGE) == 1
    machine.setattr(_runtime, "_busy_cores", lambda: 40.0)
    assert threads_for(HUGE) == 1


def test_the_load_is_read_and_reused(monkeypatch):
    assert _runtime._runnable_elsewhere() >= 0  # the real reading: a count, or 0 off Linux
    counts = iter([3, 9])
    monkeypatch.setattr(_runtime, "_runnable_elsewhere", lambda: next(counts))
    monkeypatch.setattr(_runtime, "_load", {"time": -float("inf"), "busy": 0})
    assert _runtime._busy_cores() == 3
    assert _runtime._busy_cores() == 3  # read once, reused
    monkeypatch.setattr(_runtime, "_LOAD_MAX_AGE", -1.0)
    assert _runtime._busy_cores() == 9


def test_one_thread_on_a_gpu_and_in_worker_threads(machine):
    assert threads_for(HUGE, torch.device("cuda")) == 1
    assert threads_for(HUGE, "cuda:1") == 1
    seen = []
    worker = threading.Thread(target=lambda: seen.append(threads_for(HUGE)))
    worker.start()
    worker.join()
    assert seen == [1]


def test_the_users_setting_wins(machine):
    # an exact count: skautoencoder.nn.torch_threads(n) leaves torch's setting alone
    with torch_threads(3):
        assert threads_for(HUGE) is None and threads_for(0) is None
        assert torch.get_num_threads() == 3
    # limits: torch.set_num_threads, threadpoolctl, OMP_NUM_THREADS / MKL_NUM_THREADS
    torch.set_num_threads(5)
    assert threads_for(HUGE) == 5
    assert threads_for(2 * WORK_PER_THREAD) == 2  # a limit, not a request
    torch.set_num_threads(16)
    with threadpool_limits(limits=4, user_api="openmp"):
        assert threads_for(HUGE) == 4
    machine.setenv("OMP_NUM_THREADS", "2")
    assert threads_for(HUGE) == 2
    machine.setenv("OMP_NUM_THREADS", "not a number")
    machine.setenv("MKL_NUM_THREADS", "7,1")
    assert threads_for(HUGE) == 7


def test_estimators_pass_their_work_to_the_policy(monkeypatch):
    calls = []

    def record(work, device):
        calls.append((work, torch.device(device).type, threading.current_thread() is threading.main_thread()))
        return 1

    monkeypatch.setattr(skautoencoder._base, "threads_for", record)
    X = np.random.RandomState(0).rand(300, 10)
    est = Autoencoder(3, hidden_layer_sizes=(16,), batch_size=64, max_iter=2, early_stopping=False,
                      device="cpu", random_state=0)
    est.fit(X)
    weights = 2 * (10 * 16 + 16 * 3) + 2 * 10 * 3  # the MLPs and the affine path of init='pca'
    assert calls[0] == (3 * 64 * weights, "cpu", True)  # training: batch rows, forward and backward
    assert (300 * weights, "cpu", True) in calls[1:]  # inference for offset_: all 300 rows at once
    calls.clear()
    many = np.tile(X, (20, 1))
    est.transform(many)  # 6000 rows, in chunks
    assert calls == [(min(6000, est._chunk_rows(many)) * weights, "cpu", True)]


def test_no_oversubscription_in_a_threading_backend_search(machine):
    """Each of n_jobs worker threads trains on one torch thread; only the refit in the
    main thread may take more."""
    chosen = []

    def record(work, device):
        chosen.append((threading.current_thread() is threading.main_thread(), threads_for(work, device)))
        return 1  # and run on one thread: this machine has 2 cores, not the 16 pretended

    machine.setattr(_runtime, "WORK_PER_THREAD", 1)  # every call wants every core
    machine.setattr(skautoencoder._base, "threads_for", record)
    X = np.random.RandomState(0).rand(120, 6)
    search = GridSearchCV(Autoencoder(hidden_layer_sizes=(8,), max_iter=2, device="cpu", random_state=0),
                          {"n_components": [1, 2]}, cv=2, n_jobs=2)
    with parallel_backend("threading"):
        search.fit(X)
    # None: inference inside a training call keeps the training's count
    in_workers = [n for main, n in chosen if not main and n is not None]
    assert in_workers and set(in_workers) == {1}  # 2 workers x 1 thread on 2 (or more) cores
    assert {n for main, n in chosen if main and n is not None} == {16}  # the refit, alone


def test_no_oversubscription_in_loky_workers():
    """joblib's loky workers start with OMP_NUM_THREADS = cores // n_jobs (at least 1;
    or the parent's value): torch reads it, and so does the policy."""
    n_jobs = 2
    expected = int(os.environ.get("OMP_NUM_THREADS", max(1, cpu_count() // n_jobs)))
    with parallel_backend("loky", n_jobs=n_jobs):
        env = Parallel()(delayed(os.getenv)("OMP_NUM_THREADS") for _ in range(n_jobs))
        limits = Parallel()(delayed(_runtime._thread_limit)() for _ in range(n_jobs))
        chosen = Parallel()(delayed(threads_for)(HUGE) for _ in range(n_jobs))
    assert env == [str(expected)] * n_jobs
    assert limits == [expected] * n_jobs
    assert all(1 <= n <= expected for n in chosen)


def _blas_counts():
    return {lib.num_threads for lib in _runtime._blas().lib_controllers}


@pytest.fixture
def blas(machine):
    if not _runtime._blas().lib_controllers:
        pytest.skip("no BLAS library that threadpoolctl controls")
    with threadpool_limits(limits=4, user_api="blas"):
        yield machine


def test_blas_threads_follow_the_work_and_only_lower(blas):
    with _runtime.blas_threads(0):
        assert _blas_counts() == {1}
    assert _blas_counts() == {4}  # restored
    with _runtime.blas_threads(3 * WORK_PER_THREAD):
        assert _blas_counts() == {3}
    with _runtime.blas_threads(HUGE):  # wants 16: never above the count the BLAS had
        assert _blas_counts() == {4}
    with torch_threads(2), _runtime.blas_threads(HUGE):  # the user's exact count
        assert _blas_counts() == {2}
    seen = []

    def in_a_worker():
        with _runtime.blas_threads(0):  # the count is the process's: left alone
            seen.append(_blas_counts())

    worker = threading.Thread(target=in_a_worker)
    worker.start()
    worker.join()
    assert seen == [{4}]


def test_the_pca_start_runs_on_the_policys_blas_threads(blas):
    """On 300 x 10 rows the PCA start is a small BLAS call: one thread, then restored."""
    seen = []
    original = _anchor.pca_start

    def record(*args):
        seen.append(_blas_counts())
        return original(*args)

    blas.setattr(_anchor, "pca_start", record)
    X = np.random.RandomState(0).rand(300, 10)
    Autoencoder(3, hidden_layer_sizes=(8,), device="cpu", random_state=0).partial_fit(X)
    Autoencoder(3, hidden_layer_sizes=(8,), max_iter=1, device="cpu", random_state=0).fit(X)
    assert len(seen) >= 2 and all(counts == {1} for counts in seen)  # fit may refit the start
    assert _blas_counts() == {4}


@pytest.mark.parametrize("grad_mode", [torch.no_grad, torch.inference_mode])
@pytest.mark.parametrize("cls_name", ["Autoencoder", "AutoencoderOutlierDetector", "VariationalAutoencoder"])
def test_training_inside_a_no_grad_or_inference_block(grad_mode, cls_name):
    # a PyTorch user's evaluation code often runs under no_grad / inference_mode; fit and
    # partial_fit raised torch's "element 0 of tensors does not require grad" there (or
    # "Inference tensors do not track version counter"), and a module built in inference
    # mode could never be trained afterwards
    import skautoencoder

    cls = getattr(skautoencoder, cls_name)
    X = np.random.RandomState(0).randn(100, 6)
    params = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    reference = cls(**params).fit(X).partial_fit(X)
    with grad_mode():
        model = cls(**params).fit(X).partial_fit(X)
    np.testing.assert_array_equal(model.transform(X), reference.transform(X))
    model.partial_fit(X)  # outside the block too
    assert torch.is_grad_enabled()
