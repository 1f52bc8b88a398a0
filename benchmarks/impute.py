"""Imputation of values removed at random: AutoencoderImputer vs scikit-learn's imputers.

    python benchmarks/impute.py
    python benchmarks/impute.py --datasets breast_cancer --rates 0.1 0.3 --seeds 0 1 2

For each bundled data set (``load_breast_cancer``, ``load_digits``), rate
of removal and seed, that fraction of the entries is set to NaN at random;
each imputer is fitted on the holed matrix and fills it. Reported: RMSE on
the removed entries, in units of each column's standard deviation (so that
large-valued columns do not dominate; constant columns are left out), and
the fit+transform time. Imputers: ``SimpleImputer`` (mean), ``KNNImputer``,
``IterativeImputer`` (default estimator, ``max_iter=10``),
``AutoencoderImputer`` (defaults), in the same run on the same holes.
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from skautoencoder import AutoencoderImputer

DATASETS = {"breast_cancer": load_breast_cancer, "digits": load_digits}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.2, 0.3])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    imputers = {
        "SimpleImputer": lambda seed: SimpleImputer(),
        "KNNImputer": lambda seed: KNNImputer(),
        "IterativeImputer": lambda seed: IterativeImputer(max_iter=10, random_state=seed),
        "AutoencoderImputer": lambda seed: AutoencoderImputer(random_state=seed),
    }
    rows = []
    for name in args.datasets:
        X = DATASETS[name]().data.astype(np.float64)
        std = X.std(axis=0)
        keep = std > 0
        for rate in args.rates:
            scores = {imp: [] for imp in imputers}
            times = {imp: [] for imp in imputers}
            for seed in args.seeds:
                holes = (np.random.RandomState(seed).rand(*X.shape) < rate) & keep
                X_missing = np.where(holes, np.nan, X)
                for imp, make in imputers.items():
                    start = time.perf_counter()
                    filled = make(seed).fit_transform(X_missing)
                    times[imp].append(time.perf_counter() - start)
                    if filled.shape != X.shape:  # SimpleImputer drops all-NaN columns
                        filled = np.where(holes, np.nan, X)
                    err = ((filled - X) / np.where(keep, std, 1.0))[holes]
                    scores[imp].append(float(np.sqrt(np.mean(err**2))))
            for imp in imputers:
                row = {"dataset": name, "rate": rate, "imputer": imp, "rmse": float(np.mean(scores[imp])),
                       "rmse_std": float(np.std(scores[imp])), "seconds": float(np.median(times[imp]))}
                rows.append(row)
                print(f"{name:<14} {rate:.1f} {imp:<19} RMSE {row['rmse']:.4f} ± {row['rmse_std']:.4f} "
                      f"{row['seconds']:.2f} s", flush=True)
    lines = ["| data | removed | " + " | ".join(imputers) + " |", "|---" * (len(imputers) + 2) + "|"]
    for name in args.datasets:
        for rate in args.rates:
            cells = {r["imputer"]: r for r in rows if r["dataset"] == name and r["rate"] == rate}
            lines.append(f"| {name} | {rate:.0%} | " + " | ".join(
                f"{cells[i]['rmse']:.3f} ({cells[i]['seconds']:.1f} s)" for i in imputers) + " |")
    table = "\n".join(lines)
    print("\nRMSE on removed entries, in column standard deviations (time to fit and fill)\n" + table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "impute.json"), "w") as f:
        json.dump({"args": vars(args), "results": rows}, f, indent=2)
    with open(os.path.join(args.out, "impute.md"), "w") as f:
        f.write(table + "\n")


if __name__ == "__main__":
    main()
