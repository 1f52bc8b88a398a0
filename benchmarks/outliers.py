"""Outlier detection on ADBench tabular datasets: skautoencoder against its peers.

    python benchmarks/outliers.py                          # all datasets, seeds 0 1 2
    python benchmarks/outliers.py --datasets glass WBC --detectors Autoencoder IsolationForest
    python benchmarks/outliers.py --data-dir /path/to/adbench --seeds 0 --out /tmp/res
    python benchmarks/outliers.py --cv                     # how the detection default was chosen

Protocol (ADBench's unsupervised setting, see ``../shared/data/README.md``): for
every ``.npz`` (arrays ``X`` and ``y``, 1 = anomaly) in the data directory and
every seed, a stratified 70/30 train/test split; a ``StandardScaler`` fitted on
the train split and applied to both; a train split larger than 20,000 rows is
subsampled (stratified, seeded) to 20,000. Every detector is fitted on the
train split without labels and scores the test split; the anomaly score is
``-score_samples(X)`` for scikit-learn style detectors and
``decision_function(X)`` for PyOD's (higher = more abnormal). Reported: ROC-AUC
and average precision of that score against the test labels, and the
wall-clock time of ``fit``. All detectors run on the same splits in the same
run, one after the other, with one torch thread, after one untimed warm-up
fit of each detector on random data.

Detectors:

- every skautoencoder estimator that exists among ``Autoencoder``,
  ``DenoisingAutoencoder``, ``SparseAutoencoder``, ``ContractiveAutoencoder``,
  ``VariationalAutoencoder`` and ``ConvolutionalAutoencoder``, at its defaults
  (``random_state=seed``, ``device='cpu'``), inside
  ``Pipeline([StandardScaler(), estimator])``;
- ``Autoencoder-trimmed``: the trimmed recipe on ``Autoencoder``,
  ``Autoencoder(trim_fraction=0.2, max_iter=40, early_stopping=False,
  batch_size=256, init='random')`` (see ``RECOMMENDED``);
- ``AutoencoderOutlierDetector`` at its defaults (chosen by ``--cv``);
- ``PyOD-AutoEncoder`` and ``PyOD-VAE``: PyOD's ``AutoEncoder`` and ``VAE`` at
  their defaults, with ``verbose=0``, ``random_state=seed``, ``device='cpu'``
  (skipped when PyOD is not installed);
- ``IsolationForest``: scikit-learn's, ``random_state=seed``;
- ``PCA``: reconstruction error (mean squared residual) after projection on the
  fewest principal components that explain 95% of the train variance, capped at
  ``n_features - 1`` so that a residual remains.

Summary: per dataset the ROC-AUC and AP of each detector (mean over seeds); per
detector the mean ROC-AUC and AP over datasets, the mean rank (the rank of the
ROC-AUC among the detectors on each dataset, 1 = best, averaged over datasets),
and the median fit time over all fits. A detector that raises on a split gets
NaN there (the error is recorded), is ranked last on that dataset, and its
means are over the datasets it completed (``failed`` counts the others).

``--extra FILE`` adds candidates: a Python file defining
``DETECTORS = {name: factory}``, where ``factory(seed)`` returns an unfitted
model with ``fit`` and ``score_samples`` (or PyOD's ``decision_function``).

Writes ``outliers.md`` and ``outliers.json`` (every fit's record, the summary
and the environment) to ``--out`` (default ``benchmarks/results/``, git-ignored).
When the data directory is absent the script says so and exits with status 0.

``--cv``: how the defaults of ``AutoencoderOutlierDetector`` are chosen, by a
protocol that cannot tune itself on the sets it is scored on. Every candidate
configuration of ``CANDIDATES`` and the peers (``PEERS``) run on every split as
above; their records are cached in ``--cache`` (one record per detector,
dataset and seed; delete the file after changing the code, or a candidate).
Then a dataset-level cross-validation: for each fold, the candidate with the
best mean ROC-AUC over the fold's *training* data sets is chosen, and scored on
its *held-out* data sets. Two fold schemes: leave-one-dataset-out (each data
set is scored by the candidate chosen on the other 20), and 5 repeats of random
halves of the data sets (chosen on one half, scored on the other, and the
reverse). Reported: the out-of-fold mean ROC-AUC and mean rank of that
procedure against the peers (which are not tuned), the median fit time of the
chosen candidates' fits, how often each candidate was chosen, and, labelled
in-sample, each candidate's mean over all sets. The candidate chosen on all
sets is the recommended default (and should be the class's defaults).
Writes ``outliers_cv.md`` and ``outliers_cv.json`` to ``--out``.
"""

