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
threads
    ``Autoencoder.fit`` and ``transform`` at 1, 2, 4, ... torch threads up to
    the physical cores (each inside ``nn.torch_threads(n)``) and with the
    thread policy (torch at its default count, as in a user's script), for
    the default network on the fit section's data and a wide one
    (``--wide-rows`` x 784, 784-512-256-32 at batch 4096). Interleaved
    repeats, medians; prints the load average, the count the policy chose,
    its time over the best fixed count's, and the target of issue #18 for
    a 16-core CPU (wide fit with the policy >= 4x faster than 1 thread).
first_fit
    Three ``Autoencoder.fit`` calls (1,000 x 64, 5 epochs) in a fresh
    process, each timed: the first pays whatever a process pays once (torch
    imports done lazily by the code the fit runs). Reported: the first fit's
    time over the median of the next two, and whether ``torch._dynamo`` and
    ``sympy`` were imported (each costs seconds once).
gpu
    On CUDA (skipped without it): the wide network's fit at batch 4096 on the
    GPU against the same fit on one CPU thread, and ``transform`` of
    ``--gpu-transform-rows`` x 784 float32 rows from host memory (transfers
    and validation included); with the targets of issue #18 (>= 20x the
    1-thread fit; 1,000,000 rows in under 1 s).
search
    ``GridSearchCV`` of the default network on digits (4 ``n_components`` x
    3 folds) with ``n_jobs=1`` and ``n_jobs=2`` (loky: a first search that
    starts the worker processes, then one that reuses them), and the time a
    fresh process takes to ``import skautoencoder``: what ``n_jobs`` costs
    before it pays.
