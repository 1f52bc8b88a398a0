"""Time a grid search and block-wise scoring on Dask: in memory, in-process, 2 processes.

Needs the ``dask`` extra. For each setting, in the same run:

- ``GridSearchCV`` over ``n_components`` (Autoencoder -> StandardScaler ->
  RidgeClassifier on digits, 3 folds): sequentially in memory, then under
  ``joblib.parallel_backend("dask")`` on an in-process cluster (one worker, 2
  threads) and on a ``LocalCluster`` of 2 worker processes (1 thread each,
  ``OMP_NUM_THREADS=1``, bound to 127.0.0.1), with distributed's default
  worker environment and with glibc's malloc thresholds raised (``MALLOC_FIX``,
  see doc/scaling.rst);
- ``score_samples`` of a float32 array (``--rows`` x 64, default 400,000 rows,
  about 100 MB) in memory, then block-wise with ``skautoencoder.dask`` in
  chunks of ``--chunk`` rows on the same two clusters (the array is made and
  persisted on the workers before the timing, as the in-memory one is in memory
  before its timing).

Each cluster timing is the median of ``--repeats`` runs after one warm-up run
(the first task in a new worker process imports torch and pays its one-off
initialisation). Cluster start-up is reported separately. Absolute times on a
shared machine are noise; compare the rows of one run.

    python benchmarks/dask_scaling.py --repeats 3
"""

import argparse
import os
import statistics
import time
import warnings

import dask
import dask.array as da
import distributed
import joblib
import numpy as np
import torch
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skautoencoder import Autoencoder
from skautoencoder import dask as skdask

warnings.filterwarnings("ignore", category=ConvergenceWarning)

#: glibc malloc settings for worker processes (see doc/scaling.rst): keep up to 128 MiB of
#: freed memory and serve buffers below 32 MiB from the heap
MALLOC_FIX = {"MALLOC_TRIM_THRESHOLD_": 2**27, "MALLOC_MMAP_THRESHOLD_": 2**25}


def timed(fn, repeats):
    """Median seconds of ``repeats`` calls of ``fn`` after one warm-up call, and its last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    args = parser.parse_args()

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    pipe = Pipeline([
        ("autoencoder", Autoencoder(hidden_layer_sizes=(64,), max_iter=20, learning_rate_init=0.01,
                                    early_stopping=False, random_state=0)),
        ("scale", StandardScaler()),
        ("clf", RidgeClassifier()),
    ])
    grid = {"autoencoder__n_components": [2, 4, 8, 16]}
    scorer = Autoencoder(16, hidden_layer_sizes=(128, 64), max_iter=2, random_state=0).fit(
        np.random.RandomState(0).normal(size=(20_000, 64)).astype(np.float32))

    def search(**kwargs):
        return GridSearchCV(pipe, grid, cv=3, error_score="raise", **kwargs).fit(X, y)

    def big_array():
        return da.random.default_rng(0).standard_normal((args.rows, 64), chunks=(args.chunk, 64),
                                                        dtype=np.float32)

    rows = []
    local = big_array().compute(scheduler="sync")  # the same rows, in memory
    t, in_memory = timed(search, args.repeats)
    t_score, _ = timed(lambda: scorer.score_samples(local), args.repeats)
    rows.append(("in memory, sequential", None, t, t_score))
    del local

    environ = dict(os.environ)  # a Nanny writes its pre-spawn variables into this process's environment
    for kind in ("in-process", "2 processes", "2 processes, malloc fix"):
        start = time.perf_counter()
        if kind == "in-process":
            cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
        else:
            # distributed starts its workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off
            # glibc's dynamic mmap threshold and trims freed memory at once: every buffer of
            # 128 KiB or more is then mapped afresh, page faults included. The fix sets both
            # thresholds before the workers start (an os.environ value would take precedence).
            spawn_env = MALLOC_FIX if kind.endswith("malloc fix") else {}
            pre_spawn = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in spawn_env.items()}
            with dask.config.set(pre_spawn):
                cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, env={"OMP_NUM_THREADS": "1"})
        client = Client(cluster)
        if kind != "in-process":
            env = client.run(os.environ.get, "MALLOC_MMAP_THRESHOLD_")
            assert set(env.values()) == ({str(2**25)} if spawn_env else {None}), env
        previous_threads = torch.get_num_threads()
        client.run(torch.set_num_threads, 1)  # in-process workers are threads of this process
        client.run(__import__, "skautoencoder")
        startup = time.perf_counter() - start
        try:
            def dask_search():
                with joblib.parallel_backend("dask", client=client):
                    return search(n_jobs=-1)

            t_search, result = timed(dask_search, args.repeats)
            expected = in_memory.cv_results_["mean_test_score"]
            assert np.allclose(result.cv_results_["mean_test_score"], expected)
            X_big = client.persist(big_array())  # held by the workers, like the in-memory array
            distributed.wait(X_big)
            t_score, _ = timed(lambda: client.compute(skdask.score_samples(scorer, X_big), sync=True),
                               args.repeats)
            del X_big
            rows.append((kind, startup, t_search, t_score))
        finally:
            client.close()
            cluster.close()
            torch.set_num_threads(previous_threads)
            os.environ.clear()
            os.environ.update(environ)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} cores, load average {load:.1f}; grid search: 4 x 3 fits + refit on "
          f"{X.shape[0]} digits; scoring: {args.rows} x 64 float32 in chunks of {args.chunk}; "
          f"median of {args.repeats} after a warm-up")
    print(f"{'setting':<26}{'start-up s':>12}{'grid search s':>15}{'score_samples s':>17}")
    for kind, startup, t_search, t_score in rows:
        startup = "" if startup is None else f"{startup:.1f}"
        print(f"{kind:<26}{startup:>12}{t_search:>15.2f}{t_score:>17.2f}")


if __name__ == "__main__":
    main()
