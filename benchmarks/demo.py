"""The main job, end to end on bundled data (offline): ``make demo``.

On scikit-learn's digits (8x8 images, 64 features):

1. PCA vs Autoencoder (its default ``init='pca'``, and ``init='random'``) at
   equal ``n_components`` in the same Pipeline: held-out reconstruction R2, and
   the accuracy of a LogisticRegression on the codes;
2. GridSearchCV over ``n_components`` of a supervised pipeline;
3. outlier scores: held-out digits against corrupted ones, Autoencoder vs
   IsolationForest (ROC-AUC of ``-score_samples``).
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skautoencoder import Autoencoder


def table(rows, header):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).rjust(w) for x, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def codes_pipeline(reducer):
    return Pipeline([
        ("reduce", reducer),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(max_iter=2000)),
    ])


def main(seed=0, components=(2, 8, 16, 32)):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
    start = time.perf_counter()

    print("1. PCA vs Autoencoder on held-out digits (same Pipeline)\n")
    rows = []
    for k in components:
        for name, reducer in [("PCA", PCA(k, random_state=seed)),
                              ("Autoencoder", Autoencoder(k, random_state=seed)),
                              ("init='random'", Autoencoder(k, init="random", random_state=seed))]:
            pipe = codes_pipeline(reducer)
            t = time.perf_counter()
            pipe.fit(X_train, y_train)
            fit_s = time.perf_counter() - t
            reducer = pipe.named_steps["reduce"]
            recon = reducer.inverse_transform(reducer.transform(X_test))
            r2 = r2_score(X_test, recon, multioutput="variance_weighted")
            rows.append([k, name, f"{r2:.3f}", f"{pipe.score(X_test, y_test):.3f}", f"{fit_s:.2f}"])
    print(table(rows, ["n_components", "model", "R2 (held-out)", "LogReg accuracy", "fit s"]))

    print("\n2. GridSearchCV over n_components (3-fold, scored by the classifier)\n")
    search = GridSearchCV(
        codes_pipeline(Autoencoder(random_state=seed)), {"reduce__n_components": [2, 4, 8, 16]}, cv=3
    )
    t = time.perf_counter()
    search.fit(X_train, y_train)
    rows = [
        [p["reduce__n_components"], f"{m:.3f}", f"{s:.3f}"]
        for p, m, s in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"],
                           search.cv_results_["std_test_score"])
    ]
    print(table(rows, ["n_components", "mean CV accuracy", "std"]))
    print(f"best: {search.best_params_}, held-out accuracy {search.score(X_test, y_test):.3f}, "
          f"{time.perf_counter() - t:.1f} s")

    print("\n3. Outlier scores: held-out digits vs 5% corrupted ones (ROC-AUC, higher is better)\n")
    rng = np.random.RandomState(seed)
    n_out = max(1, len(X_test) // 20)
    corrupted = X_test[:n_out].copy()
    mask = rng.rand(*corrupted.shape) < 0.3
    corrupted[mask] = rng.rand(mask.sum())
    X_eval = np.vstack([X_test[n_out:], corrupted])
    is_outlier = np.r_[np.zeros(len(X_test) - n_out), np.ones(n_out)]
    rows = []
    for name, det in [("Autoencoder", Autoencoder(random_state=seed)),
                      ("IsolationForest", IsolationForest(random_state=seed))]:
        det.fit(X_train)
        auc = roc_auc_score(is_outlier, -det.score_samples(X_eval))
        flagged = np.mean(det.predict(X_eval)[is_outlier == 1] == -1)
        rows.append([name, f"{auc:.3f}", f"{flagged:.2f}"])
    print(table(rows, ["detector", "ROC-AUC", "share of corrupted flagged by predict"]))
    print(f"\ntotal {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    main(args.seed)
