"""How ``score_samples`` combines reconstruction error and the code term, chosen across data sets.

    python benchmarks/outlier_scores.py                  # ADBench sets of ../shared/data, seeds 0 1 2
    python benchmarks/outlier_scores.py --datasets glass WBC --seeds 0

A row can be abnormal off the surface the model reconstructs (its
reconstruction error) or on it, far from the data (its code). This script
fits three models per split of ``benchmarks/outliers.py``'s protocol
(``Autoencoder()``, ``Autoencoder(init='random')`` and
``AutoencoderOutlierDetector()``, each after a ``StandardScaler``), and scores
the test rows six ways from the public methods alone: the reconstruction
error ``e`` (``-score_features(X).sum(axis=1)``), the squared Mahalanobis
distance ``m`` of the code (``transform(X)``) from the training codes, and
four combinations: ``e / median(e_train) + m / median(m_train)`` (what
``score_samples`` computes), the same with means, ``log e + log m``, and
``e * n_features / mean(e_train) + m``. Then a dataset-level
cross-validation of the choice among the six: leave one data set out, and 5
repeats of random halves; in each fold the combination with the best mean
ROC-AUC over the three models on the fold's training sets is chosen and
scored on the held-out sets. Reported: the out-of-fold means per model, how
often each combination was chosen, and, labelled in-sample, each
combination's mean over all sets.
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import outliers as protocol  # noqa: E402 - the same splits as benchmarks/outliers.py

from skautoencoder import Autoencoder, AutoencoderOutlierDetector  # noqa: E402

MODELS = {
    "Autoencoder()": lambda seed: Autoencoder(random_state=seed, device="cpu"),
    "Autoencoder(init='random')": lambda seed: Autoencoder(init="random", random_state=seed, device="cpu"),
    "AutoencoderOutlierDetector()": lambda seed: AutoencoderOutlierDetector(random_state=seed, device="cpu"),
}


def scores(model, X_train, X_test):
    """``{combination: anomaly score of the test rows}`` (higher = more abnormal)."""
    def parts(X):
        codes = np.asarray(model.transform(X), dtype=np.float64)
        return codes, -np.asarray(model.score_features(X)).sum(axis=1)

    codes_train, e_train = parts(X_train)
    codes_test, e_test = parts(X_test)
    center = codes_train.mean(axis=0)
    covariance = np.atleast_2d(np.cov(codes_train, rowvar=False, bias=True))
    ridge = 1e-6 * np.trace(covariance) / len(covariance)
    inverse = np.linalg.inv(covariance + ridge * np.eye(len(covariance)))

    def distance(codes):
        return np.einsum("ij,jk,ik->i", codes - center, inverse, codes - center)

    m_train, m_test = distance(codes_train), distance(codes_test)
    return {
        "error": e_test,
        "code": m_test,
        "median-scaled sum": e_test / np.median(e_train) + m_test / np.median(m_train),
        "mean-scaled sum": e_test / e_train.mean() + m_test / m_train.mean(),
        "log product": np.log(e_test + 1e-12) + np.log(m_test + 1e-12),
        "per-dimension sum": e_test * X_train.shape[1] / e_train.mean() + m_test,
    }


def cross_validate(per, names, candidates, folds):
    """Out-of-fold means per model, and the choices, over ``folds`` (train, test) index pairs."""
    held, chosen = {model: [] for model in per}, []
    for train, test in folds:
        best = max(candidates, key=lambda c: np.mean([per[model][c][train].mean() for model in per]))
        chosen.append(best)
        for model in per:
            held[model].append(per[model][best][test].mean())
    return {model: float(np.mean(v)) for model, v in held.items()}, chosen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(protocol.DEFAULT_DATA))
    parser.add_argument("--datasets", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if not Path(args.data_dir).is_dir():
        print(f"data directory {args.data_dir} not found: nothing to benchmark")
        return 0
    datasets = protocol.find_datasets(args.data_dir, args.datasets)
    aucs = {model: {} for model in MODELS}  # model -> dataset -> combination -> [auc per seed]
    for name, path in datasets.items():
        X, y = protocol.load_dataset(path)
        for seed in args.seeds:
            X_train, X_test, _, y_test = protocol.make_split(X, y, seed)
            scaler = protocol.StandardScaler().fit(X_train)
            X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
            for model_name, make in MODELS.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = make(seed).fit(X_train)
                for combination, score in scores(model, X_train, X_test).items():
                    aucs[model_name].setdefault(name, {}).setdefault(combination, []).append(
                        roc_auc_score(y_test, score))
        line = " | ".join(f"{m}: error {np.mean(aucs[m][name]['error']):.3f} median-scaled sum "
                          f"{np.mean(aucs[m][name]['median-scaled sum']):.3f}" for m in MODELS)
        print(name, line, flush=True)
    names = list(datasets)
    candidates = list(next(iter(aucs[next(iter(MODELS))].values())))
    per = {m: {c: np.array([np.mean(aucs[m][n][c]) for n in names]) for c in candidates} for m in MODELS}
    everything = np.arange(len(names))
    lodo = [(np.delete(everything, i), np.array([i])) for i in everything]
    rng, halves = np.random.default_rng(0), []
    for _ in range(5):
        perm = rng.permutation(len(names))
        a, b = perm[:len(names) // 2], perm[len(names) // 2:]
        halves += [(a, b), (b, a)]
    print(f"\n{len(names)} data sets, seeds {args.seeds}; mean ROC-AUC\n")
    print("| model | error alone (in-sample) | leave-one-set-out | 5 x random halves |")
    print("|---|---|---|---|")
    results = {scheme: cross_validate(per, names, candidates, folds) for scheme, folds in
               (("lodo", lodo), ("halves", halves))}
    for m in MODELS:
        out_lodo, out_halves = results["lodo"][0][m], results["halves"][0][m]
        print(f"| {m} | {per[m]['error'].mean():.4f} | {out_lodo:.4f} | {out_halves:.4f} |")
    for scheme, (_, chosen) in results.items():
        print(f"\n{scheme}: chosen", {c: chosen.count(c) for c in candidates if c in chosen})
    print("\nin-sample, each combination's mean over all sets:")
    for c in candidates:
        print(f"  {c:<18}", "  ".join(f"{m} {per[m][c].mean():.4f}" for m in MODELS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
