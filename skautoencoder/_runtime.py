"""Where and how the estimators run: the device policy, the thread policy and the
out-of-memory hint.

One function decides a device for every path: :func:`resolve_device` for a
device the user asks for (``fit``, ``load(device=...)``), strict, and
:func:`restore_device` for a device recorded in a fitted model (unpickling,
``load``), which falls back with a warning when it is not available here.

:func:`threads_for` decides the torch threads of each training or inference call, and
:func:`blas_threads` applies it to numpy's BLAS where the estimators call it (the PCA start).
The rule (documented for users in doc/user_guide/scaling.rst, "Threads"):

- inside ``skautoencoder.nn.torch_threads(n)``: exactly ``n`` threads;
- otherwise one thread on a GPU, in a thread other than the main thread (joblib's
  threading backend, Dask's threaded scheduler, a thread pool: the caller already
  runs work side by side), and wherever a step is small;
- else one thread per ``WORK_PER_THREAD`` multiply-adds of a step, capped by the
  physical cores, by the count the user or the environment set (torch's own thread
  count and ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS``), and by the cores that other
  processes leave idle.

Why (measured on a shared 2-core machine, 1 vs 2 threads, fits of 0.7M to 4.4G
multiply-adds per step; benchmarks/speed.py --sections threads times the rule):
torch's OpenMP threads wait on each other at every parallel operation, so while
another process held a core a second thread made small fits 20-50x slower and even a
784-512-256-32 net at batch 4096 2.4x slower; on idle cores that wide net fit 1.85x
faster with 2 threads, while steps of a few million multiply-adds gained under 10%.
"""

import contextlib
import functools
import os
import threading
import time
import warnings

import torch

from .nn.training import threads_pinned

__all__ = ["blas_threads", "out_of_memory_hint", "resolve_device", "restore_device", "step_work",
           "threads_for", "with_autograd"]

_OutOfMemoryError = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)  # torch < 2.5


def _available(device):
    """Why ``device`` cannot be used here (a sentence), or None when it can."""
    kind = device.type
    if kind == "cpu":
        return None
    if kind == "cuda":
        if not torch.cuda.is_available():
            return "CUDA is not available"
        if device.index is not None and device.index >= torch.cuda.device_count():
            return f"only {torch.cuda.device_count()} CUDA device(s) exist"
        return None
    if kind == "mps":
        backend = getattr(torch.backends, "mps", None)
        return None if backend is not None and backend.is_available() else "MPS is not available"
    if kind == "xpu":
        xpu = getattr(torch, "xpu", None)
        return None if xpu is not None and xpu.is_available() else "XPU is not available"
    return f"device type {kind!r} is not supported"


def resolve_device(device, name="device"):
    """``torch.device`` for a device the user asks for; a ValueError that says what to
    use when it is malformed or not available.

    ``'auto'`` is CUDA when available, else the CPU.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a str or torch.device, got {type(device).__name__}.")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"{name}={device!r} is not a valid torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from None
    problem = _available(resolved)
    if problem is not None:
        raise ValueError(f"{name}={str(device)!r} was requested but {problem}; use 'cpu' or 'auto'.")
    return resolved


def restore_device(recorded, owner):
    """The device to put a fitted model on: the one it was ``recorded`` on when available,
    else CUDA or the CPU, with a warning naming ``owner`` (the estimator's class name)."""
    try:
        device = torch.device(recorded)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"device_={recorded!r} is not a torch device.") from None
    if _available(device) is None:
        return device
    fallback = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    warnings.warn(
        f"{owner} was trained on {device}, which is not available here; it was loaded on "
        f"{fallback} (device_={str(fallback)!r}).",
        UserWarning,
    )
    return fallback


@contextlib.contextmanager
def out_of_memory_hint(owner, device, advice):
    """Turn a device out-of-memory error into a MemoryError that says what to change."""
    try:
        yield
    except _OutOfMemoryError as exc:
        raise MemoryError(
            f"{owner} ran out of memory on {device} {advice}use a smaller network, or use device='cpu'."
        ) from exc


# -- threads -------------------------------------------------------------------------
#: Multiply-adds of a step's matmuls per thread: fewer threads than ``work //
#: WORK_PER_THREAD``. A training step counts its forward and backward passes (3x the
#: forward's). Measured: at 13M (64-128-64-8 at batch 128) 2 threads are no faster than
#: 1, at 154M (256-256-128-16 at batch 256) they take 0.72x the time of 1.
WORK_PER_THREAD = 32_000_000

#: Seconds a measurement of the other processes' load is reused.
_LOAD_MAX_AGE = 0.5
_load_lock = threading.Lock()
_load = {"time": -float("inf"), "busy": 0}


@functools.lru_cache(maxsize=None)
def _physical_cores():
    """Physical cores this process may run on (CPU affinity and cgroup quotas counted)."""
    from joblib import cpu_count  # scikit-learn's dependency; imported on first use

    return max(1, cpu_count(only_physical_cores=True))