import argparse
import importlib.util
import json
import math
import platform
import statistics
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "adbench"
DEFAULT_OUT = REPO / "benchmarks" / "results"
MAX_TRAIN = 20_000
SKAE_NAMES = (
    "Autoencoder",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "ContractiveAutoencoder",
    "VariationalAutoencoder",
    "ConvolutionalAutoencoder",
)


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------
def dataset_name(path):
    """``'12_fault.npz'`` -> ``'fault'`` (ADBench's numeric prefix dropped)."""
    stem = Path(path).stem
    head, _, tail = stem.partition("_")
    return tail if head.isdigit() and tail else stem


def find_datasets(data_dir, names=None):
    """``{name: path}`` of the ``.npz`` files of ``data_dir``, sorted by name.

    ``names`` filters, case-insensitively, by the short name or the file stem.
    """
    found = {dataset_name(p): p for p in sorted(Path(data_dir).glob("*.npz"))}
    if names:
        wanted = {n.lower() for n in names}
        found = {n: p for n, p in found.items() if n.lower() in wanted or p.stem.lower() in wanted}
        missing = wanted - {n.lower() for n in found} - {p.stem.lower() for p in found.values()}
        if missing:
            print(f"warning: no dataset named {sorted(missing)} in {data_dir}", file=sys.stderr)
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def load_dataset(path):
    with np.load(path, allow_pickle=False) as data:
        X = np.asarray(data["X"], dtype=np.float64)
        y = np.asarray(data["y"]).astype(int).ravel()
    return X, y


