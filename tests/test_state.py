"""Fitted state: each class declares what it owns; warm starts, pickling, save/load and
skops share one representation; a changed architecture is never silently continued."""

import io
import pickle
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import skautoencoder
from skautoencoder import (
    Autoencoder,
    ContractiveAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skautoencoder._base import BaseAutoencoder

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = load_digits().data[:300] / 16
SMALL = dict(n_components=4, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
VARIANTS = [Autoencoder, DenoisingAutoencoder, SparseAutoencoder, ContractiveAutoencoder,
            VariationalAutoencoder, ConvolutionalAutoencoder]


def _make(cls, **extra):
    kwargs = dict(SMALL, **extra)
    if cls is ConvolutionalAutoencoder:
        kwargs.update(image_shape=(8, 8), channels=(4,))
    return cls(**kwargs)


@pytest.mark.parametrize("change", [dict(sparsity="l1"), dict(sparsity="topk"), dict(sparsity_target=0.5)])
def test_sparse_architecture_change_on_warm_start_raises(change):
    model = _make(SparseAutoencoder, sparsity="topk" if "sparsity_target" in change else "kl").fit(X)
    name = next(iter(change))
    with pytest.raises(ValueError, match=f"{name} changed from"):
        model.set_params(warm_start=True, **change).fit(X)
    with pytest.raises(ValueError, match=f"{name} changed from"):
        model.partial_fit(X)


@pytest.mark.parametrize("first, then", [(16, (16,)), ((16,), 16), (np.int64(16), [16])])
def test_the_same_hidden_layers_written_otherwise_continue(tmp_path, first, then):
    # 16 and (16,) build the same network: a warm start or partial_fit refused it as a change
    model = Autoencoder(**dict(SMALL, hidden_layer_sizes=first)).fit(X)
    model.set_params(warm_start=True, hidden_layer_sizes=then).fit(X)
    model.partial_fit(X)
    model.save(tmp_path / "model.pt")
    skautoencoder.load(tmp_path / "model.pt").set_params(hidden_layer_sizes=first).partial_fit(X)
    with pytest.raises(ValueError, match="hidden_layer_sizes changed from"):
        model.set_params(hidden_layer_sizes=(16, 16)).partial_fit(X)


def test_sparse_penalty_weight_is_resolved_at_every_fit():
    model = _make(SparseAutoencoder, sparsity="kl").fit(X)
    assert model.sparsity_weight_ == 3e-3
    model.set_params(warm_start=True, sparsity_weight=0.5).fit(X)
    assert model.sparsity_weight_ == 0.5


@pytest.mark.parametrize("change", [dict(channels=(2,)), dict(kernel_size=5), dict(image_shape=None)])
def test_conv_architecture_change_on_warm_start_raises(change):
    model = _make(ConvolutionalAutoencoder).fit(X)
    with pytest.raises(ValueError, match=f"{next(iter(change))} changed from"):
        model.set_params(warm_start=True, **change).fit(X)


@pytest.mark.parametrize("cls, change", [
    (SparseAutoencoder, dict(sparsity="l1")),
    (ConvolutionalAutoencoder, dict(channels=(2, 2), kernel_size=5)),
    (Autoencoder, dict(hidden_layer_sizes=(7, 3), activation="tanh")),
])
def test_changed_params_after_fit_do_not_change_the_saved_network(cls, change, tmp_path):
    model = _make(cls).fit(X)
    expected = model.transform(X)
    model.set_params(**change)
    model.save(tmp_path / "m.pt")
    for restored in (skautoencoder.load(tmp_path / "m.pt"), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(restored.transform(X), expected)
        assert restored.get_params()[next(iter(change))] == change[next(iter(change))]


def _walk(obj, path="state"):
    if isinstance(obj, dict):
        for key, value in obj.items():
            assert isinstance(key, str), f"{path} has a key {key!r}"
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from _walk(value, f"{path}[{i}]")
    else:
        yield path, obj


@pytest.mark.parametrize("cls", VARIANTS)
def test_state_is_plain_values_and_arrays(cls):
    model = _make(cls).fit(X)
    state = model.__getstate__()
    for path, value in _walk(state):
        assert value is None or isinstance(value, (str, int, float, bool, np.ndarray)), (path, type(value))
    declared = type(model)._declared_attributes()
    assert set(state["_fitted_state"]["attributes"]) <= set(declared)
    assert {n for n, k in declared.items() if not k.endswith("?")} <= set(state["_fitted_state"]["attributes"])


def test_each_variant_declares_its_own_state():
    assert {"sparsity_weight_", "sparsity_target_"} <= set(SparseAutoencoder._declared_attributes())
    assert {"training_quantiles_", "model_quantiles_"} <= set(VariationalAutoencoder._declared_attributes())
    assert "sparsity_weight_" not in Autoencoder._declared_attributes()
    assert {"channels", "kernel_size", "image_shape"} <= set(ConvolutionalAutoencoder._architecture_params)
    assert {"sparsity", "sparsity_target"} <= set(SparseAutoencoder._architecture_params)
    for cls in VARIANTS:
        assert set(BaseAutoencoder._architecture_params) <= set(cls._architecture_params)
        assert set(cls._architecture_params) <= set(cls().get_params())


def test_skops_round_trips_a_pipeline():
    sio = pytest.importorskip("skops.io")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), _make(Autoencoder)).fit(X)
    blob = sio.dumps(pipe)
    untrusted = sio.get_untrusted_types(data=blob)
    assert set(untrusted) == {"skautoencoder._dense.Autoencoder"}, untrusted
    loaded = sio.loads(blob, trusted=untrusted)
    np.testing.assert_array_equal(loaded.transform(X), pipe.transform(X))
    np.testing.assert_array_equal(loaded.score_samples(X), pipe.score_samples(X))


def test_partial_fit_is_reproducible_and_seeds_each_pass_differently():
    a, b = _make(Autoencoder), _make(Autoencoder)
    for _ in range(2):
        a.partial_fit(X)
        b.partial_fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.loss_curve_ == b.loss_curve_ and a.n_iter_ == 2


def test_heldout_rows_measuring_r2_are_a_seeded_random_subset(monkeypatch):
    from skautoencoder import _ordered

    monkeypatch.setattr(_ordered, "R2_MAX_ROWS", 10)
    rows = _ordered.measured_rows(np.arange(100, 200), 300, seed=0)
    assert len(rows) == 10 and np.all(np.diff(rows) > 0)
    assert not np.array_equal(rows, np.arange(100, 110))  # not the first held-out rows
    np.testing.assert_array_equal(rows, _ordered.measured_rows(np.arange(100, 200), 300, seed=0))
    np.testing.assert_array_equal(_ordered.measured_rows(np.arange(5), 8, seed=0), np.arange(8))


def test_masked_row_with_nothing_observed_is_not_perfectly_normal():
    Xm = X.copy()
    Xm[::7, 3] = np.nan
    model = _make(Autoencoder, missing="mask").fit(Xm)
    rows = np.vstack([np.full(64, np.nan), Xm[:3]])
    scores = model.score_samples(rows)
    assert np.isfinite(scores).all()
    assert scores[0] == model.offset_ < 0
    assert model.decision_function(rows)[0] == 0


def test_rows_with_nothing_observed_do_not_set_the_next_offset():
    # they score offset_ (no evidence either way), so they must be left out when offset_ is
    # measured again (partial_fit's chunk), not count as rows at the old threshold
    Xm = X.copy()
    Xm[::7, 3] = np.nan
    model = _make(Autoencoder, missing="mask").fit(Xm)
    chunk = Xm[:80].copy()
    chunk[::2] = np.nan  # half the chunk observes nothing
    model.partial_fit(chunk)
    scores = model.score_samples(chunk[1::2])
    q1, q3 = np.percentile(scores, [25, 75])
    assert model.offset_ == pytest.approx(q1 - 1.5 * (q3 - q1), rel=1e-6)  # contamination='auto'


@pytest.mark.parametrize("cls", [Autoencoder, VariationalAutoencoder])
@pytest.mark.parametrize("n_rows", [1, 5])
def test_a_few_rows_chunk_keeps_the_outlier_threshold(cls, n_rows):
    # the last chunk of a stream is often a remainder of a few rows: its scores alone set
    # offset_ (1 row: the threshold at that row's score, about half of all rows flagged)
    model = _make(cls)
    for start in range(0, 200, 100):
        model.partial_fit(X[start:start + 100])
    offset, flagged = model.offset_, np.mean(model.predict(X) == -1)
    model.partial_fit(X[200:200 + n_rows])
    assert model.offset_ == offset
    assert np.mean(model.predict(X) == -1) < max(2 * flagged, 0.1)


@pytest.mark.parametrize("cls", [Autoencoder, VariationalAutoencoder])
def test_a_chunk_with_nothing_observed_keeps_the_outlier_threshold(cls):
    # its rows carry no evidence and score NaN while offset_ is measured: offset_ became 0.0
    # (every row flagged) and the code term was fitted to the codes of empty rows
    Xm = X.copy()
    Xm[::7, 3] = np.nan
    model = _make(cls, missing="mask").partial_fit(Xm[:150])
    offset, code_precision = model.offset_, getattr(model, "_code_precision", None)
    model.partial_fit(np.full((40, X.shape[1]), np.nan))
    assert model.offset_ == offset
    assert np.mean(model.predict(Xm) == -1) < 0.2
    if code_precision is not None:
        np.testing.assert_array_equal(model._code_precision, code_precision)


def test_nan_error_points_to_missing_mask():
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN.*missing='mask'.*AutoencoderImputer"):
        _make(Autoencoder).fit(Xn)


def test_verbose_says_why_training_stopped_and_which_weights_were_kept():
    out = io.StringIO()
    with redirect_stdout(out):
        Autoencoder(**dict(SMALL, max_iter=200, n_iter_no_change=2, verbose=1)).fit(X)
    text = out.getvalue()
    assert "did not improve more than tol" in text and "Restored the weights of epoch" in text
    out = io.StringIO()
    model = _make(Autoencoder)
    with redirect_stdout(out):
        model.set_params(verbose=1).partial_fit(X)
    assert "Epoch 1: loss" in out.getvalue()


def test_shared_docs_keep_sections_apart():
    doc = Autoencoder.__doc__
    for header in ("Attributes\n    ----------", "See Also\n    --------"):
        before = doc[:doc.index(header)]
        assert before.endswith("\n\n    "), repr(before[-40:])


def test_validation_scores_is_a_deprecated_alias():
    model = _make(Autoencoder).fit(X)
    with pytest.warns(FutureWarning, match="validation_loss_curve_"):
        assert model.validation_scores_ == model.validation_loss_curve_
    assert len(model.validation_loss_curve_) == model.n_iter_


def test_inference_chunks_follow_working_memory(monkeypatch):
    import sklearn

    model = _make(Autoencoder).fit(X)
    seen = []
    real = model._to_tensor
    monkeypatch.setattr(model, "_to_tensor", lambda rows, dtype=torch.float32: seen.append(len(rows)) or real(rows, dtype))
    expected = model.transform(X)
    assert seen == [len(X)]
    seen.clear()
    with sklearn.config_context(working_memory=0.01):  # 10 kB
        np.testing.assert_array_equal(model.transform(X), expected)
    assert 1 < len(seen) and max(seen) < len(X)


def test_matrix_fields_are_2d_float_arrays():
    from skautoencoder import _state

    assert _state._field("training_quantiles_", np.zeros((3, 2), np.float32), "matrix").dtype == np.float64
    for bad in (np.zeros(3), np.zeros((2, 2), dtype=int), [[0.0]]):
        with pytest.raises(ValueError, match="training_quantiles_ should be a 2-D float array"):
            _state._field("training_quantiles_", bad, "matrix")


def test_per_feature_matrices_must_match_the_features():
    model = VariationalAutoencoder(**SMALL).fit(X)
    state = model.__getstate__()
    state["_fitted_state"]["attributes"]["model_quantiles_"] = np.zeros((10, 3))
    with pytest.raises(ValueError, match="model_quantiles_ should hold n_features_in_ columns without infinities"):
        VariationalAutoencoder().__setstate__(state)


# ----------------------------------------------------------------------
# Found by an outside review of the merged state (each failed before its fix)
# ----------------------------------------------------------------------
RNG_X = np.random.RandomState(0).randn(60, 6)
TINY = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)