"""

import argparse
import json
import os
import random
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

import skautoencoder._base
from skautoencoder import Autoencoder
from skautoencoder._runtime import _physical_cores
from skautoencoder.nn import torch_threads


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


# -- threads ------------------------------------------------------------------------
WIDE = {"n_components": 32, "hidden_layer_sizes": (512, 256), "batch_size": 4096}


def load():
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


class PolicySpy:
    """Records the thread count the policy chose for each top-level call (training or inference)."""

    def __init__(self):
        self.chosen = []

    def __enter__(self):
        self.real = skautoencoder._base.threads_for

        def spy(work, device):
            n = self.real(work, device)
            if n is not None:  # None: nested in a call that already chose
                self.chosen.append(n)
            return n

        skautoencoder._base.threads_for = spy
        return self

    def __exit__(self, *exc):
        skautoencoder._base.threads_for = self.real


def thread_counts():
    cores = _physical_cores()
    counts = [1]
    while counts[-1] * 2 <= cores:
        counts.append(counts[-1] * 2)
    return counts + ([cores] if counts[-1] != cores else [])


def interleaved(calls, repeats, pause=1.0):
    """Median seconds of each call over ``repeats`` rounds after a warm-up round.

    Each round runs the calls in a new (seeded) random order, ``pause`` seconds apart:
    an oversubscribed thread count starves the machine's other processes, and the call
    timed right after it should not always be the same one.
    """
    times = {name: [] for name in calls}
    order = list(calls)
    rng = random.Random(0)
    for rep in range(repeats + 1):
        rng.shuffle(order)
        for name in order:
            time.sleep(pause)
            start = time.perf_counter()
            calls[name]()
            if rep:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def section_threads(cfg, X, out):
    torch.set_num_threads(cfg.default_threads)  # torch's own count, as in a user's script
    wide_X = make_data(cfg.wide_rows, 784, seed=1)
    nets = {
        "default": (X, dict(batch_size="auto")),
        "wide": (wide_X, WIDE),
    }
    counts = thread_counts()
    print(f"threads: {_physical_cores()} physical cores, torch default {cfg.default_threads}; {load()}",
          flush=True)
    rows = []
    for net, (data, params) in nets.items():
        def fit(epochs=cfg.epochs if net == "default" else cfg.wide_epochs, data=data, params=params):
            return Autoencoder(**{"random_state": 0, "device": "cpu", "early_stopping": False, "tol": 0.0,
                                  "max_iter": epochs, **params}).fit(data)

        fitted = fit(1)
        for what, call in (("fit", fit), ("transform", lambda: fitted.transform(data))):
            spy = PolicySpy()

            def policy(call=call, spy=spy):
                with spy:
                    call()

            calls = {f"{n} thread(s)": (lambda call=call, n=n: _pinned(call, n)) for n in counts}
            calls["policy"] = policy
            med = interleaved(calls, cfg.repeats)
            best_name = min((name for name in med if name != "policy"), key=med.get)
            chosen = sorted(set(spy.chosen))
            for name, seconds in med.items():
                rows.append({"net": net, "call": what, "threads": name, "seconds": seconds,
                             "ratio_to_best_fixed": seconds / med[best_name],
                             "policy_chose": chosen if name == "policy" else None})
            cells = "  ".join(f"{name} {seconds:.3f}s" for name, seconds in med.items())
            print(f"threads {net:<7} {what:<9} {cells}  | policy chose {chosen}, "
                  f"x{med['policy'] / med[best_name]:.2f} of the best fixed ({best_name}); {load()}",
                  flush=True)
            if net == "wide" and what == "fit":
                speedup = med["1 thread(s)"] / med["policy"]
                verdict = "met" if speedup >= 4 else "not met"
                print(f"target (on a 16-core CPU): wide fit with the policy >= 4x faster than 1 thread: "
                      f"{speedup:.2f}x on {_physical_cores()} cores ({verdict})", flush=True)
                out["threads_wide_fit_speedup"] = speedup
    out["threads"] = {"cores": _physical_cores(), "default_threads": cfg.default_threads, "rows": rows,
                      "load_average_after": os.getloadavg()}
    torch.set_num_threads(cfg.threads)


def _pinned(call, n):
    with torch_threads(n):
        call()


def section_gpu(cfg, X, out):
    device = cfg.gpu_device
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu: skipped, CUDA is not available")
        return
    wide_X = make_data(cfg.wide_rows, 784, seed=1)

    def fit(on, epochs=cfg.wide_epochs):
        model = Autoencoder(random_state=0, device=on, early_stopping=False, tol=0.0, max_iter=epochs, **WIDE)
        model.fit(wide_X)
        if model.device_.type == "cuda":
            torch.cuda.synchronize()
        return model

    fit(device, 1)  # warm-up: CUDA context, kernels
    med = interleaved({"cpu, 1 thread": lambda: _pinned(lambda: fit("cpu"), 1), device: lambda: fit(device)},
                      cfg.repeats)
    ratio = med["cpu, 1 thread"] / med[device]
    print(f"gpu fit wide ({cfg.wide_rows}x784, batch 4096, {cfg.wide_epochs} epochs): "
          f"cpu 1 thread {med['cpu, 1 thread']:.3f}s, {device} {med[device]:.3f}s: x{ratio:.1f} "
          f"(target >= 20x: {'met' if ratio >= 20 else 'not met'})", flush=True)
    model = fit(device, 1)
    rng = np.random.RandomState(2)
    big = np.empty((cfg.gpu_transform_rows, 784), dtype=np.float32)
    for start in range(0, big.shape[0], 100_000):
        big[start:start + 100_000] = rng.rand(min(100_000, big.shape[0] - start), 784)
    model.transform(big[:10_000])
    times = []
    for _ in range(cfg.repeats):
        start = time.perf_counter()
        codes = model.transform(big)
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    target = "n/a: fewer rows" if cfg.gpu_transform_rows < 1_000_000 else "met" if seconds < 1 else "not met"
    print(f"gpu transform {cfg.gpu_transform_rows:,}x784 float32 from host memory on {device}: "
          f"{seconds:.3f}s "
          f"({cfg.gpu_transform_rows / seconds:,.0f} rows/s; target 1,000,000 rows < 1 s: {target}), "
          f"codes {codes.shape} {codes.dtype}", flush=True)
    name = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    out["gpu"] = {"device": device, "name": name,
                  "fit_cpu_1_thread_s": med["cpu, 1 thread"], "fit_gpu_s": med[device], "fit_ratio": ratio,
                  "transform_rows": cfg.gpu_transform_rows, "transform_s": seconds}


SEARCH_SCRIPT = """
import json, time, warnings
start = time.perf_counter()
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from skautoencoder import Autoencoder
imported = time.perf_counter() - start
warnings.simplefilter("ignore")
X = load_digits().data / 16.0
grid = {{"n_components": [2, 4, 8, 16]}}
est = Autoencoder(max_iter={epochs}, random_state=0)
times = {{}}
for label, n_jobs in (("n_jobs=1", 1), ("n_jobs=2, new workers", 2), ("n_jobs=2, workers reused", 2)):
    start = time.perf_counter()
    GridSearchCV(est, grid, cv=3, n_jobs=n_jobs).fit(X)
    times[label] = time.perf_counter() - start
print(json.dumps({{"import_s": imported, **times}}))
"""


def section_search(cfg, out):
    script = SEARCH_SCRIPT.format(epochs=cfg.search_epochs)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    times = json.loads(result.stdout.strip().splitlines()[-1])
    print("search: " + ", ".join(f"{k} {v:.2f}s" for k, v in times.items()) + f"; {load()}", flush=True)
    out["search"] = times


FIRST_FIT_SCRIPT = """
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from skautoencoder import Autoencoder
X = np.random.RandomState(0).rand(1000, 64)
times = []
for seed in range(3):
    start = time.perf_counter()
    Autoencoder(8, max_iter=5, random_state=seed).fit(X)
    times.append(time.perf_counter() - start)
