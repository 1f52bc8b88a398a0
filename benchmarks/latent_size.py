"""Held-out R2 against the latent size k: one ordered fit, separate fits per k, PCA.

    python benchmarks/latent_size.py                          # digits + 2 ADBench sets
    python benchmarks/latent_size.py --datasets digits --seeds 0 1 2
    python benchmarks/latent_size.py --data-dir ../shared/data/adbench --out benchmarks/results
    python benchmarks/latent_size.py --datasets digits wine breast_cancer all --fractions 0.8 0.9 0.95 \
        --fractions-only                                      # the fraction checks on every set

For each dataset and seed (a held-out quarter of the rows, ``StandardScaler``
fitted on the rest; digits are pixels / 16, unscaled):

ordered
    ONE ``Autoencoder(n_components=K, ordered=True)`` with ``K`` the width that
    ``n_components=<fraction>`` trains (``min(n_features, 64)`` with the
    default hidden layers); its code truncated to the first ``k`` columns
    (the others set to zero) and decoded.
separate
    ``Autoencoder(n_components=k)`` fitted anew for every ``k``.
PCA
    ``PCA(n_components=k)``.

R2 is ``r2_score(X_test, reconstruction, multioutput="variance_weighted")``.
The script also fits ``Autoencoder(n_components=f)`` for each ``--fractions f``
and reports the chosen ``n_components_`` with its test R2, beside the ``k``
that PCA(n_components=f) chooses (``--fractions-only``: only these). ``digits``,
``wine`` and ``breast_cancer`` are scikit-learn's; other names are ``.npz``
files of ``--data-dir`` (``all``: every one), skipped when the folder is absent.
Writes latent_size.json and latent_size.md.
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skautoencoder import Autoencoder


def load(name, data_dir):
    if name == "digits":
        return load_digits().data / 16.0, False
    if name in ("wine", "breast_cancer"):
        return {"wine": load_wine, "breast_cancer": load_breast_cancer}[name]().data, True
    path = os.path.join(data_dir, f"{name}.npz")
    if not os.path.exists(path):
        return None, None
    return np.load(path)["X"].astype(np.float64), True


def r2(model, X_test, k=None):
    codes = model.transform(X_test)
    if k is not None:
        codes = codes.copy()
        codes[:, k:] = 0.0
    return r2_score(X_test, model.inverse_transform(codes), multioutput="variance_weighted")


def run(name, X, scale, seed, ks, fractions, fractions_only=False):
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
    if scale:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    width = min(X.shape[1], 64)
    rows = {}
    ordered_s = separate_s = 0.0
    if not fractions_only:
        t = time.perf_counter()
        ordered = Autoencoder(width, ordered=True, random_state=seed).fit(X_train)
        ordered_s = time.perf_counter() - t
    for k in [] if fractions_only else ks:
        t = time.perf_counter()
        separate = Autoencoder(k, random_state=seed).fit(X_train)
        separate_s += time.perf_counter() - t
        rows[k] = {"ordered": r2(ordered, X_test, k), "separate": r2(separate, X_test),
                   "pca": r2(PCA(k).fit(X_train), X_test)}
    chosen = {}
    for f in fractions:
        model = Autoencoder(f, random_state=seed).fit(X_train)
        pca = PCA(f).fit(X_train)
        chosen[f] = {"autoencoder_k": int(model.n_components_), "autoencoder_r2": r2(model, X_test),
                     "pca_k": int(pca.n_components_), "pca_r2": r2(pca, X_test)}
    return {"rows": rows, "chosen": chosen, "ordered_fit_s": ordered_s, "separate_fit_s": separate_s,
            "width": width}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["digits", "24_mnist", "31_satimage-2"])
    parser.add_argument("--data-dir", default=os.environ.get("SKAUTOENCODER_DATA", "../shared/data/adbench"))
    parser.add_argument("--components", type=int, nargs="+", default=[1, 2, 4, 8, 12, 16, 24, 32])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.8, 0.9])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--fractions-only", action="store_true", help="only the fractional n_components")
    args = parser.parse_args()
    if "all" in args.datasets:
        names = sorted((f[:-4] for f in os.listdir(args.data_dir) if f.endswith(".npz")) if
                       os.path.isdir(args.data_dir) else [], key=lambda n: int(n.split("_")[0]))
        args.datasets = [d for d in args.datasets if d != "all"] + names
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", UserWarning)

    results, lines = {}, ["# R2 on held-out rows against the latent size k", "",
                          f"`python benchmarks/latent_size.py --datasets {' '.join(args.datasets)} "
                          f"--seeds {' '.join(map(str, args.seeds))}` (mean over seeds)", ""]
    for name in args.datasets:
        X, scale = load(name, args.data_dir)
        if X is None:
            print(f"skipping {name}: not in {args.data_dir}")
            continue
        ks = [k for k in args.components if k <= X.shape[1]]
        runs = [run(name, X, scale, seed, ks, args.fractions, args.fractions_only) for seed in args.seeds]
        table = {k: {m: float(np.mean([r["rows"][k][m] for r in runs])) for m in ("ordered", "separate", "pca")}
                 for k in ks if k in runs[0]["rows"]}
        chosen = {f: {m: float(np.mean([r["chosen"][f][m] for r in runs])) for m in runs[0]["chosen"][f]}
                  for f in args.fractions}
        timing = {m: float(np.mean([r[m] for r in runs])) for m in ("ordered_fit_s", "separate_fit_s")}
        results[name] = {"shape": list(X.shape), "r2": table, "chosen": chosen, **timing}
        lines += [f"## {name} {X.shape[0]} x {X.shape[1]} (ordered width {runs[0]['width']}; one ordered fit "
                  f"{timing['ordered_fit_s']:.1f} s, {len(ks)} separate fits {timing['separate_fit_s']:.1f} s)", "",
                  "| k | ordered (one fit, truncated) | separate fit per k | PCA |", "|---|---|---|---|"]
        lines += [f"| {k} | {v['ordered']:.3f} | {v['separate']:.3f} | {v['pca']:.3f} |" for k, v in table.items()]
        lines += ["", "| n_components | Autoencoder n_components_ | its test R2 | PCA n_components_ | its test R2 |",
                  "|---|---|---|---|---|"]
        lines += [f"| {f} | {c['autoencoder_k']:.1f} | {c['autoencoder_r2']:.3f} | {c['pca_k']:.1f} | "
                  f"{c['pca_r2']:.3f} |" for f, c in chosen.items()]
        lines.append("")
        print("\n".join(lines[-len(table) - 9:]), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latent_size.json"), "w") as f:
        json.dump({"args": vars(args), "results": results}, f, indent=2)
    with open(os.path.join(args.out, "latent_size.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
