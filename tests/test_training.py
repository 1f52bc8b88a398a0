"""The training loop of skautoencoder.nn, on its own (no scikit-learn)."""

import ast
from pathlib import Path

import pytest
import torch

import skautoencoder.nn

from skautoencoder.nn import DivergenceError, Trainer, build_mlp_autoencoder, reconstruction_loss, reset_parameters


def mse(module, X, generator):
    return reconstruction_loss(module(X), X)


def make(seed=0, n_features=6, **kwargs):
    g = torch.Generator().manual_seed(seed)
    module = reset_parameters(build_mlp_autoencoder(n_features, (16,), 2), g)
    X = torch.randn(300, 2, generator=g) @ torch.randn(2, n_features, generator=g)
    return Trainer(module, mse, generator=g, batch_size=32, **kwargs), X


def test_nn_imports_neither_sklearn_nor_the_estimators():
    for path in Path(skautoencoder.nn.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            else:
                continue
            for name in names:
                assert not name.startswith(("sklearn", "..")), f"{path.name} imports {name}"


def test_early_stopping_restores_the_best_validation_weights():
    trainer, X = make(learning_rate=3e-2)
    train_rows, val_rows = torch.arange(0, 250), torch.arange(250, 300)
    status = trainer.fit(X, train_rows, val_rows, max_epochs=60, tol=0.0, n_iter_no_change=3)
    assert status in ("converged", "max_iter")
    best = min(trainer.validation_scores)
    assert trainer.best_loss == best
    assert trainer.evaluate(X, val_rows) == pytest.approx(best, rel=1e-5)


def test_without_validation_the_training_loss_is_monitored():
    trainer, X = make()
    status = trainer.fit(X, max_epochs=500, tol=1e-2, n_iter_no_change=2)
    assert status == "converged" and trainer.validation_scores == []
    assert trainer.n_iter == len(trainer.loss_curve) < 500
    assert trainer.best_loss == min(trainer.loss_curve)


def test_same_generator_seed_same_training():
    a, X = make(seed=1)
    b, _ = make(seed=1)
    a.fit(X, max_epochs=3)
    b.fit(X, max_epochs=3)
    assert a.loss_curve == b.loss_curve


def test_divergence_restores_last_finite_weights():
    trainer, X = make(learning_rate=1e3, optimizer="sgd")
    with pytest.raises(DivergenceError, match="epoch") as info:
        trainer.fit(X * 1e3, max_epochs=50)
    assert all(torch.isfinite(p).all() for p in trainer.module.parameters())
    assert info.value.epoch == trainer.n_iter + 1


def test_keyboard_interrupt_keeps_last_complete_epoch():
    trainer, X = make()
    calls = []

    def interrupting(module, batch, generator):
        calls.append(1)
        if len(calls) == 3 * 10 + 5:  # 10 batches per epoch: in epoch 4
            raise KeyboardInterrupt
        return mse(module, batch, generator)

    trainer.loss_fn = interrupting
    reference, _ = make()
    reference.fit(X, max_epochs=3, tol=0.0, n_iter_no_change=100)
    assert trainer.fit(X, max_epochs=10) == "interrupted"
    assert trainer.n_iter == 3
    for p, q in zip(trainer.module.parameters(), reference.module.parameters()):
        torch.testing.assert_close(p, q)


def test_building_a_module_leaves_global_rng_alone():
    state = torch.get_rng_state()
    reset_parameters(build_mlp_autoencoder(10, (8, 4), 2), torch.Generator().manual_seed(0))
    assert torch.equal(state, torch.get_rng_state())


def test_reset_parameters_refuses_parameters_it_cannot_initialise():
    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.empty(3, device="meta"))

    with pytest.raises(ValueError, match="cannot initialise 'scale'"):
        reset_parameters(Odd(), torch.Generator())