print(json.dumps({{"times": times, "dynamo": "torch._dynamo" in sys.modules, "sympy": "sympy" in sys.modules}}))
"""


def section_first_fit(cfg, out):
    rows = []
    for _ in range(cfg.repeats):
        result = subprocess.run([sys.executable, "-c", FIRST_FIT_SCRIPT.format()], capture_output=True,
                                text=True, check=True)
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    first = float(np.median([r["times"][0] for r in rows]))
    later = float(np.median([t for r in rows for t in r["times"][1:]]))
    out["first_fit"] = {"first_s": first, "later_s": later, "extra_s": first - later,
                        "dynamo": any(r["dynamo"] for r in rows), "sympy": any(r["sympy"] for r in rows)}
    print(f"first fit in a fresh process {first:.3f} s, later fits {later:.3f} s (extra {first - later:+.3f} s); "
          f"torch._dynamo imported: {out['first_fit']['dynamo']}, sympy: {out['first_fit']['sympy']}", flush=True)


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
        lines.append("")
    if "threads" in out:
        rows = out["threads"]["rows"]
        names = list(dict.fromkeys(r["threads"] for r in rows))
        lines += [f"{out['threads']['cores']} physical cores; load average after: "
                  + " ".join(f"{x:.2f}" for x in out["threads"]["load_average_after"]), "",
                  "| net | call | " + " | ".join(names) + " | policy chose | policy / best |",
                  "|---" * (len(names) + 4) + "|"]
        for net, call in dict.fromkeys((r["net"], r["call"]) for r in rows):
            cells = {r["threads"]: r for r in rows if r["net"] == net and r["call"] == call}
            lines.append(f"| {net} | {call} | " + " | ".join(f"{cells[n]['seconds']:.3f}" for n in names)
                         + f" | {cells['policy']['policy_chose']} "
                         + f"| {cells['policy']['ratio_to_best_fixed']:.2f} |")
        lines.append("")
    if "gpu" in out:
        g = out["gpu"]
        lines += [f"GPU ({g['name']}): wide fit {g['fit_gpu_s']:.3f} s vs {g['fit_cpu_1_thread_s']:.3f} s "
                  f"on one CPU thread (x{g['fit_ratio']:.1f}); transform of {g['transform_rows']:,} x 784: "
                  f"{g['transform_s']:.3f} s", ""]
    if "first_fit" in out:
        f = out["first_fit"]
        lines += [f"first fit {f['first_s']:.3f} s, later fits {f['later_s']:.3f} s (extra {f['extra_s']:+.3f} s); "
                  f"torch._dynamo imported: {f['dynamo']}, sympy: {f['sympy']}", ""]
    if "search" in out:
        lines += ["| search | seconds |", "|---|---|"]
        lines += [f"| {k} | {v:.2f} |" for k, v in out["search"].items()]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", nargs="+", default=["fit", "gemm", "inference", "memory"],
                        choices=["fit", "gemm", "inference", "memory", "threads", "gpu", "search", "first_fit"])
    parser.add_argument("--n-samples", type=int, default=20480)
    parser.add_argument("--n-features", type=int, default=64)
    parser.add_argument("--hidden", type=int, nargs="*", default=[128])
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256, 4096])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for every contender")
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--wide-rows", type=int, default=20_000,
                        help="rows of the wide net's data (threads, gpu)")
    parser.add_argument("--wide-epochs", type=int, default=2)
    parser.add_argument("--gpu-device", default="cuda")
    parser.add_argument("--gpu-transform-rows", type=int, default=1_000_000)
    parser.add_argument("--search-epochs", type=int, default=20)
    parser.add_argument("--out", default="benchmarks/results", help="folder for speed.json and speed.md")
    cfg = parser.parse_args()

    cfg.default_threads = torch.get_num_threads()  # before this script sets its own
    torch.set_num_threads(cfg.threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(cfg.threads)  # numpy's BLAS, for MLPRegressor and PCA
    warnings.simplefilter("ignore")
    X = make_data(cfg.n_samples, cfg.n_features)
    out = {"config": vars(cfg), "torch": torch.__version__}
    print(f"{cfg.n_samples}x{cfg.n_features}, layers {[cfg.n_features, *cfg.hidden, cfg.n_components]} mirrored, "
          f"{cfg.epochs} epochs, {cfg.threads} thread(s), median of {cfg.repeats}", flush=True)
    for section in cfg.sections:
        if section in ("memory", "search", "first_fit"):
            globals()[f"section_{section}"](cfg, out)
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
