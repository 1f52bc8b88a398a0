"""The training loop shared by every autoencoder of the package.

Pure PyTorch. Data stay one in-memory tensor (or any object that ``get_batch``
can cut rows from); an epoch walks a seeded permutation of row indices in
batches, with no ``DataLoader``, calling ``step(batch)`` once per batch
(:mod:`skautoencoder.nn.steps`). Losses are accumulated on the device and read
once per epoch, so the host never waits on the device inside an epoch.

:class:`Trainer` owns the module's optimiser; the record of what training did
is a :class:`History` that the caller owns and passes in, so that calling
:meth:`Trainer.fit` again, or :meth:`Trainer.partial_fit` once per chunk,
continues it.
"""

import contextlib
import math
import sys
import threading
import time

import torch

from .steps import FusedAdam, make_step

__all__ = [
    "OPTIMIZERS",
    "DivergenceError",
    "History",
    "Trainer",
    "clear_lead",
    "make_optimizer",
    "threads_pinned",
    "torch_threads",
]

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")

#: ``Trainer.fit(include_start=True)`` keeps a trained epoch over the start only when it wins by
#: more than this many standard errors (two: a one-sided test at about the 2% level; not tuned).
START_MARGIN = 2.0
#: Groups of validation rows whose paired loss differences give that standard error.
START_GROUPS = 32


def clear_lead(gains, margin):
    """How far paired differences favour a candidate beyond ``margin`` standard errors.

    Parameters
    ----------
    gains : array-like of shape (n, ...)
        Paired differences (reference minus candidate loss), ``n >= 2`` along the first axis.
    margin : float

    Returns
    -------
    lead : torch.Tensor of shape gains.shape[1:], float64
        The mean of ``gains`` minus ``margin`` standard errors of that mean: positive
        where the candidate wins by more than ``margin`` standard errors.
    """
    gains = torch.as_tensor(gains, dtype=torch.float64)
    return gains.mean(dim=0) - margin * gains.std(dim=0) / math.sqrt(gains.shape[0])


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss.

    Attributes
    ----------
    epoch : int
        The epoch (1-based, counted over the history) whose loss was not finite.
    loss : float
        That epoch's loss (``nan`` or ``inf``, or finite when only the
        weights became non-finite).
    """

    def __init__(self, epoch, loss):
        self.epoch = epoch
        self.loss = loss
        what = f"the training loss became {loss}" if not math.isfinite(loss) else "the weights became non-finite"
        super().__init__(
            f"{what} in epoch {epoch}; the weights at the end of epoch {epoch - 1}, "
            "the last that ended finite, were kept"
        )


def make_optimizer(name, params, learning_rate, weight_decay=0.0):
    """An optimiser by name, using the fastest implementation available.

    Parameters
    ----------
    name : {"adam", "adamw", "rmsprop", "sgd"}
        ``"adam"`` and ``"adamw"`` give a :class:`~skautoencoder.nn.steps.FusedAdam`
        where torch has the fused kernels (a ``torch.optim`` optimiser
        otherwise); ``"sgd"`` uses Nesterov momentum 0.9, like scikit-learn's MLP.
    params : iterable of torch.nn.Parameter
    learning_rate : float
    weight_decay : float, default=0.0
        L2 penalty (decoupled for ``"adamw"``).

    Returns
    -------
    optimizer : FusedAdam or torch.optim.Optimizer
        Both have ``step()``, ``zero_grad()``, ``state_dict()`` and ``load_state_dict()``.
    """
    params = list(params)
    kwargs = {"lr": learning_rate, "weight_decay": weight_decay}
    if name in ("adam", "adamw"):
        if FusedAdam.available(params):
            return FusedAdam(params, decoupled=name == "adamw", **kwargs)
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        return cls(params, foreach=True, **kwargs)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, foreach=True, **kwargs)
    if name == "sgd":
        return torch.optim.SGD(params, momentum=0.9, nesterov=True, foreach=True, **kwargs)
    raise ValueError(f"Unknown optimizer {name!r}; expected one of {OPTIMIZERS}.")


_pinned = threading.local()  # per thread: how many torch_threads(n) blocks are open


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run the block with ``torch.set_num_threads(n_threads)``, then restore.

    ``None`` leaves torch's setting alone. With torch's OpenMP backend the
    setting belongs to the calling thread, so blocks in several Python
    threads do not interfere: each sets and restores its own.

    This is also the user's way to choose the thread count of the
    skautoencoder estimators: inside ``with torch_threads(n):`` they use
    exactly ``n`` threads instead of choosing a count themselves.

    Examples
    --------
    >>> import torch
    >>> from skautoencoder.nn import torch_threads
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    """
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    if n_threads != previous:
        torch.set_num_threads(n_threads)
    _pinned.depth = getattr(_pinned, "depth", 0) + 1
    try:
        yield
    finally:
        _pinned.depth -= 1
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def threads_pinned():
    """Whether a :func:`torch_threads` block with a thread count is open in this thread."""
    return getattr(_pinned, "depth", 0) > 0