def test_torch_threads_is_per_thread_and_restores_the_setting():
    import threading

    from skautoencoder.nn import threads_pinned, torch_threads

    before = torch.get_num_threads()
    barrier = threading.Barrier(4)
    inside, after = [], []

    def work():
        own = torch.get_num_threads()
        with torch_threads(1):
            barrier.wait()  # all four blocks open at once
            inside.append((torch.get_num_threads(), threads_pinned()))
            barrier.wait()
        after.append(torch.get_num_threads() == own and not threads_pinned())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inside == [(1, True)] * 4 and all(after)
    assert torch.get_num_threads() == before and not threads_pinned()


def test_progress_bar_on_a_terminal_and_lines_otherwise(monkeypatch, capsys):
    tqdm = pytest.importorskip("tqdm")
    import tqdm.auto  # noqa: F401
    import sys as _sys

    trainer, X = make(verbose=1)
    trainer.fit(X, max_epochs=3, tol=0.0, n_iter_no_change=10)
    assert len(capsys.readouterr().out.strip().splitlines()) == 3  # not a terminal: lines
    bars = []
    real = tqdm.auto.tqdm

    def spy(*args, **kwargs):
        bars.append(real(*args, **kwargs))
        return bars[-1]

    monkeypatch.setattr(tqdm.auto, "tqdm", spy)
    monkeypatch.setattr(_sys.stdout, "isatty", lambda: True, raising=False)
    trainer.fit(X, max_epochs=4, tol=0.0, n_iter_no_change=10)
    assert len(bars) == 1 and bars[0].n == 4
    assert "Epoch" not in capsys.readouterr().out


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity", "gelu"])
@pytest.mark.parametrize("optimizer, weight_decay", [("adam", 0.0), ("adam", 1e-3), ("adamw", 1e-2), ("sgd", 0.0)])
def test_hand_written_mse_step_is_bitwise_the_autograd_step(activation, optimizer, weight_decay, monkeypatch):
    # mse=True may take the hand-written forward/backward and the direct fused Adam call;
    # the weights must be exactly those of the autograd loop (ragged last batch included)
    from skautoencoder.nn import fastpath

    calls = []
    monkeypatch.setattr(fastpath.MSEStep, "__call__", lambda self, x, call=fastpath.MSEStep.__call__:
                        calls.append(1) or call(self, x))
    weights = []
    for fast in (False, True):
        g = torch.Generator().manual_seed(0)
        module = reset_parameters(build_mlp_autoencoder(7, (16, 8), 3, activation), g)
        X = torch.randn(301, 7, generator=g)
        trainer = Trainer(module, mse, generator=g, batch_size=32, optimizer=optimizer,
                          weight_decay=weight_decay, mse=fast)
        for _ in range(3):
            trainer.train_epoch(X)
        trainer.partial_fit(X[:50])
        weights.append([p.detach().clone() for p in module.parameters()])
    for slow, fast in zip(*weights):
        assert torch.equal(slow, fast)
    takes_fast_path = activation != "gelu" and optimizer != "sgd"
    assert bool(calls) == takes_fast_path


def test_hand_written_inference_is_bitwise_encode():
    from skautoencoder.nn.fastpath import forward_stack, linear_stack

    g = torch.Generator().manual_seed(0)
    module = reset_parameters(build_mlp_autoencoder(7, (16, 8), 3, "tanh"), g)
    X = torch.randn(100, 7, generator=g)
    with torch.no_grad():
        assert torch.equal(forward_stack(linear_stack(module.encoder), X), module.encode(X))
    assert linear_stack(torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.GELU())) is None


def test_hand_written_step_refuses_what_it_would_get_wrong():
    from skautoencoder.nn.fastpath import DirectAdam, MSEStep

    g = torch.Generator().manual_seed(0)
    cases = {
        "output activation": torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 4),
                                                 torch.nn.Sigmoid()),
        "frozen layer": build_mlp_autoencoder(4, (3,), 2),
    }
    for name, module in cases.items():
        module = reset_parameters(module, g)
        if name == "frozen layer":
            module.encoder[0].weight.requires_grad_(False)
        trainer = Trainer(module, mse, generator=g, mse=True)
        assert MSEStep.of(module, DirectAdam.of(trainer.optimizer)) is None, name
