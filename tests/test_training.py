"""The training loop of skautoencoder.nn, on its own (no scikit-learn)."""

import ast
from pathlib import Path

import pytest
import torch

import skautoencoder.nn

from skautoencoder.nn import (
    DivergenceError,
    History,
    Trainer,
    build_mlp_autoencoder,
    reconstruction_loss,
    reset_parameters,
)
from skautoencoder.nn.steps import FusedAdam, PlainMSEStep, forward_stack, linear_stack, make_step, plain_mse_loss


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
    history = History()
    status, best_loss = trainer.fit(X, history, train_rows, val_rows, max_epochs=60, tol=0.0, n_iter_no_change=3)
    assert status in ("converged", "max_iter")
    best = min(history.validation_loss_curve)
    assert best_loss == best
    assert trainer.evaluate(X, val_rows) == pytest.approx(best, rel=1e-5)


class _Constant(torch.nn.Module):
    """Predicts one learnt value for every entry."""

    def __init__(self):
        super().__init__()
        self.value = torch.nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return self.value.expand_as(X)


@pytest.mark.parametrize("spread, kept", [(10.0, "start"), (0.1, "trained")])
def test_include_start_keeps_the_start_unless_an_epoch_beats_it_clearly(spread, kept):
    # training rows pull the value from 0 to 1; the validation rows' mean is 0.6, so the
    # best epoch beats the start on them, by far less than its standard error when they
    # are spread widely (the start is restored) and by far more when they are not
    signs = torch.tensor([1.0, -1.0]).repeat(16)[:, None]
    X = torch.cat([torch.ones(200, 1), 0.6 + spread * signs])
    trainer = Trainer(_Constant(), lambda module, batch, g: ((module(batch) - batch) ** 2).mean(),
                      learning_rate=0.05, batch_size=32, generator=torch.Generator().manual_seed(0))
    history = History()
    _, best_loss = trainer.fit(X, history, torch.arange(200), torch.arange(200, 232), max_epochs=40,
                               tol=0.0, n_iter_no_change=40, include_start=True)
    start_loss = float(((X[200:] - 0.0) ** 2).mean())
    assert min(history.validation_loss_curve) < start_loss  # an epoch did beat the start
    value = float(trainer.module.value.detach())
    if kept == "start":
        assert value == 0.0 and best_loss == pytest.approx(start_loss)
    else:
        assert value == pytest.approx(0.6, abs=0.1) and best_loss == min(history.validation_loss_curve)


def test_include_start_does_not_depend_on_the_order_of_the_validation_rows():
    # the same validation values, in two sorted blocks or shuffled: the same decision
    # (contiguous groups of sorted rows were strata: the start was kept for the blocks only)
    blocks = torch.cat([torch.full((160, 1), 2.1), torch.full((160, 1), -0.9)])
    values = []
    for val in (blocks, blocks[torch.randperm(320, generator=torch.Generator().manual_seed(1))]):
        X = torch.cat([torch.ones(200, 1), val])
        trainer = Trainer(_Constant(), lambda module, batch, g: ((module(batch) - batch) ** 2).mean(),
                          learning_rate=0.05, batch_size=32, generator=torch.Generator().manual_seed(0))
        trainer.fit(X, History(), torch.arange(200), torch.arange(200, 520), max_epochs=40, tol=0.0,
                    n_iter_no_change=40, include_start=True)
        values.append(float(trainer.module.value.detach()))
    assert values[0] == pytest.approx(values[1]) and values[0] > 0.3  # trained: it beats 0 clearly


def test_without_validation_the_training_loss_is_monitored():
    trainer, X = make()
    history = History()
    status, best_loss = trainer.fit(X, history, max_epochs=500, tol=1e-2, n_iter_no_change=2)
    assert status == "converged" and history.validation_loss_curve == []
    assert history.n_iter == len(history.loss_curve) < 500
    assert best_loss == min(history.loss_curve)


def test_same_generator_seed_same_training():
    a, X = make(seed=1)
    b, _ = make(seed=1)
    history_a, history_b = History(), History()
    a.fit(X, history_a, max_epochs=3)
    b.fit(X, history_b, max_epochs=3)
    assert history_a.loss_curve == history_b.loss_curve


def test_divergence_restores_last_finite_weights():
    trainer, X = make(learning_rate=1e3, optimizer="sgd")
    history = History()
    with pytest.raises(DivergenceError, match="epoch") as info:
        trainer.fit(X * 1e3, history, max_epochs=50)
    assert all(torch.isfinite(p).all() for p in trainer.module.parameters())
    assert info.value.epoch == history.n_iter + 1


