"""Held-out reconstruction R2 of PCA, Autoencoder(init='random') and Autoencoder(init='pca').

    python benchmarks/reconstruction.py --data-dir ../shared/data/adbench --seeds 0

Data: the 8x8 digits (pixels scaled to [0, 1]) and every ADBench set in
``--data-dir`` with at least ``--min-features`` features (standardised with
the training quarter's means and scales; training rows capped at
``--max-train``). Each set is split into a training and a held-out quarter
per seed; each model is fitted on the training rows with its defaults and
``random_state=seed``, for every ``k`` in ``--components`` below the number
of features. R2 is ``r2_score(X_test, inverse_transform(transform(X_test)),
multioutput="variance_weighted")``. Printed per set and ``k``: the three R2,
the differences ``pca - PCA`` and ``pca - random``, and the fit times; at the
end the worst differences and the ratio of total fit times. All three run
in the same process, on the same splits. Without ``--data-dir`` (or when it
is missing) only the digits run.

Time to PCA's quality (``--stream``)::

    python benchmarks/reconstruction.py --stream --data-dir ../shared/data/adbench --seeds 0

Data: ADBench's mnist (7,603 x 100, the largest shared set with at least 16
features; when ``--data-dir`` has it); ``mnist-resampled``, ``--large-rows``
training rows drawn with replacement from mnist's training rows plus Gaussian
noise of 0.1 column scales, held out: mnist's own held-out quarter; and
``manifold``, generated here (a smooth 4-dimensional manifold embedded in 64
dimensions, plus noise), ``--large-rows`` training rows and a held-out
quarter. A ``StandardScaler`` is fitted on the training rows (all of them: no
cap). Per ``k`` in ``--stream-components``:
``PCA(k)``'s fit time on all training rows (the median of ``--repeats`` fits)
and its held-out R2; then each of the default ``Autoencoder(k,
random_state=seed)`` (which starts at PCA), ``Autoencoder(k, init='random',
random_state=seed)`` and, as the streaming baseline, ``IncrementalPCA(k)`` is
fed ``partial_fit`` on consecutive ``--chunk``-row chunks of the training rows
(for at most ``--max-passes`` passes) until its held-out R2 reaches PCA's. The
cumulative ``partial_fit`` wall time (the R2 evaluations are not timed) over
PCA's fit time is the ratio printed, with the chunks needed ("-" when the cap
was reached first; the ratio is then ">" the time spent).
One torch thread for every model, and one BLAS thread (``threadpoolctl``;
``--blas-threads 0`` leaves numpy's BLAS as loaded, which on a busy machine
makes every timing noisy); one untimed warm-up ``PCA`` fit and ``partial_fit``
call first, so that neither pays for imports or lazy initialisation.
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA, IncrementalPCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skautoencoder import Autoencoder


def datasets(data_dir, min_features):
    """``(name, X, scale)`` of the digits and the wide enough ADBench sets."""
    yield "digits", load_digits().data / 16.0, False
    if not data_dir or not os.path.isdir(data_dir):
        return
    for file in sorted(os.listdir(data_dir), key=lambda f: int(f.split("_")[0]) if f[0].isdigit() else 0):
        if file.endswith(".npz"):
            X = np.load(os.path.join(data_dir, file))["X"].astype(np.float64)
            if X.shape[1] >= min_features:
                yield file[:-4], X, True


def heldout_r2(model, X_train, X_test):
    start = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - start
    recon = model.inverse_transform(model.transform(X_test))
    return r2_score(X_test, recon, multioutput="variance_weighted"), seconds


def split(X, scale, seed, max_train):
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
    if X_train.shape[0] > max_train:
        X_train = X_train[np.random.RandomState(seed).choice(X_train.shape[0], max_train, replace=False)]
    if scale:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return X_train, X_test


def manifold(n_samples, n_features=64, n_latent=4, noise=0.05, seed=0):
    """Rows of a smooth ``n_latent``-dimensional manifold in ``n_features`` dimensions.

    Latent points uniform in ``[-1, 1]^n_latent``; each feature is the sine of
    a random projection of them (frequencies up to about 2), mixed by a
    random rotation, plus Gaussian noise of scale ``noise``.
    """
    rng = np.random.RandomState(seed)
    latent = rng.uniform(-1, 1, (n_samples, n_latent))
    waves = np.sin(latent @ rng.normal(0, 1.0, (n_latent, n_features)) + rng.uniform(0, np.pi, n_features))
    rotation, _ = np.linalg.qr(rng.normal(size=(n_features, n_features)))
    return waves @ rotation + noise * rng.normal(size=(n_samples, n_features))


def stream_sets(args, seed):
    """``(name, X_train, X_test)`` of the sets that ``--stream`` measures, standardised with
    the training rows' means and scales."""
    path = os.path.join(args.data_dir or "", "24_mnist.npz")
    if args.data_dir and os.path.isfile(path):
        X = np.load(path)["X"].astype(np.float64)
        yield ("mnist",) + split(X, True, seed, X.shape[0])
        # a large set drawn from mnist's training rows (plus noise of 0.1 column scales);
        # held out: mnist's own held-out rows, never resampled
        X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
        rng = np.random.RandomState(seed)
        X_train = X_train[rng.randint(0, X_train.shape[0], args.large_rows)]
        X_train += 0.1 * X_train.std(axis=0) * rng.normal(size=X_train.shape)
        scaler = StandardScaler().fit(X_train)
        yield "mnist-resampled", scaler.transform(X_train), scaler.transform(X_test)
    X = manifold(args.large_rows * 4 // 3, seed=seed)
    yield ("manifold",) + split(X, True, seed, X.shape[0])


def time_to_r2(model, X_train, X_test, target, chunk, max_passes):
    """Feed ``model.partial_fit`` consecutive ``chunk``-row chunks of ``X_train`` until its
    held-out R2 reaches ``target``: ``(seconds in partial_fit, chunks or None, last R2)``."""
    seconds, r2 = 0.0, -np.inf
    starts = list(range(0, X_train.shape[0], chunk)) * max_passes
    for n, start in enumerate(starts, 1):
        rows = X_train[start:start + chunk]
        begin = time.perf_counter()
        model.partial_fit(rows)
        seconds += time.perf_counter() - begin
        recon = model.inverse_transform(model.transform(X_test))
        r2 = r2_score(X_test, recon, multioutput="variance_weighted")
        if r2 >= target:
            return seconds, n, r2
    return seconds, None, r2


def stream_row(name, X_train, X_test, k, seed, args):
    """PCA's fit time and held-out R2, and each init's time to reach that R2."""
    fits = [heldout_r2(PCA(k, random_state=seed), X_train, X_test) for _ in range(args.repeats)]
    target, pca_s = fits[0][0], float(np.median([s for _, s in fits]))
    row = {"set": name, "rows": X_train.shape[0], "k": k, "seed": seed, "PCA": target, "PCA_fit_s": pca_s}
    models = {"default": Autoencoder(k, random_state=seed),
              "random": Autoencoder(k, init="random", random_state=seed),
              "ipca": IncrementalPCA(k)}
    for key, model in models.items():
        seconds, chunks, r2 = time_to_r2(model, X_train, X_test, target, args.chunk, args.max_passes)
        row.update({f"{key}_s": seconds, f"{key}_chunks": chunks, f"{key}_r2": r2,
                    f"{key}_ratio": seconds / pca_s if chunks else None})
    return row


def stream_line(row):
    cells = [f"{row['set']:<15} {row['rows']:>7} {row['k']:>3} {row['PCA_fit_s']:>7.3f} {row['PCA']:>7.4f}"]
    for init in ("default", "random", "ipca"):
        if row[f"{init}_chunks"] is None:  # not reached: more than the time spent
            ratio, chunks = f">{row[f'{init}_s'] / row['PCA_fit_s']:.0f}", "-"
        else:
            ratio, chunks = f"{row[f'{init}_ratio']:.1f}", row[f"{init}_chunks"]
        cells.append(f"{row[f'{init}_s']:>7.3f} {ratio:>6} {chunks:>6}")
    return " ".join(cells)


def stream_main(args):
    """The ``--stream`` section: time to PCA's held-out R2 with ``partial_fit``."""
    torch.set_num_threads(1)
    results = []
    print(f"{'set':<15} {'rows':>7} {'k':>3} {'PCA s':>7} {'PCA R2':>7} "
          + " ".join(f"{m + ' s':>7} {'ratio':>6} {'chunks':>6}" for m in ("dflt", "rnd", "ipca")),
          flush=True)
    with threadpool_limits(args.blas_threads or None):
        for seed in args.seeds:
            for name, X_train, X_test in stream_sets(args, seed):
                if args.sets and name not in args.sets:
                    continue
                PCA(2).fit(X_train[:args.chunk])  # warm-up, untimed
                Autoencoder(2, random_state=seed).partial_fit(X_train[:args.chunk])
                for k in args.stream_components:
                    if k < X_train.shape[1]:
                        results.append(stream_row(name, X_train, X_test, k, seed, args))
                        print(stream_line(results[-1]), flush=True)
    print(f"\nchunks of {args.chunk} rows, at most {args.max_passes} passes; seeds {args.seeds}; "
          f"1 torch thread, BLAS threads: {args.blas_threads or 'as loaded'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "stream": results}, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="directory of ADBench .npz files (X, y)")
    parser.add_argument("--min-features", type=int, default=16)
    parser.add_argument("--components", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--max-train", type=int, default=20000)
    parser.add_argument("--sets", nargs="+", help="only these sets (names without .npz)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--stream", action="store_true", help="time partial_fit to PCA's held-out R2 instead")
    parser.add_argument("--stream-components", type=int, nargs="+", default=[4, 16, 32])
    parser.add_argument("--chunk", type=int, default=2048)
    parser.add_argument("--max-passes", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="PCA fits timed (the median is used)")
    parser.add_argument("--blas-threads", type=int, default=1, help="0: leave the BLAS threads as they are")
    parser.add_argument("--large-rows", type=int, default=162000, help="training rows of the large sets")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.stream:
        return stream_main(args)

    results = []
    header = (f"{'set':<14} {'k':>3} {'PCA':>6} {'random':>6} {'pca':>6} {'pca-PCA':>8} {'pca-rnd':>8} "
              f"{'PCA s':>6} {'rnd s':>6} {'pca s':>6}")
    print(header, flush=True)
    for name, X, scale in datasets(args.data_dir, args.min_features):
        if args.sets and name not in args.sets:
            continue
        for k in args.components:
            if k >= X.shape[1]:
                continue
            runs = {"PCA": [], "random": [], "pca": []}
            for seed in args.seeds:
                X_train, X_test = split(X, scale, seed, args.max_train)
                runs["PCA"].append(heldout_r2(PCA(k, random_state=seed), X_train, X_test))
                for init in ("random", "pca"):
                    model = Autoencoder(k, init=init, random_state=seed)
                    runs[init].append(heldout_r2(model, X_train, X_test))
            row = {"set": name, "k": k}
            for model, values in runs.items():
                row[model] = float(np.mean([r2 for r2, _ in values]))
                row[f"{model}_fit_s"] = float(np.mean([s for _, s in values]))
            results.append(row)
            print(f"{name:<14} {k:>3} {row['PCA']:>6.3f} {row['random']:>6.3f} {row['pca']:>6.3f} "
                  f"{row['pca'] - row['PCA']:>+8.4f} {row['pca'] - row['random']:>+8.4f} "
                  f"{row['PCA_fit_s']:>6.2f} {row['random_fit_s']:>6.2f} {row['pca_fit_s']:>6.2f}",
                  flush=True)
    vs_pca = min(r["pca"] - r["PCA"] for r in results)
    vs_random = min(r["pca"] - r["random"] for r in results)
    times = {m: sum(r[f"{m}_fit_s"] for r in results) for m in ("PCA", "random", "pca")}
    print(f"\n{len(results)} (set, k) pairs, seeds {args.seeds}")
    print(f"worst init='pca' - PCA:    {vs_pca:+.4f}")
    print(f"worst init='pca' - random: {vs_random:+.4f}")
    print(f"total fit s: PCA {times['PCA']:.1f}, random {times['random']:.1f}, pca {times['pca']:.1f} "
          f"(pca / random = {times['pca'] / times['random']:.2f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
