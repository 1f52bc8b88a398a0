"""Training and inference speed against every peer, in one run.

    python benchmarks/speed.py                      # all sections, defaults below
    python benchmarks/speed.py --sections fit gemm  # a subset
    python benchmarks/speed.py --out benchmarks/results

Sections (absolute times on a shared machine are noise: read the ratios):

fit
    ``Autoencoder.fit`` vs a minimal raw torch loop (the baseline), skorch's
    ``NeuralNetRegressor``, PyOD's ``AutoEncoder`` and scikit-learn's
    ``MLPRegressor`` fitted X -> X, at each batch size: same layers
    (64-128-16-128-64 by default), same epochs, Adam at 1e-3, no early
    stopping, no validation split. Runs are interleaved (the order rotates)
    and the median over repeats is reported, with the ratio to the raw loop.
    Peers that are not installed are skipped (``pip install .[bench]``).
gemm
    The epoch-time floor: the matmul FLOPs of one epoch (forward and
    backward, ``6 * n * sum(fan_in * fan_out)``) divided by the float32
    matmul rate measured now, on the same threads; reported as epoch time /
    floor for the raw loop and for ``Autoencoder``.
inference
    ``transform`` and ``score_samples`` of a fitted ``Autoencoder`` vs
    ``PCA.transform`` on the same rows.
memory
    Peak resident memory added by ``fit`` (one epoch) and by ``transform``
    on ``--memory-rows`` x 100 float32 rows, as a multiple of the size of X;
    each in a fresh process.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from skautoencoder import Autoencoder


def make_data(n_samples, n_features, seed=0):
    rng = np.random.RandomState(seed)
    latent = rng.randn(n_samples, 8).astype(np.float32)
    X = np.tanh(latent @ rng.randn(8, n_features).astype(np.float32))
    return X + 0.05 * rng.randn(*X.shape).astype(np.float32)


def torch_layers(n_features, hidden, n_components):
    sizes = [n_features, *hidden, n_components]
    layers = []
    for widths in (sizes, sizes[::-1]):
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            if i:
                layers.append(torch.nn.ReLU())
            layers.append(torch.nn.Linear(a, b))
    return torch.nn.Sequential(*layers)


# -- the contenders ------------------------------------------------------------------
def fit_raw(X, cfg, bs, seed):
    """The least code that trains the network: the baseline."""
    g = torch.Generator().manual_seed(seed)
    model = torch_layers(X.shape[1], cfg.hidden, cfg.n_components)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    Xt = torch.from_numpy(X)
    n = Xt.shape[0]
    for _ in range(cfg.epochs):
        perm = torch.randperm(n, generator=g)
        for start in range(0, n, bs):
            xb = Xt[perm[start:start + bs]]
            loss = torch.nn.functional.mse_loss(model(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


def fit_ours(X, cfg, bs, seed):
    return Autoencoder(
        cfg.n_components, hidden_layer_sizes=tuple(cfg.hidden), batch_size=bs, max_iter=cfg.epochs,
        early_stopping=False, tol=0.0, n_iter_no_change=cfg.epochs, random_state=seed, device="cpu",
    ).fit(X)


def fit_skorch(X, cfg, bs, seed):
    from skorch import NeuralNetRegressor

    torch.manual_seed(seed)  # skorch draws from the global generator
    NeuralNetRegressor(
        torch_layers(X.shape[1], cfg.hidden, cfg.n_components), max_epochs=cfg.epochs, batch_size=bs,
        optimizer=torch.optim.Adam, lr=1e-3, train_split=None, verbose=0, iterator_train__shuffle=True,
    ).fit(X, X)


def fit_pyod(X, cfg, bs, seed):
    from pyod.models.auto_encoder import AutoEncoder

    AutoEncoder(
        hidden_neuron_list=[*cfg.hidden, cfg.n_components], epoch_num=cfg.epochs, batch_size=bs, lr=1e-3,
        batch_norm=False, dropout_rate=0.0, preprocessing=False, optimizer_params={"weight_decay": 0.0},
        device="cpu", random_state=seed, verbose=0,
    ).fit(X)


def fit_mlp(X, cfg, bs, seed):
    hidden = (*cfg.hidden, cfg.n_components, *cfg.hidden[::-1])
    MLPRegressor(
        hidden_layer_sizes=hidden, batch_size=bs, max_iter=cfg.epochs, learning_rate_init=1e-3, tol=0.0,
        n_iter_no_change=cfg.epochs + 1, random_state=seed,
    ).fit(X, X)


def available():
    runners = {"raw loop": fit_raw, "Autoencoder": fit_ours}
    for name, module, fn in [("skorch", "skorch", fit_skorch), ("PyOD AutoEncoder", "pyod", fit_pyod),
                             ("MLPRegressor", "sklearn", fit_mlp)]:
        try:
            __import__(module)
            runners[name] = fn
        except ImportError:
            print(f"skipping {name}: {module} is not installed")
    return runners


def median_times(runners, X, cfg, bs):
    times = {name: [] for name in runners}
    names = list(runners)
    for rep in range(cfg.repeats + 1):  # round 0 warms up
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            start = time.perf_counter()
            runners[name](X, cfg, bs, rep)
            if rep:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


# -- sections ----------------------------------------------------------------------
def section_fit(cfg, X, out):
    runners = available()
    rows = []
    for bs in cfg.batch_sizes:
        med = median_times(runners, X, cfg, bs)
        for name, seconds in med.items():
            rows.append({"batch_size": bs, "model": name, "fit_s": seconds, "ratio_to_raw": seconds / med["raw loop"]})
            print(f"fit  batch {bs:>5}  {name:<17} {seconds:8.3f} s  x{seconds / med['raw loop']:.2f}", flush=True)
    out["fit"] = rows


def matmul_rate(repeats=20, size=1024):
    """Peak float32 matmul rate (FLOP/s): the best of ``repeats`` timings."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def section_gemm(cfg, X, out):
    model = torch_layers(X.shape[1], cfg.hidden, cfg.n_components)
    macs = sum(m.in_features * m.out_features for m in model if isinstance(m, torch.nn.Linear))
    flops_per_epoch = 6 * X.shape[0] * macs
    rate = matmul_rate()
    floor = flops_per_epoch / rate
    rows = []
    for bs in cfg.batch_sizes:
        med = median_times({"raw loop": fit_raw, "Autoencoder": fit_ours}, X, cfg, bs)
        for name, seconds in med.items():
            epoch = seconds / cfg.epochs
            rows.append({"batch_size": bs, "model": name, "epoch_s": epoch, "floor_s": floor,
                         "ratio_to_floor": epoch / floor})
            print(f"gemm batch {bs:>5}  {name:<12} epoch {epoch:.4f} s, floor {floor:.4f} s "
                  f"({rate / 1e9:.0f} GFLOP/s): x{epoch / floor:.1f}", flush=True)
    out["gemm"] = {"matmul_gflops": rate / 1e9, "flops_per_epoch": flops_per_epoch, "rows": rows}


