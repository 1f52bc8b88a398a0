"""The ordered latent space, a fractional n_components, and the masked held-out criterion."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, train_test_split

from skautoencoder import (
    Autoencoder,
    AutoencoderOutlierDetector,
    ContractiveAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
    load,
    masked_reconstruction_score,
)
from skautoencoder import _ordered
from skautoencoder._anchor import pca_start

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def manifold(k, n_samples=1500, n_features=40, noise=0.02, seed=0):
    """Rows on a known ``k``-dimensional nonlinear manifold in ``n_features`` dimensions."""
    rng = np.random.RandomState(seed)
    t = rng.uniform(-1, 1, (n_samples, k))
    X = np.tanh(t @ (1.5 * rng.randn(k, n_features)) + rng.uniform(-1, 1, n_features))
    return X + noise * rng.randn(n_samples, n_features)


def truncated_r2(model, X, k):
    codes = model.transform(X)
    codes[:, k:] = 0.0
    return r2_score(X, model.inverse_transform(codes), multioutput="variance_weighted")


@pytest.mark.parametrize("fraction", [0.9, 0.95])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_fraction_finds_the_dimension_of_a_manifold(k, fraction):
    X = manifold(k, seed=k)
    ae = Autoencoder(fraction, random_state=0).fit(X)
    assert abs(ae.n_components_ - k) <= 1
    assert ae.n_components_ <= PCA(fraction).fit(X).n_components_  # up to 3k here
    assert ae.transform(X).shape == (X.shape[0], ae.n_components_)
    assert ae.explained_variance_ratio_.shape == (ae.n_components_,)
    assert ae.explained_variance_ratio_.sum() >= fraction


def test_fraction_keeps_no_more_units_than_pca():
    # noisy rows: PCA(0.8) keeps 15 components, whose held-out R² is below 0.8; asked for an
    # R² of 0.8 itself, the ordered code kept 16 units
    X = manifold(3, n_samples=300, noise=0.5)
    ae = Autoencoder(0.8, random_state=0).fit(X)
    assert ae.n_components_ <= PCA(0.8).fit(X).n_components_


def test_width_against_pca_is_pcas_unless_fewer_units_clearly_beat_it():
    X = manifold(3, n_samples=300, noise=0.3)
    _, _, residual = pca_start(X, None, 30)
    explained = 1 - residual / residual[0]
    rng = np.random.RandomState(0)
    pca_errors = np.sort(rng.exponential(1.0, (200, 30)), axis=1)[:, ::-1].copy()  # falls with the width
    for fraction in (0.5, 0.8, 0.9, 0.95):
        k = PCA(fraction, svd_solver="full").fit(X).n_components_
        # no better than PCA: PCA's width, and PCA itself there
        assert _ordered.width_against_pca(pca_errors, pca_errors, explained, fraction) == (k, False)
        # two units clearly better than PCA's k on every row: two
        errors = pca_errors.copy()
        errors[:, 1:] = 0.5 * pca_errors[:, k - 1:k]
        assert _ordered.width_against_pca(errors, pca_errors, explained, fraction) == (2, True)
        # better on average, by far less than the rows' spread: PCA's width, and PCA there
        noisy = pca_errors.copy()
        noisy[:, 1:] = pca_errors[:, k - 1:k] + rng.choice([-5.0, 5.0], (200, 1)) - 0.05
        assert _ordered.width_against_pca(noisy, pca_errors, explained, fraction) == (k, False)
        # clearly better at PCA's width only: that width, trained
        errors = pca_errors.copy()
        errors[:, k - 1] = 0.5 * pca_errors[:, k - 1]
        assert _ordered.width_against_pca(errors, pca_errors, explained, fraction) == (k, True)
    assert _ordered.width_against_pca(pca_errors, None, explained, 0.8) is None  # no PCA start
    assert _ordered.width_against_pca(pca_errors, pca_errors, explained, 0.999999) is None  # too wide


def test_truncated_ordered_codes_against_separate_fits():
    # one ordered fit of 16 units, truncated, against a network trained for each size
    X_train, X_test = train_test_split(manifold(3), test_size=0.25, random_state=0)
    params = dict(hidden_layer_sizes=(64,), random_state=0)
    ordered = Autoencoder(16, ordered=True, **params).fit(X_train)
    # an unordered code from a random start (one started at PCA inherits PCA's order)
    plain = Autoencoder(16, init="random", **params).fit(X_train)
    for k in (3, 4, 6):
        separate = Autoencoder(k, **params).fit(X_train)
        r2_separate = r2_score(X_test, separate.inverse_transform(separate.transform(X_test)),
                               multioutput="variance_weighted")
        # the stated margin: at or above the data's dimension, within 0.05 of a separate fit
        assert truncated_r2(ordered, X_test, k) >= r2_separate - 0.05
        # and the ordering is what makes truncation work: an unordered code loses far more
        assert truncated_r2(plain, X_test, k) < truncated_r2(ordered, X_test, k) - 0.2


def test_explained_variance_ratio_is_r2_of_truncated_codes():
    # without a held-out split the ratios are measured on the training rows: recompute them
    X = manifold(3, n_samples=400)
    ae = Autoencoder(6, ordered=True, early_stopping=False, max_iter=30, random_state=0).fit(X)
    expected = [truncated_r2(ae, X, k) for k in range(1, 7)]
    np.testing.assert_allclose(np.cumsum(ae.explained_variance_ratio_), expected, atol=1e-6)
    assert not hasattr(Autoencoder(6, max_iter=5, random_state=0).fit(X), "explained_variance_ratio_")


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_warm_start_without_order_drops_the_ratios_of_the_ordered_code(method):
    # ordered is not an architecture parameter: a warm start may switch it off, and the ratios
    # measured on the ordered code no longer describe the network
    X = manifold(3, n_samples=200)
    ae = Autoencoder(4, ordered=True, max_iter=5, random_state=0).fit(X)
    assert ae.explained_variance_ratio_.shape == (4,)
    getattr(ae.set_params(ordered=False, warm_start=True), method)(X)
    assert not hasattr(ae, "explained_variance_ratio_")


def test_fraction_holds_out_rows_without_early_stopping(monkeypatch):
    X = manifold(2, n_samples=300)
    from skautoencoder import _ordered

    seen = []
    real = _ordered.measured_rows
    monkeypatch.setattr(_ordered, "measured_rows", lambda heldout, n, seed: seen.append(heldout) or real(heldout, n, seed))
    ae = Autoencoder(0.9, early_stopping=False, max_iter=50, random_state=0).fit(X)
    assert ae.validation_loss_curve_ == []  # no early stopping ...
    assert len(seen) == 1 and len(seen[0]) == 30  # ... yet a tenth of the rows held out for the choice
    assert ae.n_components_ < 40


@pytest.mark.parametrize(
    "estimator",
    [
        Autoencoder(8, ordered=True),
        DenoisingAutoencoder(8, ordered=True, noise="gaussian"),
        SparseAutoencoder(8, ordered=True, sparsity="l1"),
        ContractiveAutoencoder(8, ordered=True),
        VariationalAutoencoder(8, ordered=True),
        ConvolutionalAutoencoder(8, ordered=True, image_shape=(4, 4), channels=(4,)),
    ],
    ids=lambda est: type(est).__name__,
)
def test_cut_keeps_the_truncated_model(estimator):
    # cutting the code to k units gives exactly the model decoding the first k units
    X = manifold(3, n_samples=200, n_features=16)
    ae = clone(estimator).set_params(max_iter=5, random_state=0).fit(X)
    codes = ae.transform(X)
    codes[:, 3:] = 0.0
    expected = ae.inverse_transform(codes)
    ae._cut(3)
    assert ae.n_components_ == 3
    np.testing.assert_allclose(ae.transform(X), codes[:, :3], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ae.inverse_transform(codes[:, :3]), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("estimator", [Autoencoder(0.9), VariationalAutoencoder(0.9, beta=0.1)],
                         ids=lambda est: type(est).__name__)
def test_fractional_model_round_trips(estimator, tmp_path):
    X = manifold(2, n_samples=300, n_features=12)
    ae = clone(estimator).set_params(batch_size=32, max_iter=30, random_state=0).fit(X)
    assert ae.n_components_ < 12
    ae.save(tmp_path / "model.skae")
    for copy in (pickle.loads(pickle.dumps(ae)), load(tmp_path / "model.skae")):
        np.testing.assert_array_equal(copy.explained_variance_ratio_, ae.explained_variance_ratio_)
        np.testing.assert_array_equal(copy.transform(X), ae.transform(X))
    again = clone(ae).fit(X)
    assert again.n_components_ == ae.n_components_  # deterministic
    np.testing.assert_array_equal(again.explained_variance_ratio_, ae.explained_variance_ratio_)


def test_unreachable_fraction_warns_and_keeps_every_unit():
    X = np.random.RandomState(0).randn(200, 6)  # noise: no code reaches R² 0.99 on new rows
    with pytest.warns(UserWarning, match="reach only"):
        ae = Autoencoder(0.99, hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X)
    assert ae.n_components_ == 4  # min(n_features, hidden_layer_sizes[-1])


@pytest.mark.parametrize("params", [dict(n_components=8, ordered=True), dict(n_components=0.9)])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_topk_sparsity_refuses_an_order(params, method):
    X = manifold(2, n_samples=50, n_features=6)
    with pytest.raises(ValueError, match="sparsity='topk'"):
        getattr(SparseAutoencoder(sparsity="topk", **params), method)(X)


def test_partial_fit_with_a_fraction_trains_the_full_ordered_code():
    X = manifold(2, n_samples=300, n_features=12)
    ae = Autoencoder(0.9, hidden_layer_sizes=(8,), batch_size=32, random_state=0)
    for _ in range(3):
        ae.partial_fit(X)
    assert ae.n_components_ == 8
    assert ae.explained_variance_ratio_.shape == (8,)
    # a fit after it cuts (warm start continues the trained ordered code)
    ae.set_params(warm_start=True, max_iter=100).fit(X)
    assert ae.n_components_ < 8


@pytest.mark.parametrize("chunk", ["one row", "nothing observed"])
def test_partial_fit_keeps_the_explained_variance_of_a_chunk_too_small_to_measure(chunk):
    # R² by width of a 1-row chunk (around its own means) or of rows with nothing observed is
    # undefined: explained_variance_ratio_ became all zeros, or [1, 0, ...]
    X = manifold(2, n_samples=300, n_features=12)
    X[::5, 3] = np.nan
    ae = Autoencoder(4, ordered=True, missing="mask", hidden_layer_sizes=(8,), random_state=0)
    ae.partial_fit(X[:150]).partial_fit(X[150:])
    ratio = ae.explained_variance_ratio_.copy()
    ae.partial_fit(X[:1] if chunk == "one row" else np.full((30, 12), np.nan))
    np.testing.assert_array_equal(ae.explained_variance_ratio_, ratio)


@pytest.mark.parametrize("cls", [VariationalAutoencoder, AutoencoderOutlierDetector])
def test_identical_rows_have_no_explained_variance_not_a_huge_negative_one(cls):
    # their total sum of squares is 0 up to the rounding of sum(x²) - 2 m sum(x) + n m²: the
    # R² undefined branch was missed and the ratios were about -1e15
    X = np.repeat(np.random.RandomState(0).randn(1, 5), 50, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no width reaches the fraction
        model = cls(0.5, max_iter=3, random_state=0).fit(X)
    np.testing.assert_array_equal(model.explained_variance_ratio_, np.zeros(model.n_components_))


def test_ordered_training_is_a_loss_term_only():
    # ordering changes training, not inference: scores use every unit
    X = manifold(2, n_samples=300, n_features=12)
    ae = Autoencoder(4, ordered=True, max_iter=20, random_state=0).fit(X)
    np.testing.assert_allclose(
        -ae.score_features(X).sum(axis=1), ((ae.inverse_transform(ae.transform(X)) - X) ** 2).mean(axis=1),
        rtol=1e-5,
    )


# ----------------------------------------------------------------------------------
# masked_reconstruction_score
# ----------------------------------------------------------------------------------
def test_masked_score_chooses_the_dimension_where_plain_score_chooses_the_largest():
    X = manifold(3, n_samples=600, noise=0.05)
    grid = {"n_components": [1, 2, 3, 5, 12, 40]}
    est = Autoencoder(hidden_layer_sizes=(64,), random_state=0)
    masked = GridSearchCV(est, grid, cv=2, scoring=masked_reconstruction_score).fit(X)
    plain = GridSearchCV(est, grid, cv=2).fit(X)
    assert abs(masked.best_params_["n_components"] - 3) <= 1
    assert plain.best_params_["n_components"] >= 12
    # PCA too: the criterion is model-agnostic
    pca = GridSearchCV(PCA(), grid, cv=2, scoring=masked_reconstruction_score).fit(X)
    assert abs(pca.best_params_["n_components"] - 3) <= 1


def test_masked_score_values():
    X = manifold(3, n_samples=300, noise=0.05)
    pca = PCA(40).fit(X)  # the identity: a hidden entry comes back as its fill, the column mean
    assert masked_reconstruction_score(pca, X) == pytest.approx(0.0, abs=1e-9)
    good = masked_reconstruction_score(PCA(3).fit(X), X)
    assert 0.5 < good < 1
    assert masked_reconstruction_score(PCA(3).fit(X), X, random_state=1) != good  # other entries
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(40)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no feature-name warning
        assert masked_reconstruction_score(PCA(3).fit(frame), frame) == pytest.approx(good)


def test_masked_score_uses_nan_for_models_that_take_missing_values():
    X = manifold(2, n_samples=300, n_features=12)
    ae = Autoencoder(2, missing="mask", max_iter=30, random_state=0).fit(X)
    assert 0 < masked_reconstruction_score(ae, X) < 1


def test_masked_score_reads_a_sparse_matrix_as_a_mask_model_does():
    # for missing='mask' the unstored entries of a sparse matrix are unobserved (ratings): the
    # score hid and scored them as observed zeros, and fed them to the model as zeros (a
    # negative R² where the same ratings with NaN for the unrated scored 0.2)
    import scipy.sparse as sp
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler

    from skautoencoder.datasets import make_ratings

    R = make_ratings(300, 200, ratings_per_user=30, random_state=0)
    dense = R.toarray()
    dense[dense == 0] = np.nan  # no rating is 0
    for model in (Autoencoder(4, missing="mask", max_iter=20, random_state=0),
                  make_pipeline(MaxAbsScaler(), Autoencoder(4, missing="mask", max_iter=20, random_state=0))):
        model.fit(R[:200])
        score = masked_reconstruction_score(model, R[200:])
        assert score == pytest.approx(masked_reconstruction_score(model, dense[200:]), rel=1e-6)
        assert score > 0
    # a model for which unstored entries are zeros still scores them
    X = sp.random(300, 20, density=0.3, random_state=0, format="csr")
    pca = PCA(3).fit(X.toarray())
    assert masked_reconstruction_score(pca, X) == pytest.approx(masked_reconstruction_score(pca, X.toarray()))


def test_masked_score_errors():
    X = manifold(2, n_samples=50, n_features=5)
    with pytest.raises(TypeError, match="needs an estimator with transform"):
        masked_reconstruction_score(object(), X)
    with pytest.raises(ValueError, match="mask_fraction"):
        masked_reconstruction_score(PCA(2).fit(X), X, mask_fraction=1.5)
    with pytest.raises(ValueError, match="hid no entry"):
        masked_reconstruction_score(PCA(2).fit(X), X[:1], mask_fraction=1e-9)


def test_too_few_held_out_rows_measure_on_all_rows():
    X = manifold(2, n_samples=2000, n_features=8)
    ae = Autoencoder(0.8, validation_fraction=0.0004, batch_size=64, random_state=0).fit(X)  # 1 row held out
    assert ae.n_components_ <= 3
    assert ae.explained_variance_ratio_.sum() >= 0.8


def test_width_of_a_fraction_is_capped():
    X = np.random.RandomState(0).rand(40, 150)
    with pytest.warns(UserWarning, match="reach only"):
        ae = Autoencoder(0.99, hidden_layer_sizes=(), max_iter=2, init="random", random_state=0).fit(X)
    assert ae.n_components_ == 128


def test_refit_without_order_drops_the_ratios():
    X = manifold(2, n_samples=200, n_features=8)
    ae = Autoencoder(4, ordered=True, max_iter=5, random_state=0).fit(X)
    assert hasattr(ae, "explained_variance_ratio_")
    ae.set_params(ordered=False).fit(X)
    assert not hasattr(ae, "explained_variance_ratio_")


def test_sparse_nan_entries_are_unobserved_in_the_ratios():
    sp = pytest.importorskip("scipy.sparse")
    X = manifold(2, n_samples=400, n_features=8)
    X[np.random.RandomState(0).rand(*X.shape) < 0.2] = np.nan
    params = dict(n_components=4, ordered=True, missing="mask", max_iter=20, random_state=0)
    dense = Autoencoder(**params).fit(X)
    stored = Autoencoder(**params).fit(sp.csr_matrix(X))  # NaN entries stored
    assert dense.explained_variance_ratio_.sum() > 0.2
    np.testing.assert_allclose(stored.explained_variance_ratio_, dense.explained_variance_ratio_, atol=1e-4)


def test_masked_score_passes_nan_through_a_pipeline_that_takes_it():
    from sklearn.pipeline import make_pipeline

    X = manifold(2, n_samples=300, n_features=12)
    ae = Autoencoder(2, missing="mask", max_iter=30, random_state=0).fit(X)
    assert masked_reconstruction_score(make_pipeline(ae), X) == masked_reconstruction_score(ae, X)


def test_fraction_that_does_not_beat_pca_is_pca(monkeypatch):
    # at PCA(0.9)'s width the trained code is kept only when it beats PCA there
    # (width_against_pca); when it does not, the model is PCA(0.9).fit(X) itself
    X = manifold(2, n_samples=600, n_features=12)
    real = _ordered.width_against_pca
    monkeypatch.setattr(_ordered, "width_against_pca", lambda *args: (real(*args)[0], False))
    ae = Autoencoder(0.9, random_state=0).fit(X)
    pca = PCA(ae.n_components_).fit(X)
    np.testing.assert_allclose(ae.inverse_transform(ae.transform(X)), pca.inverse_transform(pca.transform(X)),
                               atol=2e-5)
    # loss='bce' has no exact PCA to become (its start is linearised through the sigmoid): the
    # trained code stays
    from skautoencoder import _base
    restored = []
    monkeypatch.setattr(_base, "restore_start", lambda *args: restored.append(args))
    Autoencoder(0.9, loss="bce", max_iter=5, random_state=0).fit((X - X.min()) / (X.max() - X.min()))
    assert not restored
    monkeypatch.setattr(_ordered, "width_against_pca", real)  # trained, on these curved rows
    ae = Autoencoder(0.9, random_state=0).fit(X)
    pca = PCA(ae.n_components_).fit(X)
    assert np.abs(ae.inverse_transform(ae.transform(X)) - pca.inverse_transform(pca.transform(X))).max() > 1e-2