def make_split(X, y, seed, max_train=MAX_TRAIN):
    """The protocol's split: stratified 70/30, scaler fitted on train, train capped."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if X_train.shape[0] > max_train:
        X_train, _, y_train, _ = train_test_split(
            X_train, y_train, train_size=max_train, stratify=y_train, random_state=seed
        )
    return X_train, X_test, y_train, y_test


# ----------------------------------------------------------------------
# Detectors: name -> factory(seed) returning an unfitted model. The
# anomaly score (higher = more abnormal) comes from ``anomaly_score``.
# ----------------------------------------------------------------------
class PCAReconstruction(OutlierMixin, BaseEstimator):
    """Mean squared residual after projection on the leading principal components.

    ``n_components`` is a float in (0, 1) (fraction of explained variance to
    keep, fewest components reaching it) or an int; either way it is capped at
    ``n_features - 1`` (and at least 1), so that a residual remains.
    """

    def __init__(self, n_components=0.95):
        self.n_components = n_components

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        _, s, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        d = X.shape[1]
        if isinstance(self.n_components, float) and 0 < self.n_components < 1:
            ratio = np.cumsum(s**2) / max(np.sum(s**2), np.finfo(float).tiny)
            k = int(np.searchsorted(ratio, self.n_components) + 1)
        else:
            k = int(self.n_components)
        self.n_components_ = max(1, min(k, d - 1))
        self.components_ = vt[: self.n_components_]
        return self

    def score_samples(self, X):
        Xc = np.asarray(X, dtype=np.float64) - self.mean_
        residual = Xc - (Xc @ self.components_.T) @ self.components_
        return -np.mean(residual**2, axis=1)


def _skautoencoder_factory(cls, **params):
    def factory(seed):
        return Pipeline([("scale", StandardScaler()), ("model", cls(random_state=seed, device="cpu", **params))])

    return factory


#: The trimmed recipe on Autoencoder (the docs' recommendation before AutoencoderOutlierDetector): a
#: trimmed loss (the 20% worst-reconstructed rows of each batch do not train the model) and
#: a fixed budget of 40 epochs.
RECOMMENDED = dict(trim_fraction=0.2, max_iter=40, early_stopping=False, n_iter_no_change=40, batch_size=256,
                   init="random")


def _pyod_factory(class_path):
    module_name, class_name = class_path.rsplit(".", 1)

    def factory(seed):
        import importlib

        cls = getattr(importlib.import_module(module_name), class_name)
        # PyOD seeds the global random states in __init__: build right before fit
        return cls(verbose=0, random_state=seed, device="cpu")

    return factory


def available_detectors():
    """``{name: factory}`` of every detector this environment can run, in report order."""
    detectors = {}
    try:
        import skautoencoder
    except ImportError as exc:  # pragma: no cover - the benchmark lives in the repo
        print(f"warning: skautoencoder not importable ({exc}); running the peers only", file=sys.stderr)
        skautoencoder = None
    for name in SKAE_NAMES:
        cls = getattr(skautoencoder, name, None)
        if cls is not None:
            detectors[name] = _skautoencoder_factory(cls)
    if skautoencoder is not None:
        detectors["Autoencoder-trimmed"] = _skautoencoder_factory(skautoencoder.Autoencoder, **RECOMMENDED)
        if hasattr(skautoencoder, "AutoencoderOutlierDetector"):
            detectors["AutoencoderOutlierDetector"] = _skautoencoder_factory(
                skautoencoder.AutoencoderOutlierDetector)
    if importlib.util.find_spec("pyod") is not None:
        detectors["PyOD-AutoEncoder"] = _pyod_factory("pyod.models.auto_encoder.AutoEncoder")
        detectors["PyOD-VAE"] = _pyod_factory("pyod.models.vae.VAE")
    else:
        print("note: PyOD is not installed; its detectors are skipped", file=sys.stderr)
    detectors["IsolationForest"] = lambda seed: IsolationForest(random_state=seed)
    detectors["PCA"] = lambda seed: PCAReconstruction(0.95)
    return detectors


#: Candidate detection defaults for ``--cv``: settings of ``AutoencoderOutlierDetector``, each
#: spelled out in full over ``_CANDIDATE_BASE`` (so that they do not change with the class's
#: defaults); at most a handful: every one costs a full run over the data sets.
_CANDIDATE_BASE = dict(trim_fraction=0.2, scale_errors=False, max_iter=40, n_iter_no_change=40,
                       batch_size=256, early_stopping=False, hidden_layer_sizes=(128, 64), n_components=8)
CANDIDATES = {name: {**_CANDIDATE_BASE, **params} for name, params in {
    "trim0.2": dict(),
    "trim0.2-scaled": dict(scale_errors=True),
    "tukey": dict(trim_fraction="tukey"),
    "tukey-scaled": dict(trim_fraction="tukey", scale_errors=True),
    "trim0.2-scaled-e20": dict(scale_errors=True, max_iter=20, n_iter_no_change=20),
    "trim0.2-scaled-e80": dict(scale_errors=True, max_iter=80, n_iter_no_change=80),
    "trim0.2-scaled-small": dict(scale_errors=True, hidden_layer_sizes=(64, 32), n_components=4),
    "trim0.3": dict(trim_fraction=0.3),
    "trim0.2-e80": dict(max_iter=80, n_iter_no_change=80),
}.items()}
#: Peers of ``--cv``, run in the same process on the same splits.
PEERS = ("Autoencoder", "PyOD-AutoEncoder", "IsolationForest", "PCA")
CV_REPEATS = 5


def candidate_detectors():
    """``{name: factory}`` of the ``--cv`` candidates (``AutoencoderOutlierDetector`` settings)."""
    from skautoencoder import AutoencoderOutlierDetector

    return {f"AOD[{name}]": _skautoencoder_factory(AutoencoderOutlierDetector, **params)
            for name, params in CANDIDATES.items()}


def load_extra(path):
    """``DETECTORS`` of the Python file ``path``: extra ``{name: factory(seed)}``."""
    spec = importlib.util.spec_from_file_location("outliers_extra", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.DETECTORS)


def anomaly_score(model, X):
    """Higher = more abnormal: ``-score_samples`` (scikit-learn), else ``decision_function`` (PyOD)."""
    if hasattr(model, "score_samples") and not type(model).__module__.startswith("pyod"):
        return -np.asarray(model.score_samples(X), dtype=np.float64)
    return np.asarray(model.decision_function(X), dtype=np.float64)


# ----------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------
def evaluate(factory, seed, X_train, X_test, y_test):
    """Fit on ``X_train``, score ``X_test``: one record (NaN metrics and the error on failure)."""
    record = {"roc_auc": math.nan, "ap": math.nan, "fit_s": math.nan, "score_s": math.nan, "error": None}
    try:
        model = factory(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning & co.: noise in a benchmark
            start = time.perf_counter()
            model.fit(X_train)
            record["fit_s"] = time.perf_counter() - start
            start = time.perf_counter()
            scores = anomaly_score(model, X_test)
            record["score_s"] = time.perf_counter() - start
        if not np.all(np.isfinite(scores)):
            raise ValueError(f"{np.sum(~np.isfinite(scores))} non-finite anomaly scores")
        record["roc_auc"] = float(roc_auc_score(y_test, scores))
        record["ap"] = float(average_precision_score(y_test, scores))
    except Exception as exc:  # noqa: BLE001 - a failing detector must not stop the benchmark
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc(limit=5)
    return record


def warm_up(detectors):
    """Fit each detector once on a small random set, untimed.

    The first fit in a process pays one-off costs (lazy imports, torch's
    kernel and thread-pool initialisation) that would otherwise be charged to
    whichever detector and dataset come first.
    """
    X = np.random.default_rng(0).standard_normal((300, 8))
    for factory in detectors.values():
        evaluate(factory, 0, X, X[:50], np.r_[np.zeros(45, int), np.ones(5, int)])


def run(datasets, detectors, seeds, max_train=MAX_TRAIN, progress=print, on_dataset_done=None):
    """Every detector on every split of every dataset: the list of records."""
    warm_up(detectors)
    records = []
    for name, path in datasets.items():
        X, y = load_dataset(path)
        for seed in seeds:
            X_train, X_test, _, y_test = make_split(X, y, seed, max_train)
            for det_name, factory in detectors.items():
                rec = evaluate(factory, seed, X_train, X_test, y_test)
                rec.update(dataset=name, seed=seed, detector=det_name,
                           n_train=int(X_train.shape[0]), n_test=int(X_test.shape[0]),
                           n_features=int(X.shape[1]))
                records.append(rec)
                status = f"ERROR {rec['error']}" if rec["error"] else (
                    f"roc_auc={rec['roc_auc']:.4f} ap={rec['ap']:.4f} fit={rec['fit_s']:.2f}s")
                progress(f"[{name} {X.shape[0]}x{X.shape[1]} seed={seed}] {det_name:<24} {status}")
        if on_dataset_done is not None:
            on_dataset_done(records)
    return records


def summarize(records, detectors=None):
    """Per-dataset means over seeds and per-detector summary, as plain dicts."""
    detectors = list(detectors or dict.fromkeys(r["detector"] for r in records))
    datasets = list(dict.fromkeys(r["dataset"] for r in records))
    per_dataset = {}
    for ds in datasets:
        per_dataset[ds] = {}
        for det in detectors:
            rows = [r for r in records if r["dataset"] == ds and r["detector"] == det]
            auc = [r["roc_auc"] for r in rows]
            ap = [r["ap"] for r in rows]
            # a failed seed makes the dataset's mean NaN: partial means would not be comparable
            per_dataset[ds][det] = {
                "roc_auc": float(np.mean(auc)) if rows else math.nan,
                "ap": float(np.mean(ap)) if rows else math.nan,
                "roc_auc_std": float(np.std(auc)) if rows else math.nan,
                "n_seeds": len(rows),
            }
    ranks = {det: [] for det in detectors}
    for ds in datasets:
        aucs = np.array([per_dataset[ds][det]["roc_auc"] for det in detectors])
        filled = np.where(np.isnan(aucs), -np.inf, aucs)  # failures rank last
        # average ranks for ties, 1 = best
        order = (-filled).argsort(kind="stable")
        rank = np.empty(len(detectors))
        sorted_vals = -filled[order]
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and sorted_vals[j + 1] == sorted_vals[i]:
                j += 1
            rank[order[i:j + 1]] = (i + j) / 2 + 1
            i = j + 1
        for det, r in zip(detectors, rank):
            ranks[det].append(float(r))
    summary = {}
    for det in detectors:
        aucs = [per_dataset[ds][det]["roc_auc"] for ds in datasets]
        aps = [per_dataset[ds][det]["ap"] for ds in datasets]
        fits = [r["fit_s"] for r in records if r["detector"] == det and not math.isnan(r["fit_s"])]
        ok = [a for a in aucs if not math.isnan(a)]
        summary[det] = {
            "mean_roc_auc": float(np.mean(ok)) if ok else math.nan,
            "mean_ap": float(np.mean([a for a in aps if not math.isnan(a)])) if ok else math.nan,
            "mean_rank": float(np.mean(ranks[det])) if ranks[det] else math.nan,
            "median_fit_s": float(statistics.median(fits)) if fits else math.nan,
            "total_fit_s": float(sum(fits)),
            "n_datasets": len(ok),
            "failed": len(aucs) - len(ok),
        }
    return per_dataset, summary


def _fmt(x, spec=".3f"):
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def markdown(per_dataset, summary, seeds):
    detectors = list(summary)
    lines = [
        f"Seeds {', '.join(map(str, seeds))}; cells are ROC-AUC / AP, means over seeds.",
        "",
        "| dataset | " + " | ".join(detectors) + " |",
        "|---|" + "---|" * len(detectors),
    ]
    for ds, row in per_dataset.items():
        best = max((v["roc_auc"] for v in row.values() if not math.isnan(v["roc_auc"])), default=None)
        cells = []
        for det in detectors:
            v = row[det]
            cell = f"{_fmt(v['roc_auc'])} / {_fmt(v['ap'])}"
            cells.append(f"**{cell}**" if best is not None and v["roc_auc"] == best else cell)
        lines.append(f"| {ds} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| detector | mean ROC-AUC | mean AP | mean rank | median fit s | total fit s | failed |",
        "|---|---|---|---|---|---|---|",
    ]
    for det, s in sorted(summary.items(), key=lambda kv: -np.nan_to_num(kv[1]["mean_roc_auc"], nan=-1)):
        lines.append(
            f"| {det} | {_fmt(s['mean_roc_auc'], '.4f')} | {_fmt(s['mean_ap'], '.4f')} | "
            f"{_fmt(s['mean_rank'], '.2f')} | {_fmt(s['median_fit_s'], '.2f')} | "
            f"{_fmt(s['total_fit_s'], '.1f')} | {s['failed']} |"
        )
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------
# Dataset-level cross-validation of the candidate defaults (--cv)
# ----------------------------------------------------------------------
def run_cached(datasets, detectors, seeds, max_train, cache_path, progress=print):
    """``run`` for the (detector, dataset, seed) records missing from the JSON cache; all records."""
    cache_path = Path(cache_path)
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    key = lambda det, ds, seed: f"{det}|{ds}|{seed}"  # noqa: E731
    warmed = False
    for name, path in datasets.items():
        X = y = None
        for seed in seeds:
            todo = [d for d in detectors if key(d, name, seed) not in cache]
            if not todo:
                continue
            if not warmed:
                warm_up({d: detectors[d] for d in detectors})
                warmed = True
            if X is None:
                X, y = load_dataset(path)
            X_train, X_test, _, y_test = make_split(X, y, seed, max_train)
            for det in todo:
                rec = evaluate(detectors[det], seed, X_train, X_test, y_test)
                rec.update(dataset=name, seed=seed, detector=det, n_train=int(X_train.shape[0]),
                           n_test=int(X_test.shape[0]), n_features=int(X.shape[1]))
                rec.pop("traceback", None)
                cache[key(det, name, seed)] = rec
                error = f" ERROR {rec['error']}" if rec["error"] else ""
                progress(f"[{name} seed={seed}] {det:<32} roc_auc={rec['roc_auc']:.4f} "
                         f"fit={rec['fit_s']:.2f}s{error}")
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            cache_path.write_text(json.dumps(cache))
    return [cache[key(d, ds, s)] for ds in datasets for s in seeds for d in detectors]


def _folds(datasets, repeats, seed=0):
    """``[(train_sets, test_sets)]``: leave-one-dataset-out, or ``repeats`` x random halves."""
    if repeats is None:
        return [([d for d in datasets if d != held], [held]) for held in datasets]
    rng = np.random.default_rng(seed)
    folds = []
    for _ in range(repeats):
        order = list(rng.permutation(datasets))
        half = len(order) // 2
        a, b = order[:half], order[half:]
        folds += [(a, b), (b, a)]
    return folds


def cross_validate(per_dataset, candidates, peers, records, repeats):
    """Out-of-fold ROC-AUC of "choose the candidate with the best mean ROC-AUC on the
    training sets": ``(summary, chosen_counts)``; ``summary[name]`` has the mean ROC-AUC,
    mean rank and median fit time, over folds (each data set scored once per repeat)."""
    datasets = list(per_dataset)
    auc = {d: {det: per_dataset[d][det]["roc_auc"] for det in per_dataset[d]} for d in datasets}
    fits = {}
    for r in records:
        fits.setdefault((r["detector"], r["dataset"]), []).append(r["fit_s"])
    chosen_counts = dict.fromkeys(candidates, 0)
    oof = {d: [] for d in datasets}  # (chosen candidate, auc) per scoring of d
    for train, test in _folds(datasets, repeats):
        best = max(candidates, key=lambda c: np.nanmean([auc[d][c] for d in train]))
        chosen_counts[best] += 1
        for d in test:
            oof[d].append(best)
    names = ["chosen by CV", *peers]
    ranks = {n: [] for n in names}
    means = {n: [] for n in names}
    fit_times = {n: [] for n in names}
    for d in datasets:
        for c in oof[d]:  # one scoring of d: rank the chosen candidate among the peers
            row = [auc[d][c]] + [auc[d][p] for p in peers]
            filled = np.where(np.isnan(row), -np.inf, row)
            order = (-filled).argsort(kind="stable")
            rank = np.empty(len(row))
            rank[order] = np.arange(1, len(row) + 1)
            for value in np.unique(filled):  # ties share their mean rank
                rank[filled == value] = rank[filled == value].mean()
            for n, a, rk in zip(names, row, rank):
                means[n].append(a)
                ranks[n].append(rk)
            fit_times["chosen by CV"] += fits.get((c, d), [])
        for p in peers:
            fit_times[p] += fits.get((p, d), []) * len(oof[d])
    summary = {n: {"mean_roc_auc": float(np.nanmean(means[n])), "mean_rank": float(np.mean(ranks[n])),
                   "median_fit_s": float(np.nanmedian(fit_times[n])) if fit_times[n] else math.nan}
               for n in names}
    return summary, chosen_counts


def _defaults_candidate():
    """The candidate whose settings are ``AutoencoderOutlierDetector``'s defaults, or None."""
    from skautoencoder import AutoencoderOutlierDetector

    defaults = AutoencoderOutlierDetector().get_params()
    matches = [f"AOD[{name}]" for name, params in CANDIDATES.items()
               if all(defaults[k] == v for k, v in params.items())]
    return matches[0] if matches else None