def _progress_bar(total):
    """A tqdm bar when tqdm is installed and stdout is a terminal; else None (lines are printed)."""
    if not sys.stdout.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="epoch")


def _index_rows(X, rows):
    return X if rows is None else X.index_select(0, rows)


class History:
    """What training did, epoch by epoch; owned by the caller and extended by :class:`Trainer`.

    Parameters
    ----------
    loss_curve : list of float, optional
        Mean training loss of each epoch so far (the list is extended in place).
    validation_loss_curve : list of float, optional
        Validation loss of each epoch that had validation rows (extended in place).
    """

    def __init__(self, loss_curve=None, validation_loss_curve=None):
        self.loss_curve = [] if loss_curve is None else loss_curve
        self.validation_loss_curve = [] if validation_loss_curve is None else validation_loss_curve

    @property
    def n_iter(self):
        """Number of epochs recorded."""
        return len(self.loss_curve)


class Trainer:
    """Minibatch training of ``module`` on the loss ``loss_fn``.

    Parameters
    ----------
    module : torch.nn.Module
        The network to train (in place).
    loss_fn : callable
        ``loss_fn(module, batch, generator) -> scalar tensor``. During training
        ``generator`` is the trainer's; during evaluation it is ``None``, which
        asks for a deterministic loss (no corruption, no sampling). Pass
        :func:`~skautoencoder.nn.steps.plain_mse_loss` itself for the plain
        MSE: the trainer then runs its hand-written step where the module allows.
    optimizer : str, default="adam"
        Name for :func:`make_optimizer`.
    optimizer_state : list of dict, optional
        :meth:`optimizer_state` of an earlier trainer with the same optimiser
        over the same parameters, to continue its run (moments, step counts).
    learning_rate : float, default=1e-3
        Learning rate of the optimiser.
    weight_decay : float, default=0.0
        L2 penalty (decoupled for ``"adamw"``).
    batch_size : int, default=256
        Rows per step.
    shuffle : bool, default=True
        Walk the rows in a new random order every epoch.
    generator : torch.Generator, optional
        Source of the permutations and of whatever ``loss_fn`` draws. Must live
        on the data's device.
    get_batch : callable, optional
        ``get_batch(X, rows) -> dense batch tensor``; defaults to
        ``X.index_select(0, rows)``. Lets ``X`` be e.g. a sparse matrix that is
        densified one batch at a time.
    eval_batch_size : int, default=4096
        Rows per forward pass when evaluating.
    verbose : int, default=0
        When positive, report each epoch of :meth:`fit` (a progress bar when
        ``tqdm`` is installed and standard output is a terminal, otherwise one
        printed line) and how training ended.
    """

    def __init__(self, module, loss_fn, *, optimizer="adam", optimizer_state=None, learning_rate=1e-3,
                 weight_decay=0.0, batch_size=256, shuffle=True, generator=None,
                 get_batch=None, eval_batch_size=4096, verbose=0):
        self.module = module
        self.loss_fn = loss_fn
        self.optimizer_name = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.get_batch = get_batch or _index_rows
        self.eval_batch_size = eval_batch_size
        self.verbose = verbose
        self.reset_optimizer()
        if optimizer_state is not None:
            full = self.optimizer.state_dict()
            full["state"] = {i: dict(s) for i, s in enumerate(optimizer_state) if s is not None}
            self.optimizer.load_state_dict(full)

    # -- weights ---------------------------------------------------------
    def _snapshot(self, into=None):
        state = list(self.module.state_dict().values())
        if into is None:
            return [t.detach().clone() for t in state]
        with torch.no_grad():
            for dst, src in zip(into, state):
                dst.copy_(src)
        return into

    def _restore(self, snapshot):
        with torch.no_grad():
            for dst, src in zip(self.module.state_dict().values(), snapshot):
                dst.copy_(src)

    def reset_optimizer(self):
        """Forget the optimiser's state (moments, momentum)."""
        self.optimizer = make_optimizer(
            self.optimizer_name, self.module.parameters(), self.learning_rate, self.weight_decay
        )
        self.step = make_step(self.module, self.loss_fn, self.optimizer, self.generator)

    def optimizer_state(self):
        """The optimiser's state per parameter of the module.

        Returns
        -------
        state : list of dict or None
            One entry per parameter of the module, in order (None where the
            optimiser has no state for it yet): what the ``optimizer_state``
            parameter takes to continue. Tensors are shared, not copied.
        """
        state = self.optimizer.state_dict()["state"]
        return [state.get(i) for i in range(len(list(self.module.parameters())))]

    # -- one pass --------------------------------------------------------
    def module_device(self):
        """The device of the module's first parameter."""
        return next(self.module.parameters()).device

    def train_epoch(self, X, rows=None):
        """One pass over the rows ``rows`` of ``X`` (all rows if None), one ``step`` a batch.

        Returns the mean training loss of the pass, as a float; this is the
        only point at which the host waits for the device. Does not touch the
        history: :meth:`fit` and :meth:`partial_fit` do.
        """
        n = X.shape[0] if rows is None else rows.shape[0]
        device = self.module_device()
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator, device=device)
            order = order if rows is None else rows[order]
        else:
            order = torch.arange(n, device=device) if rows is None else rows
        step, get_batch, batch_size = self.step, self.get_batch, self.batch_size
        self.module.train()
        total = torch.zeros((), device=device)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            total.add_(step(get_batch(X, idx)), alpha=idx.shape[0])
        return total.item() / max(n, 1)

    @torch.no_grad()
    def evaluate(self, X, rows=None):
        """Mean deterministic loss (``generator=None``) over rows of ``X``."""
        n = X.shape[0] if rows is None else rows.shape[0]
        device = self.module_device()
        self.module.eval()
        total = torch.zeros((), device=device)
        for start in range(0, n, self.eval_batch_size):
            stop = min(start + self.eval_batch_size, n)
            idx = torch.arange(start, stop, device=device) if rows is None else rows[start:stop]
            total += self.loss_fn(self.module, self.get_batch(X, idx), None) * (stop - start)
        self.module.train()
        return total.item() / max(n, 1)

    # -- loops -----------------------------------------------------------
    def _beats(self, candidate, reference, X, rows):
        """Whether the weights ``candidate`` have a lower loss than ``reference`` on the rows
        ``rows`` by more than :data:`START_MARGIN` standard errors: the rows are cut into
        :data:`START_GROUPS` groups (at most one per row) and the standard error is that of
        the mean of the groups' paired loss differences. Leaves ``candidate`` loaded.

        The groups are drawn at random (a fixed seed), not cut from ``rows`` in their order:
        held-out rows come sorted, and contiguous groups of data sorted by class or time
        would be strata whose differences inflate the standard error."""
        order = torch.randperm(rows.shape[0], generator=torch.Generator().manual_seed(0)).to(rows.device)
        groups = torch.tensor_split(rows[order], min(START_GROUPS, rows.shape[0]))
        losses = []
        for state in (reference, candidate):
            self._restore(state)
            losses.append([self.evaluate(X, group) for group in groups])
        gains = [ref - cand for ref, cand in zip(*losses)]
        if len(gains) < 2:
            return gains[0] > 0
        return bool(clear_lead(gains, START_MARGIN) > 0)

    def _weights_finite(self):
        return bool(torch.stack([torch.isfinite(p).all() for p in self.module.parameters()]).all())

    def partial_fit(self, X, history):
        """One epoch over all of ``X``, recorded in ``history``.

        Returns
        -------
        status : {"epoch", "interrupted"}
            ``"interrupted"`` after a ``KeyboardInterrupt``: the weights from
            before the pass are restored and the optimiser state is reset.

        Raises
        ------
        DivergenceError
            If the loss or a weight is not finite; the weights from before the
            pass are restored and the optimiser state is reset.
        """
        before = self._snapshot()
        start = time.perf_counter()
        try:
            loss = self.train_epoch(X)
        except KeyboardInterrupt:
            self._restore(before)
            self.reset_optimizer()
            return "interrupted"
        if not (math.isfinite(loss) and self._weights_finite()):
            self._restore(before)
            self.reset_optimizer()
            raise DivergenceError(history.n_iter + 1, loss)
        history.loss_curve.append(loss)
        if self.verbose:
            print(f"Epoch {history.n_iter}: loss: {loss:.6g}, time: {time.perf_counter() - start:.3f}s",
                  flush=True)
        return "epoch"

    def fit(self, X, history, train_rows=None, validation_rows=None, *, max_epochs=200, tol=1e-4,
            n_iter_no_change=10, include_start=False):
        """Train for at most ``max_epochs`` epochs, stopping when the loss stalls.

        The monitored loss is the validation loss when ``validation_rows`` is
        given (and non-empty), the training loss otherwise. Training stops when
        it has not improved by at least ``tol`` for more than
        ``n_iter_no_change`` consecutive epochs (scikit-learn MLP's rule).
        With validation rows, the weights of the best validation epoch are
        restored at the end. With ``include_start=True`` the weights the call
        starts from count as epoch 0: their validation loss is measured before
        the first step, and when no epoch beats it they are restored, so the
        module ends no worse on the validation rows than it started. The best
        epoch was chosen *by* those rows among many, the start was not, so its
        lead is optimistic: it must also beat the start by more than
        :data:`START_MARGIN` standard errors of the paired difference (over
        :data:`START_GROUPS` groups of the validation rows), or the start is
        restored (see :meth:`_beats`).

        Parameters
        ----------
        X : torch.Tensor or object
            The rows (anything ``get_batch`` can cut rows from).
        history : History
            The record to extend, one entry per epoch.
        train_rows : torch.Tensor of int, optional
            Indices of the training rows; all rows when None.
        validation_rows : torch.Tensor of int, optional
            Indices of the rows whose loss is monitored; none when None.
        max_epochs : int, default=200
        tol : float, default=1e-4
            Smallest decrease of the monitored loss that counts as an improvement.
        n_iter_no_change : int, default=10
            Epochs without improvement tolerated before stopping.
        include_start : bool, default=False
            Count the starting weights as epoch 0 (see above).

        Returns
        -------
        status : {"converged", "max_iter", "interrupted"}
            ``"interrupted"`` after a ``KeyboardInterrupt``: the best weights
            (validation) or those of the last complete epoch are restored.
        best_loss : float
            The best monitored loss of this call.

        Raises
        ------
        DivergenceError
            If a loss or a weight is not finite; the weights at the end of the
            last finite epoch are restored and the optimiser state is reset.
        """
        monitor_validation = validation_rows is not None and validation_rows.shape[0] > 0
        last_good = self._snapshot()
        best, best_epoch, no_improvement = math.inf, None, 0
        best_state = None
        start_state = None
        if monitor_validation and include_start:
            start_state, start_epoch = self._snapshot(), history.n_iter
            best, best_epoch, best_state = self.evaluate(X, validation_rows), start_epoch, self._snapshot()
            start_loss = best
        status = "max_iter"
        bar = _progress_bar(max_epochs) if self.verbose else None
        try:
            for _ in range(max_epochs):
                start = time.perf_counter()
                loss = self.train_epoch(X, train_rows)
                current = self.evaluate(X, validation_rows) if monitor_validation else loss
                if not (math.isfinite(loss) and math.isfinite(current) and self._weights_finite()):
                    self._restore(last_good)
                    self.reset_optimizer()
                    raise DivergenceError(history.n_iter + 1, current if math.isfinite(loss) else loss)
                history.loss_curve.append(loss)
                if monitor_validation:
                    history.validation_loss_curve.append(current)
                no_improvement = no_improvement + 1 if current > best - tol else 0
                if current < best:
                    best, best_epoch = current, history.n_iter
                    if monitor_validation:
                        best_state = self._snapshot(best_state)
                self._snapshot(last_good)
                if bar is not None:
                    bar.set_postfix(loss=f"{loss:.4g}", **({"val": f"{current:.4g}"} if monitor_validation else {}))
                    bar.update()
                elif self.verbose:
                    val = f", validation loss: {current:.6g}" if monitor_validation else ""
                    print(f"Epoch {history.n_iter}: loss: {loss:.6g}{val}, "
                          f"time: {time.perf_counter() - start:.3f}s", flush=True)
                if no_improvement > n_iter_no_change:
                    status = "converged"
                    break
        except KeyboardInterrupt:
            status = "interrupted"
            self._restore(last_good)
            self.reset_optimizer()  # its state includes the discarded steps
        finally:
            if bar is not None:
                bar.close()
        if monitor_validation and best_state is not None:
            if (start_state is not None and best_epoch != start_epoch
                    and not self._beats(best_state, start_state, X, validation_rows)):
                best, best_epoch, best_state = start_loss, start_epoch, start_state
            self._restore(best_state)
        if self.verbose:
            self._report_end(status, history, best, best_epoch, monitor_validation, tol, n_iter_no_change)
        return status, best

    @staticmethod
    def _report_end(status, history, best, best_epoch, monitor_validation, tol, n_iter_no_change):
        what = "Validation loss" if monitor_validation else "Training loss"
        if status == "converged":
            print(f"{what} did not improve more than tol={tol} for {n_iter_no_change} consecutive "
                  f"epochs. Stopping at epoch {history.n_iter}.", flush=True)
        elif status == "interrupted":
            print(f"Training interrupted at epoch {history.n_iter}.", flush=True)
        else:
            print(f"Reached max_iter at epoch {history.n_iter}.", flush=True)
        if monitor_validation and best_epoch is not None:
            print(f"Restored the weights of epoch {best_epoch} (validation loss {best:.6g}).", flush=True)
