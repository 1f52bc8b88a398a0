"""How close generated rows are to held-out data: VariationalAutoencoder.sample against
scikit-learn's kernel density example and simple baselines, on the same split.

    python benchmarks/generate.py                                   # digits, seeds 0 1 2
    python benchmarks/generate.py --datasets digits cancer 6_cardio --data-dir ../shared/data/adbench

For each dataset and seed, a quarter of the rows is held out (digits: pixels / 16,
unscaled; other sets: ``StandardScaler`` fitted on the rest; ADBench sets: their
normal rows only). Each generator is fitted on the training rows and draws as many
rows as are held out. Two measures against the held-out rows:

MMD2
    Squared maximum mean discrepancy (the biased V-statistic) with the RBF kernel
    ``exp(-|x - y|^2 / m)``, ``m`` the median squared distance of the pooled rows;
    lower is closer. The training rows themselves (as many as held out) give the
    floor that sampling noise alone reaches.
C2ST
    Classifier two-sample test: the 2-fold cross-validated accuracy of a
    ``HistGradientBoostingClassifier`` told to separate generated from held-out
    rows; 0.5 = indistinguishable, 1.0 = always told apart.

Generators:

- ``training rows``: the floor;
- ``Gaussian``: a multivariate normal with the training mean and covariance;
- ``KDE example`` (digits): scikit-learn's gallery example "Kernel Density
  Estimation" (``plot_digits_kde_sampling``): ``KernelDensity`` on a 15-component
  PCA of the pixels (0..16), bandwidth by ``GridSearchCV`` over ``logspace(-1, 1, 20)``;
- ``VAE decoder means``: ``inverse_transform`` of codes drawn from ``N(0, I)``, what
  ``sample`` returned before it drew observation noise and matched the data's
  marginals (same fitted model as the next row);
- ``VariationalAutoencoder().sample``: the estimator at its defaults.

Writes generate.json and generate.md to ``--out`` when given.
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
import torch
from scipy.spatial.distance import cdist
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score, train_test_split
from sklearn.neighbors import KernelDensity
from sklearn.preprocessing import StandardScaler

from skautoencoder import VariationalAutoencoder


def mmd2(A, B):
    """Biased squared MMD with the RBF kernel at the median squared distance."""
    pooled = np.vstack([A, B])
    d2 = cdist(pooled, pooled, "sqeuclidean")
    kernel = np.exp(-d2 / np.median(d2[np.triu_indices_from(d2, 1)]))
    n = len(A)
    return float(kernel[:n, :n].mean() + kernel[n:, n:].mean() - 2 * kernel[:n, n:].mean())


def two_sample_accuracy(A, B, seed):
    """2-fold accuracy of a classifier separating the rows of A from those of B."""
    X = np.vstack([A, B])
    y = np.r_[np.zeros(len(A)), np.ones(len(B))]
    cv = StratifiedKFold(2, shuffle=True, random_state=seed)
    return float(cross_val_score(HistGradientBoostingClassifier(random_state=seed), X, y, cv=cv).mean())


def kde_example(X_train, n, seed):
    """scikit-learn's plot_digits_kde_sampling, fitted on the training pixels."""
    pca = PCA(15, whiten=False)
    codes = pca.fit_transform(X_train * 16.0)
    grid = GridSearchCV(KernelDensity(), {"bandwidth": np.logspace(-1, 1, 20)}).fit(codes)
    return pca.inverse_transform(grid.best_estimator_.sample(n, random_state=seed)) / 16.0


def load(name, data_dir):
    if name == "digits":
        return load_digits().data / 16.0, False
    if name == "cancer":
        return load_breast_cancer().data, True
    path = os.path.join(data_dir, f"{name}.npz")
    if not os.path.exists(path):
        return None, None
    data = np.load(path)
    return data["X"][data["y"] == 0].astype(np.float64), True


def run(name, X, scale, seed, max_rows):
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
    X_train, X_test = X_train[:max_rows], X_test[:max_rows // 3]
    if scale:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    n = len(X_test)
    rng = np.random.RandomState(seed)
    generated = {
        "training rows": X_train[rng.choice(len(X_train), n, replace=False)],
        "Gaussian": rng.multivariate_normal(X_train.mean(0), np.cov(X_train.T), n),
    }
    if name == "digits":
        generated["KDE example"] = kde_example(X_train, n, seed)
    t = time.perf_counter()
    vae = VariationalAutoencoder(random_state=seed).fit(X_train)
    fit_s = time.perf_counter() - t
    generated["VAE decoder means"] = vae.inverse_transform(rng.standard_normal((n, vae.n_components_)))
    generated["VariationalAutoencoder().sample"] = vae.sample(n, random_state=seed)
    return {label: {"mmd2": mmd2(rows, X_test), "c2st": two_sample_accuracy(rows, X_test, seed)}
            for label, rows in generated.items()}, fit_s


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["digits"])
    parser.add_argument("--data-dir", default=os.path.join("..", "shared", "data", "adbench"))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--max-rows", type=int, default=3000, help="training rows kept at most")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    results, lines = {}, []
    for name in args.datasets:
        X, scale = load(name, args.data_dir)
        if X is None:
            print(f"{name}: not found in {args.data_dir}, skipped")
            continue
        per_seed = []
        for seed in args.seeds:
            scores, fit_s = run(name, X, scale, seed, args.max_rows)
            per_seed.append(scores)
            print(f"{name} seed {seed}: VAE fit {fit_s:.1f} s", flush=True)
        labels = list(per_seed[0])
        summary = {label: {key: [scores[label][key] for scores in per_seed] for key in ("mmd2", "c2st")}
                   for label in labels}
        results[name] = summary
        lines += [f"\n### {name} ({X.shape[0]} rows, {X.shape[1]} features; seeds {args.seeds})\n",
                  "| generator | MMD² (mean ± sd) | C2ST accuracy (mean ± sd) |", "|---|---|---|"]
        for label in labels:
            m, c = np.array(summary[label]["mmd2"]), np.array(summary[label]["c2st"])
            lines.append(f"| {label} | {m.mean():.4f} ± {m.std():.4f} | {c.mean():.3f} ± {c.std():.3f} |")
    report = "\n".join(lines)
    print(report)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "generate.json"), "w") as f:
            json.dump(results, f, indent=1)
        with open(os.path.join(args.out, "generate.md"), "w") as f:
            f.write(report + "\n")


if __name__ == "__main__":
    main()