def cv_report(records, candidates, peers, seeds):
    """The ``--cv`` tables (markdown) and their numbers."""
    per_dataset, summary = summarize(records, [*candidates, *peers])
    lines = [f"Seeds {', '.join(map(str, seeds))}; {len(per_dataset)} data sets; "
             "ROC-AUC means over seeds.", ""]
    results = {}
    for label, repeats in (("leave-one-dataset-out", None), (f"{CV_REPEATS} x random halves", CV_REPEATS)):
        cv, counts = cross_validate(per_dataset, candidates, peers, records, repeats)
        results[label] = {"summary": cv, "chosen": counts}
        lines += [f"**Out-of-fold, {label}** (the candidate is chosen on each fold's training sets):", "",
                  "| detector | out-of-fold mean ROC-AUC | mean rank | median fit s |", "|---|---|---|---|"]
        for n, v in cv.items():
            lines.append(f"| {n} | {v['mean_roc_auc']:.4f} | {v['mean_rank']:.2f} | "
                         f"{_fmt(v['median_fit_s'], '.2f')} |")
        lines += ["", "chosen: " + ", ".join(f"{c} {k}x" for c, k in counts.items() if k), ""]
    final = max(candidates, key=lambda c: summary[c]["mean_roc_auc"])
    lines += ["**In-sample** (every number below chose nothing, but picking the best row of this table "
              "is tuning on these sets):", "",
              "| detector | mean ROC-AUC | mean AP | mean rank (all rows) | median fit s |",
              "|---|---|---|---|---|"]
    for det, v in sorted(summary.items(), key=lambda kv: -np.nan_to_num(kv[1]["mean_roc_auc"], nan=-1)):
        lines.append(f"| {det} | {v['mean_roc_auc']:.4f} | {v['mean_ap']:.4f} | {v['mean_rank']:.2f} | "
                     f"{_fmt(v['median_fit_s'], '.2f')} |")
    defaults = _defaults_candidate() or "none of the candidates"
    lines += ["", f"Chosen on all sets (the recommended default): **{final}**; "
              f"AutoencoderOutlierDetector's defaults are {defaults}.", ""]
    lines += ["Per data set ROC-AUC (in-sample):", "",
              "| dataset | " + " | ".join([*candidates, *peers]) + " |",
              "|---|" + "---|" * (len(candidates) + len(peers))]
    for ds, row in per_dataset.items():
        lines.append(f"| {ds} | " + " | ".join(_fmt(row[d]["roc_auc"]) for d in [*candidates, *peers]) + " |")
    payload = {"cv": results, "in_sample": summary, "per_dataset": per_dataset, "final": final}
    return "\n".join(lines) + "\n", payload


