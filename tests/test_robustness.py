"""Nothing is lost and nothing hangs: determinism, parallel search, memory."""

import pickle
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from joblib import parallel_backend
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import skautoencoder.nn
from skautoencoder import (
    Autoencoder,
    ContractiveAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(n_components=3, hidden_layer_sizes=(16,), max_iter=5, random_state=7)
ESTIMATORS = [Autoencoder(**SMALL), DenoisingAutoencoder(**SMALL), SparseAutoencoder(**SMALL),
              ContractiveAutoencoder(**SMALL), VariationalAutoencoder(**SMALL),
              ConvolutionalAutoencoder(**SMALL, image_shape=(8, 8), channels=(4,))]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_same_seed_same_model_across_refit_clone_and_pickle(digits, estimator):
    X = digits[0]
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    first = clone(estimator).fit(X)
    expected = first.transform(X)
    np.testing.assert_array_equal(clone(estimator).fit(X).transform(X), expected)
    np.testing.assert_array_equal(clone(first).fit(X).transform(X), expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(first)).transform(X), expected)
    np.testing.assert_array_equal(first.fit(X).transform(X), expected)  # refit reseeds
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_parallel_grid_search_matches_serial(digits, backend):
    X, y = digits
    # torch has used its thread pool in this process before the workers start
    Autoencoder(**SMALL).fit(X)
    pipe = make_pipeline(Autoencoder(hidden_layer_sizes=(16,), max_iter=5, random_state=0),
                         LogisticRegression(max_iter=500))
    grid = {"autoencoder__n_components": [2, 4, 8]}
    threads_before = torch.get_num_threads()
    start = time.perf_counter()
    serial = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    serial_s = time.perf_counter() - start
    start = time.perf_counter()
    with parallel_backend(backend):
        parallel = GridSearchCV(pipe, grid, cv=2, n_jobs=2).fit(X, y)
    parallel_s = time.perf_counter() - start
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    assert torch.get_num_threads() == threads_before
    print(f"\n{backend}: n_jobs=1 {serial_s:.2f}s, n_jobs=2 {parallel_s:.2f}s")


def test_one_torch_thread_unless_the_user_pins_more(digits, monkeypatch):
    import threading

    seen = []
    real_loss = Autoencoder._loss

    def spy(self, module, X, generator):
        seen.append(torch.get_num_threads())
        return real_loss(self, module, X, generator)

    monkeypatch.setattr(Autoencoder, "_loss", spy)
    monkeypatch.setattr(Autoencoder, "_loss_is_plain_mse", lambda self: False)  # so that _loss runs
    big = Autoencoder(**{**SMALL, "hidden_layer_sizes": (512, 512)}, batch_size=256)
    before = torch.get_num_threads()
    big.fit(digits[0])
    assert set(seen) == {1}  # conftest limits torch to one thread: the policy stays within it
    seen.clear()
    worker = threading.Thread(target=lambda: clone(big).fit(digits[0]))
    worker.start()
    worker.join()
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == before
    # the user's choice wins
    seen.clear()
    with skautoencoder.nn.torch_threads(2):
        Autoencoder(**SMALL).fit(digits[0])
    assert set(seen) == {2}


MEMORY_SCRIPT = """
import resource, sys, warnings
import numpy as np
from skautoencoder import Autoencoder
warnings.simplefilter("ignore")
rng = np.random.RandomState(0)
model = Autoencoder(4, hidden_layer_sizes=(256, 128), max_iter=1, random_state=0).fit(rng.rand(2000, 10))
X = rng.rand(2_000_000, 10).astype(np.float32)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
scores = model.score_samples(X)
codes = model.transform(X)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) / 1024)
"""


def test_inference_on_two_million_rows_stays_in_bounded_memory():
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], capture_output=True, text=True, check=True)
    grown_mb = float(out.stdout.strip().splitlines()[-1])
    # X is 80 MB; outputs 16 + 32 MB. Unbatched, the hidden layers alone would take 2 GB.
    assert grown_mb < 150, grown_mb
