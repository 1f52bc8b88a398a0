"""Are SparseAutoencoder codes sparse per row, and at what cost in reconstruction?

    python benchmarks/sparse_codes.py                                  # digits, k=32, seeds 0 1 2
    python benchmarks/sparse_codes.py --datasets digits cancer 31_satimage-2 --data-dir ../shared/data/adbench
    python benchmarks/sparse_codes.py --settings '{}' '{"sparsity": "kl"}' '{"sparsity": "l1"}'

For each dataset and seed, a quarter of the rows is held out (digits: pixels / 16,
unscaled; other sets: ``StandardScaler`` fitted on the rest; at most 5,000 rows).
A plain ``Autoencoder(k)`` and ``SparseAutoencoder(k, **setting)`` for each
``--settings`` entry (JSON; ``{}`` is the defaults) are fitted on the training rows;
on the held-out rows the script reports:

R2
    ``r2_score(X_test, inverse_transform(transform(X_test)), multioutput="variance_weighted")``,
    and its difference to the plain autoencoder's (``dR2``);
R2 cut
    the same after zeroing the near-zero codes (below): the small codes carry no
    hidden information when it matches R2;
near zero
    fraction of codes whose magnitude is below 1% of the largest in their row;
active
    mean number of codes per row that are not near zero;
Hoyer
    mean over rows of Hoyer's sparsity ``(sqrt(k) - |z|_1 / |z|_2) / (sqrt(k) - 1)``:
    0 for equal magnitudes, 1 for a single non-zero code;
fit s
    wall-clock seconds of ``fit`` (one torch thread).

Writes sparse_codes.md to ``--out`` when given.
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skautoencoder import Autoencoder, SparseAutoencoder


def hoyer(Z):
    n = Z.shape[1]
    ratio = np.abs(Z).sum(1) / (np.sqrt((Z ** 2).sum(1)) + 1e-12)
    return float(np.mean((np.sqrt(n) - ratio) / (np.sqrt(n) - 1)))


def near_zero(Z):
    return np.abs(Z) < 0.01 * np.abs(Z).max(axis=1, keepdims=True)


def r2(model, X, codes):
    return r2_score(X, model.inverse_transform(codes), multioutput="variance_weighted")


def load(name, data_dir):
    if name == "digits":
        return load_digits().data / 16.0, False
    if name == "cancer":
        return load_breast_cancer().data, True
    path = os.path.join(data_dir, f"{name}.npz")
    if not os.path.exists(path):
        return None, None
    X = np.load(path)["X"].astype(np.float64)
    if len(X) > 5000:
        X = X[np.random.RandomState(0).permutation(len(X))[:5000]]
    return X, True


def measure(model, X_test):
    Z = model.transform(X_test)
    small = near_zero(Z)
    return {"R2": r2(model, X_test, Z), "R2 cut": r2(model, X_test, np.where(small, 0.0, Z)),
            "near zero": float(small.mean()), "active": float((~small).sum(1).mean()), "Hoyer": hoyer(Z)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["digits"])
    parser.add_argument("--data-dir", default=os.path.join("..", "shared", "data", "adbench"))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--settings", nargs="+", default=["{}"], help="SparseAutoencoder parameters, JSON")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    k = args.n_components
    lines = []
    for name in args.datasets:
        X, scale = load(name, args.data_dir)
        if X is None:
            print(f"{name}: not found in {args.data_dir}, skipped")
            continue
        rows = {}
        for seed in args.seeds:
            X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
            if scale:
                scaler = StandardScaler().fit(X_train)
                X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
            models = {"Autoencoder (plain)": Autoencoder(k, random_state=seed)}
            for setting in args.settings:
                params = json.loads(setting)
                models[f"SparseAutoencoder({setting})"] = SparseAutoencoder(k, random_state=seed, **params)
            plain = None
            for label, model in models.items():
                start = time.perf_counter()
                model.fit(X_train)
                seconds = time.perf_counter() - start
                scores = measure(model, X_test)
                scores["fit s"] = seconds
                plain = scores["R2"] if plain is None else plain
                scores["dR2"] = scores["R2"] - plain
                rows.setdefault(label, []).append(scores)
                measured = ", ".join(f"{key} {v:.3f}" for key, v in scores.items())
                print(f"{name} seed {seed} {label}: {measured}", flush=True)
        keys = ["R2", "dR2", "R2 cut", "near zero", "active", "Hoyer", "fit s"]
        lines += [f"\n### {name} ({X.shape[0]} rows, {X.shape[1]} features), n_components={k}, "
                  f"seeds {args.seeds} (mean ± sd)\n",
                  "| model | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
        for label, per_seed in rows.items():
            cells = []
            for key in keys:
                values = np.array([s[key] for s in per_seed])
                cells.append(f"{values.mean():.1f}" if key == "active" else f"{values.mean():.2f}"
                             if key == "fit s" else f"{values.mean():.3f} ± {values.std():.3f}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    report = "\n".join(lines)
    print(report)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "sparse_codes.md"), "w") as f:
            f.write(report + "\n")


if __name__ == "__main__":
    main()