def main_cv(args, datasets):
    """``--cv``: run (or read from the cache) candidates and peers, then cross-validate over data sets."""
    detectors = candidate_detectors()
    candidates = list(detectors)
    available = available_detectors()
    peers = [p for p in PEERS if p in available]
    missing = [p for p in PEERS if p not in available]
    if missing:
        print(f"warning: peers {missing} unavailable (pip install pyod?): left out", file=sys.stderr)
    detectors.update({p: available[p] for p in peers})
    print(f"--cv: {len(datasets)} datasets x {len(args.seeds)} seeds x {len(detectors)} detectors; "
          f"cache {args.cache}", flush=True)
    start = time.perf_counter()
    records = run_cached(datasets, detectors, args.seeds, args.max_train, args.cache,
                         progress=lambda line: print(line, flush=True))
    md, payload = cv_report(records, candidates, peers, args.seeds)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "outliers_cv.md").write_text(md)
    (out / "outliers_cv.json").write_text(json.dumps({"args": {**vars(args), "datasets": list(datasets)},
                                                      "environment": environment(), **payload},
                                                     indent=1, default=str))
    print()
    print(md)
    print(f"total {time.perf_counter() - start:.0f}s; wrote {out / 'outliers_cv.md'} and .json")
    return 0


def environment():
    env = {"python": platform.python_version(), "platform": platform.platform(),
           "numpy": np.__version__, "scikit-learn": sklearn.__version__, "torch": torch.__version__,
           "torch_threads": torch.get_num_threads()}
    for pkg in ("skautoencoder", "pyod"):
        try:
            env[pkg] = __import__(pkg).__version__
        except Exception:  # noqa: BLE001
            env[pkg] = None
    return env


