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
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

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
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)

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
                    model = Autoencoder(k, init=init, random_state=seed, n_iter_no_change=20)
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