def test_keyboard_interrupt_keeps_last_complete_epoch():
    trainer, X = make()
    calls = []

    def interrupting(module, batch, generator):
        calls.append(1)
        if len(calls) == 3 * 10 + 5:  # 10 batches per epoch: in epoch 4
            raise KeyboardInterrupt
        return mse(module, batch, generator)

    g = torch.Generator().manual_seed(0)
    module = reset_parameters(build_mlp_autoencoder(6, (16,), 2), g)
    trainer = Trainer(module, interrupting, generator=trainer.generator, batch_size=32)
    reference, _ = make()
    reference.fit(X, History(), max_epochs=3, tol=0.0, n_iter_no_change=100)
    history = History()
    assert trainer.fit(X, history, max_epochs=10)[0] == "interrupted"
    assert history.n_iter == 3
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
    trainer.fit(X, History(), max_epochs=3, tol=0.0, n_iter_no_change=10)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["Epoch 1", "Epoch 2", "Epoch 3", "Reached max_iter at epoch 3."]
    bars = []
    real = tqdm.auto.tqdm

    def spy(*args, **kwargs):
        bars.append(real(*args, **kwargs))
        return bars[-1]

    monkeypatch.setattr(tqdm.auto, "tqdm", spy)
    monkeypatch.setattr(_sys.stdout, "isatty", lambda: True, raising=False)
    trainer.fit(X, History(), max_epochs=4, tol=0.0, n_iter_no_change=10)
    assert len(bars) == 1 and bars[0].n == 4 and bars[0].leave
    assert "Epoch" not in capsys.readouterr().out


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity", "gelu"])
@pytest.mark.parametrize("optimizer, weight_decay", [("adam", 0.0), ("adam", 1e-3), ("adamw", 1e-2), ("sgd", 0.0)])
def test_hand_written_mse_step_is_bitwise_the_autograd_step(activation, optimizer, weight_decay, monkeypatch):
    # plain_mse_loss may take the hand-written forward/backward and the direct fused Adam call;
    # the weights must be exactly those of the autograd loop (ragged last batch included)
    calls = []
    monkeypatch.setattr(PlainMSEStep, "__call__", lambda self, x, call=PlainMSEStep.__call__:
                        calls.append(1) or call(self, x))
    weights = []
    for loss in (mse, plain_mse_loss):
        g = torch.Generator().manual_seed(0)
        module = reset_parameters(build_mlp_autoencoder(7, (16, 8), 3, activation), g)
        X = torch.randn(301, 7, generator=g)
        trainer = Trainer(module, loss, generator=g, batch_size=32, optimizer=optimizer, weight_decay=weight_decay)
        for _ in range(3):
            trainer.train_epoch(X)
        trainer.partial_fit(X[:50], History())
        weights.append([p.detach().clone() for p in module.parameters()])
    for slow, fast in zip(*weights):
        assert torch.equal(slow, fast)
    takes_fast_path = activation != "gelu" and optimizer != "sgd"
    assert bool(calls) == takes_fast_path


@pytest.mark.parametrize("decoupled", [False, True])
def test_fused_adam_is_bitwise_torch_adam_fused(decoupled):
    """FusedAdam against torch.optim.Adam(fused=True).step() itself, and its state loads
    into torch's optimiser and back."""
    weights, states = [], []
    for use_torch in (True, False):
        g = torch.Generator().manual_seed(0)
        module = reset_parameters(build_mlp_autoencoder(7, (16,), 3), g)
        X = torch.randn(64, 7, generator=g)
        kwargs = dict(lr=1e-2, weight_decay=1e-2)
        if use_torch:
            cls = torch.optim.AdamW if decoupled else torch.optim.Adam
            optimizer = cls(module.parameters(), fused=True, **kwargs)
        else:
            optimizer = FusedAdam(module.parameters(), decoupled=decoupled, **kwargs)
        for _ in range(5):
            optimizer.zero_grad()
            mse(module, X, None).backward()
            optimizer.step()
        weights.append([p.detach().clone() for p in module.parameters()])
        states.append(optimizer.state_dict())
    for a, b in zip(*weights):
        assert torch.equal(a, b)
    for i, state in states[0]["state"].items():
        for key in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(state[key], states[1]["state"][i][key])
    # the state of one loads into the other
    module = reset_parameters(build_mlp_autoencoder(7, (16,), 3), torch.Generator().manual_seed(0))
    torch.optim.Adam(module.parameters(), fused=True).load_state_dict(states[1])
    FusedAdam(module.parameters()).load_state_dict(states[0])


def test_fused_adam_falls_back_to_torch_optim_when_the_kernel_differs(monkeypatch):
    weights = []
    for broken in (False, True):
        g = torch.Generator().manual_seed(0)
        module = reset_parameters(build_mlp_autoencoder(7, (16,), 3), g)
        X = torch.randn(64, 7, generator=g)
        optimizer = FusedAdam(module.parameters(), lr=1e-2)
        for i in range(4):
            if broken and i == 2:  # a torch whose private kernel takes other arguments
                monkeypatch.setattr(torch, "_fused_adam_", lambda *a, **k: (_ for _ in ()).throw(TypeError("sig")))
            optimizer.zero_grad()
            mse(module, X, None).backward()
            optimizer.step()
        assert (optimizer._fallback is not None) == broken
        assert set(optimizer.state_dict()["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
        assert float(optimizer.state_dict()["state"][0]["step"]) == 4
        weights.append([p.detach().clone() for p in module.parameters()])
    for a, b in zip(*weights):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_fused_adam_is_not_offered_without_the_kernels(monkeypatch):
    from skautoencoder.nn.training import make_optimizer

    monkeypatch.delattr(torch, "_fused_adamw_")
    module = build_mlp_autoencoder(4, (3,), 2)
    assert isinstance(make_optimizer("adam", module.parameters(), 1e-3), torch.optim.Adam)


def test_hand_written_inference_is_bitwise_encode():
    g = torch.Generator().manual_seed(0)
    module = reset_parameters(build_mlp_autoencoder(7, (16, 8), 3, "tanh"), g)
    X = torch.randn(100, 7, generator=g)
    with torch.no_grad():
        assert torch.equal(forward_stack(linear_stack(module.encoder), X), module.encode(X))
    assert linear_stack(torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.GELU())) is None


def test_hand_written_step_refuses_what_it_would_get_wrong():
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
        trainer = Trainer(module, plain_mse_loss, generator=g)
        assert not isinstance(trainer.step, PlainMSEStep), name
    module = reset_parameters(build_mlp_autoencoder(4, (3,), 2), g)
    assert isinstance(make_step(module, plain_mse_loss, FusedAdam(module.parameters())), PlainMSEStep)
    assert not isinstance(make_step(module, mse, FusedAdam(module.parameters())), PlainMSEStep)