def write_outputs(out_dir, records, detectors, args_dict, final=True):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    per_dataset, summary = summarize(records, detectors)
    md = markdown(per_dataset, summary, args_dict["seeds"])
    (out_dir / "outliers.md").write_text(md)
    payload = {"args": args_dict, "environment": environment(), "complete": final,
               "summary": summary, "per_dataset": per_dataset, "records": records}
    (out_dir / "outliers.json").write_text(json.dumps(payload, indent=1, default=str))
    return md


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA),
                        help="directory of ADBench .npz files (default: ../shared/data/adbench)")
    parser.add_argument("--datasets", nargs="+", help="subset, by name (e.g. glass) or file stem (14_glass)")
    parser.add_argument("--detectors", nargs="+", help="subset of detector names (see --list)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-train", type=int, default=MAX_TRAIN, help="cap on train rows")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output directory for outliers.md/.json")
    parser.add_argument("--extra", metavar="FILE",
                        help="Python file defining DETECTORS = {name: factory(seed)}: candidates to run "
                             "beside the others (e.g. a variant not yet in the package)")
    parser.add_argument("--list", action="store_true", help="list the datasets and detectors, then exit")
    parser.add_argument("--cv", action="store_true",
                        help="dataset-level cross-validation of the candidate detection defaults (see above)")
    parser.add_argument("--cache", default=str(DEFAULT_OUT / "outliers_cv_cache.json"),
                        help="--cv: JSON cache of the per-split records")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    data_dir = Path(args.data_dir)
    if not data_dir.is_dir():
        print(f"data directory {data_dir} not found: nothing to benchmark (see ../shared/data/README.md)")
        return 0
    datasets = find_datasets(data_dir, args.datasets)
    if args.cv:
        return main_cv(args, datasets)
    detectors = available_detectors()
    if args.extra:
        detectors.update(load_extra(args.extra))
    if args.list:
        print("datasets: " + " ".join(find_datasets(data_dir)))
        print("detectors: " + " ".join(detectors))
        return 0
    if args.detectors:
        unknown = [d for d in args.detectors if d not in detectors]
        if unknown:
            parser.error(f"unknown or unavailable detector(s) {unknown}; available: {list(detectors)}")
        detectors = {d: detectors[d] for d in args.detectors}
    if not datasets:
        print(f"no datasets selected in {data_dir}")
        return 0

    args_dict = {**vars(args), "datasets": list(datasets), "detectors": list(detectors)}
    print(f"{len(datasets)} datasets x {len(args.seeds)} seeds x {len(detectors)} detectors "
          f"({', '.join(detectors)}); torch threads {torch.get_num_threads()}", flush=True)
    start = time.perf_counter()
    records = run(
        datasets, detectors, args.seeds, args.max_train,
        progress=lambda line: print(line, flush=True),
        on_dataset_done=lambda recs: write_outputs(args.out, recs, list(detectors), args_dict, final=False),
    )
    md = write_outputs(args.out, records, list(detectors), args_dict, final=True)
    print()
    print(md)
    failures = [r for r in records if r["error"]]
    for r in failures:
        print(f"failed: {r['detector']} on {r['dataset']} seed {r['seed']}: {r['error']}")
    print(f"total {time.perf_counter() - start:.0f}s; wrote {Path(args.out) / 'outliers.md'} and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