def _thread_limit():
    """The most threads that the user or the environment allow in this thread.

    Every setting that bounds torch shows in ``torch.get_num_threads()`` of the calling
    thread: ``torch.set_num_threads``, threadpoolctl's ``threadpool_limits`` (it sets
    the OpenMP count that torch reports), and ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS``,
    which torch reads when it starts (joblib's loky workers and Dask's worker processes
    set ``OMP_NUM_THREADS=1``). The variables also count when set after torch started.
    A count *above* torch's default is not a request: only ``torch_threads(n)`` forces one.
    """
    limit = torch.get_num_threads()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        try:
            limit = min(limit, int(os.environ.get(name, "").split(",")[0]))
        except ValueError:  # unset or not a number: torch ignores it too
            pass
    return max(1, limit)


def _runnable_elsewhere():
    """Threads of other processes running or waiting for a core now (Linux); 0 elsewhere."""
    try:
        with open("/proc/loadavg") as f:
            runnable = int(f.read().split()[3].split("/")[0])
        ours = 0
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/stat") as f:
                    stat = f.read()
            except OSError:  # the thread ended meanwhile
                continue
            ours += stat[stat.rindex(")") + 2] == "R"
    except (OSError, ValueError, IndexError):
        return 0
    return max(0, runnable - max(ours, 1))


def _busy_cores():
    """Cores that other processes keep busy: their runnable threads now (one reading of
    about 0.1 ms: cheap next to the smallest step that wants a second thread, a millisecond
    or more), reused for ``_LOAD_MAX_AGE`` seconds."""
    with _load_lock:
        if time.monotonic() - _load["time"] > _LOAD_MAX_AGE:
            _load["busy"] = _runnable_elsewhere()
            _load["time"] = time.monotonic()
        return _load["busy"]


def step_work(module, n_rows, training):
    """Multiply-adds of the matmuls of one step of ``module`` over ``n_rows`` rows.

    One per weight and row for the forward pass, three for a training step (forward
    and backward). Convolution kernels count once per weight, not per position: an
    underestimate, which errs towards fewer threads.
    """
    weights = sum(p.numel() for p in module.parameters() if p.dim() > 1)
    return n_rows * weights * (3 if training else 1)


def threads_for(work, device="cpu"):
    """Torch threads for a training or inference call whose steps cost ``work`` multiply-adds.

    ``None`` inside ``skautoencoder.nn.torch_threads(n)``: the user's count stands.
    See the module docstring for the rule and why.
    """
    if threads_pinned():
        return None
    if torch.device(device).type != "cpu" or threading.current_thread() is not threading.main_thread():
        return 1
    wanted = int(work // WORK_PER_THREAD)
    if wanted > 1:
        wanted = min(wanted, _physical_cores(), _thread_limit())
    if wanted <= 1:
        return 1
    idle = _physical_cores() - round(_busy_cores())
    return max(1, min(wanted, idle))


@functools.lru_cache(maxsize=None)
def _blas():
    """threadpoolctl's controller of the BLAS libraries loaded (numpy's and scipy's)."""
    from threadpoolctl import ThreadpoolController  # scikit-learn's dependency

    return ThreadpoolController().select(user_api="blas")


@contextlib.contextmanager
def blas_threads(work):
    """Run the block with numpy's and scipy's BLAS on the threads that :func:`threads_for`
    gives a CPU operation of ``work`` multiply-adds (inside ``torch_threads(n)``: ``n``).

    Only lowers the BLAS libraries' count, never raises it, and only in the main thread:
    the count is the whole process's, which a block in another thread would change under
    the main thread's feet. Measured on the shared 2-core machine while other processes
    kept it busy: the PCA start of ``init='pca'`` on 2,048 x 100 took 26 ms with
    OpenBLAS's 2 threads and 4.6 ms with 1 (means of 30), and OpenBLAS's spinning
    threads slowed the training pass after it from 17 to 58 ms; the first ``partial_fit``
    call on such a chunk took 238 ms without this limit, 39 ms with it (medians of 8).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = threads_for(work)
    wanted = torch.get_num_threads() if wanted is None else wanted
    blas = _blas()
    if not blas.lib_controllers or wanted >= min(lib.num_threads for lib in blas.lib_controllers):
        yield
        return
    with blas.limit(limits=wanted):
        yield


def with_autograd(method):
    """``method`` (an estimator's ``fit`` or ``partial_fit``, or the restoring of its fitted
    state) with autograd on, whatever the caller's mode: inside ``torch.no_grad()`` training
    had no gradients, and inside ``torch.inference_mode()`` the module was built from
    inference tensors, which can never be trained (nor copied to float64 for inference).
    Inference within it still runs in inference mode, as everywhere."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with torch.inference_mode(False), torch.enable_grad():
            return method(*args, **kwargs)

    return wrapper
