"""Time ``Autoencoder.fit`` against a minimal raw PyTorch loop, in the same run.

Both train the same architecture (64-128-16-128-64 by default) for the same
number of epochs at the same batch size, without early stopping, on the same
data, with one torch thread each by default (``--threads``; the estimator
may use fewer threads than torch's setting on small problems, never more). Runs are interleaved and the
median over repeats is reported with the ratio ``Autoencoder / raw loop``
(absolute times on a shared machine are noise; the ratio is the result).

    python benchmarks/fit_time.py --batch-sizes 32 256 4096 --json out.json
"""

import argparse
import json
import statistics
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from skautoencoder import Autoencoder


def raw_loop(X, hidden, n_components, batch_size, epochs, seed):
    """The least code that trains the same network: the baseline."""
    g = torch.Generator().manual_seed(seed)
    sizes = [X.shape[1], *hidden, n_components]
    layers = []
    for widths in (sizes, sizes[::-1]):
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            if i:
                layers.append(torch.nn.ReLU())
            layers.append(torch.nn.Linear(a, b))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    Xt = torch.from_numpy(X)
    n = Xt.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for start in range(0, n, batch_size):
            xb = Xt[perm[start:start + batch_size]]
            loss = torch.nn.functional.mse_loss(model(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model


def ours(X, hidden, n_components, batch_size, epochs, seed):
    return Autoencoder(
        n_components, hidden_layer_sizes=hidden, batch_size=batch_size, max_iter=epochs,
        early_stopping=False, tol=0.0, n_iter_no_change=epochs, random_state=seed, device="cpu",
    ).fit(X)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-samples", type=int, default=20480)
    parser.add_argument("--n-features", type=int, default=64)
    parser.add_argument("--hidden", type=int, nargs="*", default=[128])
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256, 4096])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", ConvergenceWarning)
    rng = np.random.RandomState(0)
    latent = rng.randn(args.n_samples, 8).astype(np.float32)
    X = np.tanh(latent @ rng.randn(8, args.n_features).astype(np.float32))
    X += 0.05 * rng.randn(*X.shape).astype(np.float32)

    results = []
    print(f"{args.n_samples}x{args.n_features}, layers {[args.n_features, *args.hidden, args.n_components]} "
          f"mirrored, {args.epochs} epochs, {args.threads} thread(s), median of {args.repeats}\n")
    print(f"{'batch':>6} {'raw loop s':>11} {'Autoencoder s':>14} {'ratio':>6}")
    for bs in args.batch_sizes:
        times = {"raw": [], "ours": []}
        for rep in range(args.repeats + 1):  # first round warms up
            for name, fn in (("raw", raw_loop), ("ours", ours)) if rep % 2 else (("ours", ours), ("raw", raw_loop)):
                t = time.perf_counter()
                fn(X, tuple(args.hidden), args.n_components, bs, args.epochs, rep)
                if rep:
                    times[name].append(time.perf_counter() - t)
        raw, mine = statistics.median(times["raw"]), statistics.median(times["ours"])
        results.append({"batch_size": bs, "raw_s": raw, "autoencoder_s": mine, "ratio": mine / raw})
        print(f"{bs:>6} {raw:>11.3f} {mine:>14.3f} {mine / raw:>6.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "torch": torch.__version__, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
