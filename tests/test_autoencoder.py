"""Behaviour of the dense Autoencoder: the contract of DESIGN.md, end to end."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import skautoencoder.nn
from skautoencoder import Autoencoder


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0)


def heldout_r2(model, X_test):
    return r2_score(X_test, model.inverse_transform(model.transform(X_test)), multioutput="variance_weighted")


@pytest.mark.parametrize("n_components", [2, 8])
def test_beats_pca_on_heldout_digits(digits, n_components):
    X_train, X_test, _, _ = digits
    ae = Autoencoder(n_components, random_state=0).fit(X_train)
    pca = PCA(n_components).fit(X_train)
    r2_ae, r2_pca = heldout_r2(ae, X_test), heldout_r2(pca, X_test)
    # measured: 0.47 vs 0.28 at k=2, 0.75 vs 0.66 at k=8
    assert r2_ae > r2_pca + 0.05, (r2_ae, r2_pca)


def test_codes_feed_a_classifier_in_a_grid_search(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = Pipeline([
        ("autoencoder", Autoencoder(random_state=0)),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(max_iter=1000)),
    ])
    search = GridSearchCV(pipe, {"autoencoder__n_components": [2, 12]}, cv=2).fit(X_train, y_train)
    assert search.best_params_ == {"autoencoder__n_components": 12}
    assert search.score(X_test, y_test) > 0.9  # measured 0.94 (PCA: 0.94)


@pytest.mark.parametrize("contamination", [0.05, 0.2])
def test_predict_flags_contamination_of_training_rows_without_held_out_rows(contamination):
    # no held-out rows: the training rows' scores set offset_ (held-out rows: tests/test_explain.py)
    X, _ = make_blobs(n_samples=400, n_features=6, centers=3, random_state=0)
    ae = Autoencoder(2, hidden_layer_sizes=(16,), contamination=contamination, early_stopping=False,
                     random_state=0).fit(X)
    labels = ae.predict(X)
    assert set(np.unique(labels)) == {-1, 1}
    assert abs(np.mean(labels == -1) - contamination) <= 1 / 400
    np.testing.assert_array_equal(labels, np.where(ae.decision_function(X) < 0, -1, 1))
    np.testing.assert_allclose(ae.decision_function(X), ae.score_samples(X) - ae.offset_)


def test_auto_contamination_flags_planted_outliers():
    rng = np.random.RandomState(0)
    basis = rng.randn(3, 20)
    inliers = rng.randn(500, 3) @ basis + 0.05 * rng.randn(500, 20)
    outliers = 3 * rng.randn(10, 20)
    ae = Autoencoder(3, hidden_layer_sizes=(32,), random_state=0).fit(np.vstack([inliers, outliers]))
    assert np.all(ae.predict(outliers) == -1)
    # Tukey's fence flags a few percent of the heavy-tailed inlier errors (measured 6%)
    assert np.mean(ae.predict(inliers) == -1) < 0.1
    # higher = more normal
    assert ae.score_samples(outliers).max() < np.median(ae.score_samples(inliers))


def test_same_random_state_same_model(digits):
    X_train, X_test, _, _ = digits
    kwargs = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = Autoencoder(**kwargs).fit(X_train)
        b = Autoencoder(**kwargs).fit(X_train)
        c = Autoencoder(**{**kwargs, "random_state": 4}).fit(X_train)
    np.testing.assert_array_equal(a.transform(X_test), b.transform(X_test))
    assert a.loss_curve_ == b.loss_curve_
    assert not np.allclose(a.transform(X_test), c.transform(X_test))


def test_global_random_state_untouched(digits):
    X_train = digits[0][:200]
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    Autoencoder(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X_train)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state[1], np.random.get_state()[1])


def test_pickle_round_trip_and_continue(digits):
    X_train, X_test, _, _ = digits
    ae = Autoencoder(4, hidden_layer_sizes=(16,), max_iter=5, random_state=0, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X_train)
        restored = pickle.loads(pickle.dumps(ae))
        for method in ("transform", "score_samples", "decision_function", "predict"):
            np.testing.assert_array_equal(getattr(ae, method)(X_test), getattr(restored, method)(X_test))
        # the optimiser state travels too: continuing gives the same model
        ae.fit(X_train)
        restored.fit(X_train)
    assert restored.n_iter_ == 10
    np.testing.assert_allclose(ae.transform(X_test), restored.transform(X_test), rtol=1e-6, atol=1e-6)


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the CPU-only fallback")
def test_unpickle_cuda_model_on_cpu_only_machine(digits):
    X_train, X_test, _, _ = digits
    ae = Autoencoder(2, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X_train)
    expected = ae.transform(X_test)
    ae.device_ = torch.device("cuda")  # as if trained on a GPU: __getstate__ stores CPU tensors
    with pytest.warns(UserWarning, match="not available here"):
        restored = pickle.loads(pickle.dumps(ae))
    assert restored.device_ == torch.device("cpu")
    np.testing.assert_array_equal(restored.transform(X_test), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved_and_batch_independent(digits, dtype, monkeypatch):
    X_train, X_test, _, _ = digits
    X_test = X_test.astype(dtype)
    ae = Autoencoder(3, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X_train.astype(dtype))
    codes = ae.transform(X_test)
    assert codes.dtype == dtype
    assert ae.inverse_transform(codes).dtype == dtype
    assert ae.score_samples(X_test).dtype == np.float64
    # streamed inference: a tiny inference batch gives the same numbers
    monkeypatch.setattr("skautoencoder._base._CACHE_ROWS", 7)
    tolerance = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12)
    np.testing.assert_allclose(ae.transform(X_test), codes, **tolerance)
    np.testing.assert_allclose(ae.transform(X_test[:1]), codes[:1], **tolerance)


def test_set_output_pandas_and_feature_names(digits):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(digits[0][:100], columns=[f"px{i}" for i in range(64)])
    ae = Autoencoder(3, hidden_layer_sizes=(8,), max_iter=2, random_state=0).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        codes = ae.fit_transform(X)
    assert list(codes.columns) == ["autoencoder0", "autoencoder1", "autoencoder2"]
    assert list(ae.feature_names_in_) == list(X.columns)


def test_bce_loss_needs_unit_interval_and_outputs_probabilities(digits):
    X_train, X_test, _, _ = digits
    with pytest.raises(ValueError, match=r"loss='bce' needs X in \[0, 1\]"):
        Autoencoder(loss="bce").fit(X_train * 16)
    ae = Autoencoder(4, loss="bce", max_iter=20, random_state=0)
    pipe = Pipeline([("scale", MinMaxScaler()), ("ae", ae)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X_train)
    recon = ae.inverse_transform(pipe.transform(X_test))
    assert recon.min() >= 0 and recon.max() <= 1


def test_partial_fit_streams_chunks_to_the_quality_of_fit(digits):
    X_train, X_test, _, _ = digits
    streamed = Autoencoder(8, random_state=0)
    for _ in range(40):
        for chunk in np.array_split(X_train, 4):
            streamed.partial_fit(chunk)
    assert streamed.n_iter_ == 160 and len(streamed.loss_curve_) == 160
    in_memory = Autoencoder(8, random_state=0, early_stopping=False, max_iter=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory.fit(X_train)
    # measured: 0.63 streamed vs 0.57 in memory (4x more, smaller steps)
    assert heldout_r2(streamed, X_test) > heldout_r2(in_memory, X_test) - 0.05
    with pytest.raises(ValueError, match="features"):
        streamed.partial_fit(X_train[:, :10])


def test_warm_start_continues(digits):
    X_train = digits[0]
    ae = Autoencoder(2, hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X_train)
        first = list(ae.loss_curve_)
        ae.fit(X_train)
    assert ae.n_iter_ == 6 and ae.loss_curve_[:3] == first
    assert ae.loss_curve_[3] < first[0]  # continued, not restarted


def test_early_stopping_restores_best_validation_weights(digits):
    X_train = digits[0]
    ae = Autoencoder(8, random_state=0, n_iter_no_change=5).fit(X_train)
    assert ae.n_iter_ < ae.max_iter
    assert len(ae.validation_loss_curve_) == ae.n_iter_ == len(ae.loss_curve_)
    assert ae.best_loss_ == min(ae.validation_loss_curve_)


def test_convergence_warning_at_max_iter(digits):
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(2\)"):
        Autoencoder(max_iter=2, random_state=0).fit(digits[0])


def test_verbose_prints_one_line_per_epoch(digits, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Autoencoder(hidden_layer_sizes=(8,), max_iter=3, verbose=1, random_state=0).fit(digits[0])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5 and all("loss" in line and "validation loss" in line for line in lines[:3])
    assert lines[3:] == ["Reached max_iter at epoch 3.", lines[4]] and lines[4].startswith("Restored the weights of epoch")


def test_divergence_names_learning_rate_and_keeps_finite_weights():
    X = np.random.RandomState(0).randn(200, 10) * 1e3
    ae = Autoencoder(2, optimizer="sgd", learning_rate_init=10.0, early_stopping=False, random_state=0)
    with pytest.raises(ValueError, match=r"learning_rate_init \(currently 10.0\)"):
        ae.fit(X)
    assert all(torch.isfinite(p).all() for p in ae.module_.parameters())
    assert np.isfinite(ae.transform(X)).all()
    assert len(ae.loss_curve_) == ae.n_iter_ and np.isfinite(ae.loss_curve_).all()


def _interrupt_at(monkeypatch, stop_at):
    """Raise KeyboardInterrupt (as Ctrl-C would) at the ``stop_at``-th training step, on
    either step implementation."""
    from skautoencoder.nn import steps

    calls = [0]
    for cls in (steps.PlainMSEStep, steps.AnchoredMSEStep, steps.AutogradStep):
        def call(self, batch, real=cls.__call__):
            calls[0] += 1
            if calls[0] == stop_at:
                raise KeyboardInterrupt
            return real(self, batch)
        monkeypatch.setattr(cls, "__call__", call)


@pytest.fixture(params=["fast", "autograd"])
def step_path(request, monkeypatch):
    """Run a test on the default hand-written step and on the autograd step."""
    from skautoencoder.nn import steps

    if request.param == "autograd":
        monkeypatch.setattr(Autoencoder, "_loss_is_plain_mse", lambda self: False)
    chosen = []
    real = steps.make_step
    monkeypatch.setattr(skautoencoder.nn.training, "make_step",
                        lambda *a, **k: chosen.append(real(*a, **k)) or chosen[-1])
    yield request.param
    kinds = {type(step).__name__ for step in chosen}
    if request.param == "fast":  # init='pca' (and, for 1-2 unit codes, init='random''s run)
        assert "AnchoredMSEStep" in kinds and kinds <= {"AnchoredMSEStep", "PlainMSEStep"}, kinds
    else:
        assert kinds == {"AutogradStep"}, kinds


def test_keyboard_interrupt_keeps_best_weights_and_can_resume(digits, monkeypatch, step_path):
    X_train, X_test, _, _ = digits
    ae = Autoencoder(4, batch_size=64, random_state=0, warm_start=True)
    _interrupt_at(monkeypatch, 5 * 20 + 3)  # 20 steps per epoch: interrupted during epoch 6
    with pytest.warns(ConvergenceWarning, match="interrupted after 5 epoch"):
        ae.fit(X_train)
    assert ae.n_iter_ == 5 and len(ae.loss_curve_) == 5
    best_epoch_score = ae.score(X_test)
    assert np.isfinite(best_epoch_score)
    ae.fit(X_train)  # warm start continues
    assert ae.n_iter_ > 5 and ae.score(X_test) > best_epoch_score


@pytest.mark.parametrize("n_components", [1, 2])
def test_keyboard_interrupt_also_stops_the_random_start_run_of_small_codes(digits, monkeypatch, n_components):
    # codes of one or two units fit from the PCA start, then from init='random': a Ctrl-C in the
    # first run started the second anyway (up to max_iter more epochs), whose status replaced it
    X_train = digits[0][:300]  # 270 training rows, batches of 32: 9 steps per epoch
    steps = []
    _interrupt_at(monkeypatch, 2 * 9 + 3)  # in the PCA start's run, epoch 3
    from skautoencoder.nn import training

    real = training.Trainer.train_epoch
    monkeypatch.setattr(training.Trainer, "train_epoch", lambda self, *a, **k: steps.append(1) or real(self, *a, **k))
    ae = Autoencoder(n_components, hidden_layer_sizes=(8,), batch_size=32, max_iter=6, random_state=0)
    with pytest.warns(ConvergenceWarning, match="interrupted after 2 epoch"):
        ae.fit(X_train)
    assert len(steps) == 3 and ae.n_iter_ == 2 and np.isfinite(ae.score(X_train))
    # a Ctrl-C in init='random''s run (after the 6 epochs of the first) is reported too
    _interrupt_at(monkeypatch, 6 * 9 + 2 * 9 + 3)
    with pytest.warns(ConvergenceWarning, match="interrupted"):
        Autoencoder(n_components, hidden_layer_sizes=(8,), batch_size=32, max_iter=6, n_iter_no_change=99,
                    random_state=0).fit(X_train)


def test_invalid_parameters_and_devices(digits):
    X = digits[0][:50]
    with pytest.raises(ValueError, match="hidden_layer_sizes must hold positive integers"):
        Autoencoder(hidden_layer_sizes=(8, 0)).fit(X)
    with pytest.raises(ValueError, match="not a valid torch device"):
        Autoencoder(device="gpu7").fit(X)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            Autoencoder(device="cuda").fit(X)
    ae = Autoencoder(2, hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X)
    with pytest.raises(ValueError, match="expecting 2 features"):
        ae.inverse_transform(np.zeros((3, 5)))


def test_clone_gives_unfitted_copy_with_same_params():
    ae = Autoencoder(5, hidden_layer_sizes=(7, 3), random_state=1)
    cloned = clone(ae)
    assert cloned.get_params() == ae.get_params()
    assert not hasattr(cloned, "module_")


def test_refit_after_unpickling_is_a_fresh_fit(digits):
    X_train, X_test, _, _ = digits
    kwargs = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        restored = pickle.loads(pickle.dumps(Autoencoder(**kwargs).fit(X_train)))
        restored.set_params(optimizer="sgd", hidden_layer_sizes=(8, 4)).fit(X_train)
        fresh = Autoencoder(**{**kwargs, "optimizer": "sgd", "hidden_layer_sizes": (8, 4)}).fit(X_train)
    np.testing.assert_array_equal(restored.transform(X_test), fresh.transform(X_test))


def test_warm_start_uses_changed_optimizer_settings(digits):
    X_train = digits[0]
    ae = Autoencoder(2, hidden_layer_sizes=(8,), max_iter=2, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X_train)
        ae.set_params(learning_rate_init=0.05, optimizer="sgd", alpha=0.1).fit(X_train)
    assert ae._optimizer_settings == ("sgd", 0.05, 0.1)
    assert all(set(state) == {"momentum_buffer"} for state in ae._optimizer_state)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_continuing_refuses_a_changed_architecture(digits, method):
    X_train = digits[0]
    ae = Autoencoder(2, hidden_layer_sizes=(8,), max_iter=2, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        getattr(ae, method)(X_train)
    with pytest.raises(ValueError, match=r"n_components changed from 2 to 4"):
        getattr(ae.set_params(n_components=4), method)(X_train)


def test_warm_fits_validate_on_the_same_rows(digits, monkeypatch):
    X_train = digits[0]
    seen = []
    real_fit = skautoencoder.nn.Trainer.fit

    def spy(self, X, history, train_rows=None, validation_rows=None, **kwargs):
        seen.append(validation_rows.clone())
        return real_fit(self, X, history, train_rows, validation_rows, **kwargs)

    monkeypatch.setattr(skautoencoder.nn.Trainer, "fit", spy)
    ae = Autoencoder(2, hidden_layer_sizes=(8,), max_iter=1, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X_train)
        ae.fit(X_train)
    assert torch.equal(seen[0], seen[1])


def test_divergence_is_caught_even_in_the_last_epoch():
    X = np.random.RandomState(0).randn(200, 10) * 1e3
    for max_iter in (1, 2, 3):
        ae = Autoencoder(2, optimizer="sgd", learning_rate_init=10.0, early_stopping=False,
                         max_iter=max_iter, random_state=0)
        with pytest.raises(ValueError, match="diverged.*learning_rate_init"):
            ae.fit(X)
        assert all(torch.isfinite(p).all() for p in ae.module_.parameters())
        assert np.isfinite(ae.score_samples(X)).all() and np.isfinite(ae.offset_)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scores32 = ae.score_samples(X.astype(np.float32))
        # huge-but-finite weights may overflow float32 scores, never silently
        assert np.isfinite(scores32).all() or any("overflowed" in str(w.message) for w in caught)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_divergence_keeps_the_last_finite_weights(digits, monkeypatch, step_path, method):
    from skautoencoder.nn import steps

    X_train = digits[0]
    calls = [0]
    for cls in (steps.PlainMSEStep, steps.AnchoredMSEStep, steps.AutogradStep):
        def call(self, batch, real=cls.__call__):
            calls[0] += 1
            loss = real(self, batch)
            if calls[0] == 45:  # in epoch 2 of fit, epoch 1 of the second partial_fit
                with torch.no_grad():
                    next(iter(self.optimizer.params if hasattr(self.optimizer, "params")
                              else self.optimizer.param_groups[0]["params"])).fill_(float("inf"))
                return loss * float("nan")
            return loss
        monkeypatch.setattr(cls, "__call__", call)
    ae = Autoencoder(2, hidden_layer_sizes=(8,), batch_size=32, max_iter=5, random_state=0)
    if method == "partial_fit":
        ae.partial_fit(X_train)
    with pytest.raises(ValueError, match="diverged"):
        getattr(ae, method)(X_train)
    assert ae.n_iter_ == 1 and len(ae.loss_curve_) == 1
    assert all(torch.isfinite(p).all() for p in ae.module_.parameters())
    assert np.isfinite(ae.score_samples(X_train)).all()
    ae.set_params(warm_start=True).fit(X_train)  # usable: training continues
    assert ae.n_iter_ > 1


def test_diverged_partial_fit_pass_keeps_the_outlier_threshold():
    # the weights go back to those from before the pass, so their threshold stands; it was
    # measured again on the chunk that diverged (offset_ -4.2 became -4e50: nothing flagged)
    X = np.random.RandomState(0).randn(200, 10)
    ae = Autoencoder(2, random_state=0).partial_fit(X)
    offset, flagged = ae.offset_, ae.predict(X)
    with pytest.raises(ValueError, match="diverged"):
        ae.partial_fit(X * 1e25)
    assert ae.offset_ == offset
    np.testing.assert_array_equal(ae.predict(X), flagged)


def test_out_of_memory_in_training_says_what_to_change(digits, monkeypatch, step_path):
    from skautoencoder.nn import steps

    def boom(self, batch):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    for cls in (steps.PlainMSEStep, steps.AnchoredMSEStep, steps.AutogradStep):
        monkeypatch.setattr(cls, "__call__", boom)
    with pytest.raises(MemoryError, match=r"ran out of memory on cpu during training; lower batch_size"):
        Autoencoder(2, hidden_layer_sizes=(8,), random_state=0).fit(digits[0])


def test_interrupted_first_partial_fit_leaves_a_usable_model(digits, monkeypatch, step_path):
    X_train = digits[0]
    ae = Autoencoder(2, hidden_layer_sizes=(8,), random_state=0)
    _interrupt_at(monkeypatch, 2)
    with pytest.warns(ConvergenceWarning, match="interrupted after 0 epoch"):
        ae.partial_fit(X_train)
    assert ae.n_iter_ == 0 and ae.predict(X_train[:3]).shape == (3,)


def test_interrupted_partial_fit_merges_no_rows_into_the_vae_quantiles(digits, monkeypatch):
    # a Ctrl-C restores the weights from before the pass; the chunk's rows were merged into
    # the training quantiles anyway, so that running the chunk again counted them twice
    from skautoencoder import VariationalAutoencoder

    X_train = digits[0]
    vae = VariationalAutoencoder(2, hidden_layer_sizes=(8,), random_state=0).partial_fit(X_train[:100])
    before = vae.training_quantiles_.copy()
    _interrupt_at(monkeypatch, 2)
    with pytest.warns(ConvergenceWarning, match="interrupted"):
        vae.partial_fit(X_train[100:200] + 1.0)
    np.testing.assert_array_equal(vae._quantile_rows, np.full((1, 64), 100.0))
    np.testing.assert_array_equal(vae.training_quantiles_, before)


def test_interrupted_partial_fit_merges_no_rows_into_the_offsets(digits, monkeypatch):
    # missing='mask': the chunk's observed entries are merged into the column offsets' totals
    # after the pass, so only after a pass that was not undone
    X_train = digits[0]
    ae = Autoencoder(2, hidden_layer_sizes=(8,), missing="mask", random_state=0).partial_fit(X_train[:100])
    before = ae._offset_totals.copy(), ae.module_.column_offset.clone()
    _interrupt_at(monkeypatch, 2)
    with pytest.warns(ConvergenceWarning, match="interrupted"):
        ae.partial_fit(X_train[100:200] + 1.0)
    np.testing.assert_array_equal(ae._offset_totals, before[0])
    torch.testing.assert_close(ae.module_.column_offset, before[1], rtol=0, atol=0)
    monkeypatch.undo()
    ae.partial_fit(X_train[100:200] + 1.0)
    assert (ae.module_.column_offset > before[1]).any()


def test_float64_inference_copy_follows_training(digits):
    X_train, X_test, _, _ = digits
    ae = Autoencoder(2, hidden_layer_sizes=(8,), random_state=0)
    ae.partial_fit(X_train)
    first = ae.transform(X_test)
    np.testing.assert_allclose(first, ae.transform(X_test.astype(np.float32)), rtol=1e-4, atol=1e-5)
    ae.partial_fit(X_train)
    second = ae.transform(X_test)
    assert not np.allclose(first, second)
    np.testing.assert_allclose(second, ae.transform(X_test.astype(np.float32)), rtol=1e-4, atol=1e-5)


def test_trimmed_loss_keeps_training_outliers_from_shaping_the_model():
    from sklearn.metrics import roc_auc_score

    rng = np.random.RandomState(0)
    basis = rng.randn(2, 12)
    inliers = np.tanh(rng.randn(600, 2) @ basis) + 0.05 * rng.randn(600, 12)
    outliers = 2.0 * rng.randn(60, 12)
    X_train = np.vstack([inliers[:400], outliers[:40]])
    X_test = np.vstack([inliers[400:], outliers[40:]])
    y_test = np.r_[np.zeros(200), np.ones(20)]
    # from the random start, where the outliers shape the plain model (a PCA start, fitted with
    # the outliers, moved the plain model's outlier scores about as far as trimming)
    kwargs = dict(n_components=2, hidden_layer_sizes=(32,), max_iter=40, early_stopping=False,
                  n_iter_no_change=40, batch_size=256, random_state=0, init="random")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = Autoencoder(**kwargs).fit(X_train)
        trimmed = Autoencoder(**kwargs, trim_fraction=0.2).fit(X_train)
    auc_plain = roc_auc_score(y_test, -plain.score_samples(X_test))
    auc_trimmed = roc_auc_score(y_test, -trimmed.score_samples(X_test))
    # the worst-reconstructed rows (here the outliers) do not train the model: they reconstruct
    # worse than under the plain loss, and detection is at least as good
    assert auc_trimmed >= auc_plain
    for rows in (outliers[:40], outliers[40:]):
        assert np.median(trimmed.score_samples(rows)) < np.median(plain.score_samples(rows))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fast_training_path_is_taken_only_for_the_plain_loss_and_changes_nothing(monkeypatch):
    from skautoencoder import DenoisingAutoencoder, SparseAutoencoder

    X = load_digits().data[:400] / 16
    plain = Autoencoder(4, max_iter=3, random_state=0)
    assert plain._loss_is_plain_mse()
    for other in (Autoencoder(4, ordered=True), Autoencoder(4, trim_fraction=0.1), Autoencoder(4, loss="bce"),
                  Autoencoder(4, missing="mask"), DenoisingAutoencoder(4), SparseAutoencoder(4)):
        assert not other._loss_is_plain_mse()
    fast = clone(plain).fit(X)
    monkeypatch.setattr(Autoencoder, "_loss_is_plain_mse", lambda self: False)
    slow = clone(plain).fit(X)
    assert fast.loss_curve_ == slow.loss_curve_
    for a, b in zip(fast.module_.parameters(), slow.module_.parameters()):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(fast.transform(X), slow.transform(X))


def test_first_fit_in_a_process_does_not_import_dynamo_or_sympy():
    """Constructing a torch.optim optimiser imports torch._dynamo (about 2 s), and materialising
    meta tensors with empty_like imports sympy (about 1.5 s): the default path does neither, so
    the first fit in a process costs what the next ones do."""
    import subprocess
    import sys

    code = ("import sys, numpy as np, warnings; warnings.simplefilter('ignore');"
            "from skautoencoder import Autoencoder;"
            "Autoencoder(2, max_iter=2, random_state=0).fit(np.random.rand(100, 8));"
            "print('torch._dynamo' in sys.modules, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_a_data_frame_becomes_one_float32_copy_not_a_float64_one_first():
    # validate_data gives a float frame's values in Fortran order; the tensor was made from a
    # C-ordered float64 copy of all of them (160 MB for a 160 MB frame) before its float32 copy
    import tracemalloc

    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(np.random.RandomState(0).randn(20000, 50))
    model = Autoencoder(2, random_state=0)
    model.device_ = torch.device("cpu")
    X = model._validate_X(frame, reset=True, training=True)
    tracemalloc.start()
    try:
        tensor = model._to_tensor(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.6 * X.nbytes  # the float32 copy itself: half of X
    assert tensor.dtype == torch.float32 and tensor.is_contiguous()
    np.testing.assert_array_equal(tensor.numpy(), frame.to_numpy(dtype=np.float32))
