"""How a fractional ``n_components`` decides to keep fewer units than PCA: the margin, measured.

    python benchmarks/fraction_width.py        # digits, wine, breast cancer, ADBench; seeds 0 1 2
    python benchmarks/fraction_width.py --datasets digits wine --seeds 0

For each data set and seed (``benchmarks/latent_size.py``'s split: a held-out
quarter, ``StandardScaler`` except for digits), one ``Autoencoder(0.9)`` is
fitted with its width choice recorded instead of applied (the training does
not depend on the fraction): the per-row errors by width of the measured
held-out rows, the start's (PCA of the training rows) on the same rows, and
whether those rows were held out. The held-out quarter's R² of every
truncation width of the trained code and of ``PCA(k).fit(X_train)`` is
measured too. Then, offline, the width rule of
:func:`skautoencoder._ordered.width_against_pca` is replayed for fractions
0.8, 0.9 and 0.95 with each candidate ``FEWER_UNITS_MARGIN``: a miss is a
held-out R² below ``PCA(f)``'s by more than 0.0005. Reported per margin: the
misses, the mean R² gain over ``PCA(f)`` and the mean units saved, and a
leave-one-data-set-out choice of the margin (fewest misses on the other sets,
then most units saved).
"""

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import latent_size  # noqa: E402 - the same loading as benchmarks/latent_size.py

from skautoencoder import Autoencoder, _ordered  # noqa: E402
from skautoencoder.nn.training import clear_lead  # noqa: E402

FRACTIONS = (0.8, 0.9, 0.95)
MARGINS = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)


def record(X, scale, seed):
    """What the width rule sees for one fit, and the held-out R² by width."""
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
    if scale:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    seen = {}

    def spy(errors, pca_errors, explained, fraction, held_out=True):
        seen.update(errors=errors, pca_errors=pca_errors, held_out=held_out)
        return errors.shape[1], True  # keep every unit: the rule is replayed below

    real = _ordered.width_against_pca
    _ordered.width_against_pca = spy
    try:
        model = Autoencoder(0.9, random_state=seed).fit(X_train)
    finally:
        _ordered.width_against_pca = real

    def r2_by_width(transform, inverse, width):
        codes = transform(X_test)
        out = []
        for w in range(1, width + 1):
            truncated = codes.copy()
            truncated[:, w:] = 0.0
            out.append(r2_score(X_test, inverse(truncated), multioutput="variance_weighted"))
        return np.array(out)

    pca = PCA(min(model.n_components_, *X_train.shape)).fit(X_train)
    return dict(seen, model_r2=r2_by_width(model.transform, model.inverse_transform, model.n_components_),
                pca_r2=r2_by_width(pca.transform, pca.inverse_transform, pca.n_components_),
                pca_k={f: int(PCA(f).fit(X_train).n_components_) for f in FRACTIONS})


def replay(r, fraction, margin):
    """``(units, held-out R²)`` of the width rule with ``FEWER_UNITS_MARGIN = margin``."""
    k = r["pca_k"][fraction]
    if k > r["errors"].shape[1]:
        return None
    pca = (k, r["pca_r2"][k - 1])
    if not r["held_out"]:
        return pca
    gains = r["pca_errors"][:, k - 1:k] - r["errors"][:, :k]
    beaten = np.flatnonzero(clear_lead(gains[:, :k - 1], margin).numpy() > 0)
    if beaten.size:
        return int(beaten[0]) + 1, r["model_r2"][beaten[0]]
    if clear_lead(gains[:, k - 1], _ordered.PCA_MARGIN) > 0:
        return k, r["model_r2"][k - 1]
    return pca


def tally(records, names, margin):
    misses, gains, saved = 0, [], []
    for name in names:
        for r in records[name]:
            for f in FRACTIONS:
                chosen = replay(r, f, margin)
                if chosen is None:
                    continue
                k = r["pca_k"][f]
                units, r2 = chosen
                misses += r2 < r["pca_r2"][k - 1] - 5e-4
                gains.append(r2 - r["pca_r2"][k - 1])
                saved.append(k - units)
    return misses, len(gains), float(np.mean(gains)), float(np.mean(saved))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["digits", "wine", "breast_cancer", "all"])
    parser.add_argument("--data-dir", default=os.environ.get("SKAUTOENCODER_DATA", "../shared/data/adbench"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    names = [d for d in args.datasets if d != "all"]
    if "all" in args.datasets and os.path.isdir(args.data_dir):
        names += sorted((f[:-4] for f in os.listdir(args.data_dir) if f.endswith(".npz")),
                        key=lambda n: int(n.split("_")[0]))
    records = {}
    for name in names:
        X, scale = latent_size.load(name, args.data_dir)
        if X is None:
            print(f"skipping {name}: not in {args.data_dir}")
            continue
        records[name] = [record(X, scale, seed) for seed in args.seeds]
        print(f"{name}: PCA(f) keeps {records[name][0]['pca_k']}", flush=True)
    names = list(records)
    print(f"\n{len(names)} data sets, seeds {args.seeds}, fractions {FRACTIONS}\n")
    print("| FEWER_UNITS_MARGIN | R² below PCA(f)'s | mean R² gain over PCA(f) | mean units saved |")
    print("|---|---|---|---|")
    for margin in MARGINS:
        misses, n, gain, saved = tally(records, names, margin)
        print(f"| {margin:g} | {misses} / {n} | {gain:+.4f} | {saved:.2f} |")
    picks, held_misses = [], 0
    for name in names:
        rest = [n for n in names if n != name]
        best = min(MARGINS, key=lambda m: (tally(records, rest, m)[0], -tally(records, rest, m)[3]))
        picks.append(best)
        held_misses += tally(records, [name], best)[0]
    print(f"\nleave one data set out: chosen {dict((m, picks.count(m)) for m in MARGINS if m in picks)}, "
          f"held-out misses {held_misses}")


if __name__ == "__main__":
    main()
