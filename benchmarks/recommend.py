"""Held-out rating prediction: a masked-loss Autoencoder (AutoRec-style) vs baselines.

    python benchmarks/recommend.py                                  # synthetic ratings
    python benchmarks/recommend.py --users 2000 --items 500 --density 0.05
    python benchmarks/recommend.py --ratings ml-latest-small/ratings.csv

Data: a synthetic low-rank ratings matrix (``--users x --items``, rank
``--rank``, ``--density`` of the entries observed, ratings clipped to
[1, 5]), or any ratings file in MovieLens CSV format
(``userId,movieId,rating,...``). Rows are users, columns items, kept sparse.

Protocol: for every user, a random 20% of their ratings is held out; models
see the rest. Reported: RMSE on the held-out ratings and fit time, for the
global mean, item means, user means, ``TruncatedSVD`` of the zero-filled
item-centred matrix, and ``Autoencoder(missing='mask')`` on the same
item-centred matrix (unobserved entries left out of the loss), all in the
same run on the same split.
"""

import argparse
import csv
import json
import os
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning

from skautoencoder import Autoencoder


def synthetic(users, items, density, rank, seed):
    rng = np.random.RandomState(seed)
    full = 3 + (rng.randn(users, rank) @ rng.randn(rank, items)) / np.sqrt(rank) + 0.3 * rng.randn(users, items)
    full = np.clip(full, 1, 5)
    observed = rng.rand(users, items) < density
    rows, cols = np.nonzero(observed)
    return sp.csr_matrix((full[rows, cols], (rows, cols)), shape=(users, items))


def movielens(path):
    users, items, values = [], [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            users.append(row["userId"])
            items.append(row["movieId"])
            values.append(float(row["rating"]))
    _, u = np.unique(users, return_inverse=True)
    _, i = np.unique(items, return_inverse=True)
    return sp.csr_matrix((values, (u, i)), shape=(u.max() + 1, i.max() + 1))


def split(R, seed, fraction=0.2):
    """Per user, a random ``fraction`` of the stored ratings goes to the test set."""
    rng = np.random.RandomState(seed)
    R = R.tocoo()
    test = np.zeros(R.nnz, dtype=bool)
    order = np.argsort(R.row, kind="stable")
    bounds = np.searchsorted(R.row[order], np.arange(R.shape[0] + 1))
    for start, stop in zip(bounds[:-1], bounds[1:]):
        n = stop - start
        if n >= 2:
            test[order[start + rng.choice(n, max(1, int(round(fraction * n))), replace=False)]] = True
    train = sp.csr_matrix((R.data[~test], (R.row[~test], R.col[~test])), shape=R.shape)
    return train, (R.row[test], R.col[test], R.data[test])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", help="MovieLens-format CSV; synthetic data when omitted")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--rank", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)

    results = {}
    for seed in args.seeds:
        R = movielens(args.ratings) if args.ratings else synthetic(args.users, args.items, args.density, args.rank, seed)
        train, (rows, cols, truth) = split(R, seed)
        counts = train.getnnz(axis=0)
        global_mean = train.data.mean()
        item_mean = np.where(counts > 0, np.asarray(train.sum(axis=0)).ravel() / np.maximum(counts, 1), global_mean)
        user_counts = train.getnnz(axis=1)
        user_mean = np.where(user_counts > 0, np.asarray(train.sum(axis=1)).ravel() / np.maximum(user_counts, 1),
                             global_mean)
        centred = train.copy()
        centred.data -= item_mean[centred.indices]

        predictions, times = {}, {}
        predictions["global mean"] = np.full(len(truth), global_mean)
        predictions["item mean"] = item_mean[cols]
        predictions["user mean"] = user_mean[rows]
        start = time.perf_counter()
        svd = TruncatedSVD(args.n_components, random_state=seed).fit(centred)
        codes = svd.transform(centred)
        times["TruncatedSVD"] = time.perf_counter() - start
        predictions["TruncatedSVD"] = np.einsum("ij,ji->i", codes[rows], svd.components_[:, cols]) + item_mean[cols]
        start = time.perf_counter()
        model = Autoencoder(args.n_components, hidden_layer_sizes=(128,), missing="mask", random_state=seed)
        model.fit(centred)
        times["Autoencoder(missing='mask')"] = time.perf_counter() - start
        recon = model.inverse_transform(model.transform(centred))
        predictions["Autoencoder(missing='mask')"] = recon[rows, cols] + item_mean[cols]
        for name, pred in predictions.items():
            rmse = float(np.sqrt(np.mean((np.clip(pred, R.data.min(), R.data.max()) - truth) ** 2)))
            results.setdefault(name, {"rmse": [], "fit_s": []})
            results[name]["rmse"].append(rmse)
            results[name]["fit_s"].append(times.get(name, 0.0))
        print(f"seed {seed}: {R.shape[0]} users x {R.shape[1]} items, {R.nnz} ratings, {len(truth)} held out",
              flush=True)

    lines = ["| model | held-out RMSE | fit s |", "|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {np.mean(r['rmse']):.4f} ± {np.std(r['rmse']):.4f} | {np.median(r['fit_s']):.2f} |")
    table = "\n".join(lines)
    print(table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "recommend.json"), "w") as f:
        json.dump({"args": vars(args), "results": results}, f, indent=2)
    with open(os.path.join(args.out, "recommend.md"), "w") as f:
        f.write(table + "\n")


if __name__ == "__main__":
    main()