def section_inference(cfg, X, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = fit_ours(X, cfg, 256, 0)
    pca = PCA(cfg.n_components).fit(X)
    calls = {"PCA.transform": lambda: pca.transform(X), "Autoencoder.transform": lambda: model.transform(X),
             "Autoencoder.score_samples": lambda: model.score_samples(X)}
    times = {name: [] for name in calls}
    for rep in range(cfg.repeats + 1):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            if rep:
                times[name].append(time.perf_counter() - start)
    base = statistics.median(times["PCA.transform"])
    rows = []
    for name, t in times.items():
        seconds = statistics.median(t)
        rows.append({"call": name, "seconds": seconds, "rows_per_s": X.shape[0] / seconds, "ratio_to_pca": seconds / base})
        print(f"inference {name:<26} {seconds:.4f} s  {X.shape[0] / seconds:,.0f} rows/s  x{seconds / base:.2f}")
    out["inference"] = rows


MEMORY_SCRIPT = """
import resource, sys, warnings
import numpy as np
import torch
from skautoencoder import Autoencoder
torch.set_num_threads({threads})
warnings.simplefilter("ignore")
rng = np.random.RandomState(0)
small = rng.rand(1000, 100).astype(np.float32)
model = Autoencoder(16, hidden_layer_sizes=(128,), max_iter=1, random_state=0).fit(small)
model.transform(small)
X = np.empty(({rows}, 100), dtype=np.float32)
for start in range(0, {rows}, 10000):  # no float64 temporary: it would raise the baseline peak
    X[start:start + 10000] = rng.rand(min(10000, {rows} - start), 100)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
if "{what}" == "fit":
    Autoencoder(16, hidden_layer_sizes=(128,), max_iter=1, random_state=0).fit(X)
else:
    model.transform(X)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print((after - before) / X.nbytes)
"""


def section_memory(cfg, out):
    rows = []
    for what in ("fit", "transform"):
        script = MEMORY_SCRIPT.format(rows=cfg.memory_rows, what=what, threads=cfg.threads)
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        ratio = float(result.stdout.strip().splitlines()[-1])
        rows.append({"call": what, "rows": cfg.memory_rows, "peak_rss_added_over_X": ratio})
        print(f"memory {what:<9} {cfg.memory_rows:,} x 100 float32: peak RSS added = {ratio:.2f} x size of X")
    out["memory"] = rows


def markdown(out):
    lines = []
    if "fit" in out:
        models = list(dict.fromkeys(r["model"] for r in out["fit"]))
        lines += ["| batch | " + " | ".join(models) + " |", "|---" * (len(models) + 1) + "|"]
        for bs in dict.fromkeys(r["batch_size"] for r in out["fit"]):
            cells = {r["model"]: r for r in out["fit"] if r["batch_size"] == bs}
            lines.append(f"| {bs} | " + " | ".join(
                f"{cells[m]['fit_s']:.2f} s (x{cells[m]['ratio_to_raw']:.2f})" for m in models) + " |")
        lines.append("")
    if "gemm" in out:
        lines += [f"matmul rate: {out['gemm']['matmul_gflops']:.0f} GFLOP/s", "",
                  "| batch | model | epoch s | floor s | x floor |", "|---|---|---|---|---|"]
        lines += [f"| {r['batch_size']} | {r['model']} | {r['epoch_s']:.4f} | {r['floor_s']:.4f} | "
                  f"{r['ratio_to_floor']:.1f} |" for r in out["gemm"]["rows"]]
        lines.append("")
    if "inference" in out:
        lines += ["| call | s | rows/s | x PCA.transform |", "|---|---|---|---|"]
        lines += [f"| {r['call']} | {r['seconds']:.4f} | {r['rows_per_s']:,.0f} | {r['ratio_to_pca']:.2f} |"
                  for r in out["inference"]]
        lines.append("")
    if "memory" in out:
        lines += ["| call | rows | peak RSS added / size of X |", "|---|---|---|"]
        lines += [f"| {r['call']} | {r['rows']:,} | {r['peak_rss_added_over_X']:.2f} |" for r in out["memory"]]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", nargs="+", default=["fit", "gemm", "inference", "memory"],
                        choices=["fit", "gemm", "inference", "memory"])
    parser.add_argument("--n-samples", type=int, default=20480)
    parser.add_argument("--n-features", type=int, default=64)
    parser.add_argument("--hidden", type=int, nargs="*", default=[128])
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256, 4096])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for every contender")
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--out", default="benchmarks/results", help="folder for speed.json and speed.md")
    cfg = parser.parse_args()

    torch.set_num_threads(cfg.threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(cfg.threads)  # numpy's BLAS, for MLPRegressor and PCA
    warnings.simplefilter("ignore")
    X = make_data(cfg.n_samples, cfg.n_features)
    out = {"config": vars(cfg), "torch": torch.__version__}
    print(f"{cfg.n_samples}x{cfg.n_features}, layers {[cfg.n_features, *cfg.hidden, cfg.n_components]} mirrored, "
          f"{cfg.epochs} epochs, {cfg.threads} thread(s), median of {cfg.repeats}", flush=True)
    for section in cfg.sections:
        if section == "memory":
            section_memory(cfg, out)
        else:
            globals()[f"section_{section}"](cfg, X, out)
    os.makedirs(cfg.out, exist_ok=True)
    with open(os.path.join(cfg.out, "speed.json"), "w") as f:
        json.dump(out, f, indent=2)
    with open(os.path.join(cfg.out, "speed.md"), "w") as f:
        f.write(markdown(out))
    print("\n" + markdown(out))


if __name__ == "__main__":
    main()
