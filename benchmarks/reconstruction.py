"""Held-out reconstruction R2 of Autoencoder vs PCA on digits, in the same run.

    python benchmarks/reconstruction.py --components 2 4 8 16 32 --seeds 0 1 2

R2 is ``r2_score(X_test, inverse_transform(transform(X_test)),
multioutput="variance_weighted")`` on a held-out quarter of the digits (pixels
scaled to [0, 1]); mean and standard deviation over the seeds (split and model).
"""

import argparse
import json
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

from skautoencoder import Autoencoder


def heldout_r2(model, X_train, X_test):
    model.fit(X_train)
    recon = model.inverse_transform(model.transform(X_test))
    return r2_score(X_test, recon, multioutput="variance_weighted")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--components", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)

    X = load_digits().data / 16.0
    results = []
    print(f"{'k':>3} {'PCA R2':>14} {'Autoencoder R2':>16} {'AE fit s':>9}")
    for k in args.components:
        pca, ae, fit_s = [], [], []
        for seed in args.seeds:
            X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
            pca.append(heldout_r2(PCA(k), X_train, X_test))
            t = time.perf_counter()
            ae.append(heldout_r2(Autoencoder(k, random_state=seed), X_train, X_test))
            fit_s.append(time.perf_counter() - t)
        row = {"n_components": k, "pca_r2": float(np.mean(pca)), "pca_std": float(np.std(pca)),
               "autoencoder_r2": float(np.mean(ae)), "autoencoder_std": float(np.std(ae)),
               "autoencoder_fit_s": float(np.median(fit_s))}
        results.append(row)
        print(f"{k:>3} {row['pca_r2']:>8.3f} ±{row['pca_std']:.3f} {row['autoencoder_r2']:>10.3f} "
              f"±{row['autoencoder_std']:.3f} {row['autoencoder_fit_s']:>9.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