def test_pca_prefix_weights_of_an_ordered_code_survive_pickling():
    a = Autoencoder(3, ordered=True, **TINY).fit(RNG_X)
    b = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(b._prefix_weights, a._prefix_weights)
    a.partial_fit(RNG_X)
    b.partial_fit(RNG_X)
    np.testing.assert_array_equal(a.transform(RNG_X), b.transform(RNG_X))


def test_set_output_survives_pickling_and_deepcopy():
    import copy

    pytest.importorskip("pandas")
    model = Autoencoder(2, **TINY).set_output(transform="pandas").fit(RNG_X)
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert type(other.transform(RNG_X)).__name__ == "DataFrame"


def test_masked_vae_with_a_never_observed_column_reloads(tmp_path):
    X = RNG_X.copy()
    X[:, 2] = np.nan
    vae = VariationalAutoencoder(2, missing="mask", **TINY).fit(X)
    vae.save(tmp_path / "v.pt")
    for restored in (pickle.loads(pickle.dumps(vae)), skautoencoder.load(tmp_path / "v.pt")):
        np.testing.assert_array_equal(restored.sample(3, random_state=0), vae.sample(3, random_state=0))


def test_fraction_of_a_masked_ratings_model_keeps_its_row_offset_unit():
    rng = np.random.RandomState(0)
    X = rng.randn(100, 6) + np.arange(6) * 3
    X[rng.rand(100, 6) < 0.2] = np.nan
    model = Autoencoder(0.01, missing="mask", hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X)
    assert model.n_components_ == 2 and model.transform(X).shape == (100, 2)


def test_array_hidden_layer_sizes_save_pickle_and_continue(tmp_path):
    model = Autoencoder(2, hidden_layer_sizes=np.array([8, 4]), max_iter=2, random_state=0).fit(RNG_X)
    pickle.loads(pickle.dumps(model))
    model.set_params(warm_start=True).fit(RNG_X)
    model.partial_fit(RNG_X)
    model.save(tmp_path / "m.pt")
    assert skautoencoder.load(tmp_path / "m.pt").get_params()["hidden_layer_sizes"] == (8, 4)


def test_detector_partial_fit_calibrates_its_error_scale():
    from skautoencoder import AutoencoderOutlierDetector

    detector = AutoencoderOutlierDetector(scale_errors=True, **TINY).partial_fit(RNG_X)
    assert detector.error_scale_.shape == (6,)
    before = detector.error_scale_.copy()
    detector.partial_fit(RNG_X * 10)
    assert not np.allclose(before, detector.error_scale_)
