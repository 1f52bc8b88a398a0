"""init='pca': the network starts as the PCA of the rows it is fitted on and never ends
worse than that start on the validation rows; init='random' is the initialisation of old."""

import copy
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import r2_score

import skautoencoder._base as base_module
from skautoencoder import (
    Autoencoder,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    ContractiveAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
    _anchor,
)
from skautoencoder.nn import AnchoredAutoencoderModule, AnchoredSparseModule, AutoencoderModule

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(16,), random_state=0)
ANCHORED = [
    Autoencoder,
    DenoisingAutoencoder,
    ContractiveAutoencoder,
    VariationalAutoencoder,
]


def curved(n_samples=300, n_features=10, seed=0):
    """Rows near a curved 2-D surface: PCA's best 2-D code is not the best code."""
    rng = np.random.RandomState(seed)
    t = rng.uniform(-1, 1, (n_samples, 2))
    return np.tanh(2 * t @ rng.randn(2, n_features)) + 0.05 * rng.randn(n_samples, n_features)


@pytest.fixture
def start(monkeypatch):
    """Record, at every fit, the rows the PCA start was fitted on, a copy of the module
    right after it was set, and the validation rows."""
    seen = {}
    split = base_module.BaseAutoencoder._split

    def split_spy(estimator, n_samples, generator):
        rows = split(estimator, n_samples, generator)
        seen.setdefault("validation", rows[1])
        return rows

    monkeypatch.setattr(base_module.BaseAutoencoder, "_split", split_spy)

    def spy(estimator, X, rows, validated=False):
        random_start = _anchor.start_at_pca(estimator, X, rows, validated)
        seen["rows"] = np.arange(X.shape[0]) if rows is None else rows
        seen["module"] = copy.deepcopy(estimator.module_)
        seen["two_starts"] = random_start is not None
        return random_start

    monkeypatch.setattr(base_module, "start_at_pca", spy)
    return seen


def validation_loss(estimator, module, X):
    """The estimator's deterministic validation objective of ``module`` on the rows ``X``."""
    with torch.no_grad():
        return float(estimator._loss(module.eval(), torch.as_tensor(X, dtype=torch.float32), None))


@pytest.mark.parametrize("cls", ANCHORED)
def test_start_is_the_pca_of_the_training_rows(cls, start):
    X = curved()
    est = cls(3, max_iter=2, init="pca", **SMALL).fit(X)
    rows = start["rows"]
    assert rows.shape[0] == X.shape[0] - int(np.ceil(0.1 * X.shape[0]))
    assert not np.isin(start["validation"], rows).any()  # never the validation rows
    pca = PCA(3, svd_solver="full").fit(X[rows])
    module = start["module"]
    codes = module.encode(torch.as_tensor(X, dtype=torch.float32)).detach().numpy()
    np.testing.assert_allclose(codes, pca.transform(X), atol=1e-5)
    Z = torch.as_tensor(pca.transform(X), dtype=torch.float32)
    recon = module.output(module.decode(Z)).detach().numpy()
    np.testing.assert_allclose(recon, pca.inverse_transform(pca.transform(X)), atol=1e-5)
    assert isinstance(est.module_, torch.nn.Module)


@pytest.mark.parametrize("cls", ANCHORED)
@pytest.mark.parametrize("seed", [0, 1])
def test_validation_objective_never_above_the_start(cls, seed, start):
    # pure noise (where training tends to overfit) and a curved surface (where it helps)
    X = curved(seed=seed) if seed else np.random.RandomState(seed).randn(200, 8)
    est = cls(2, max_iter=30, init="pca", **{**SMALL, "random_state": seed}).fit(X)
    validation = start["validation"]
    rows = X[validation]
    assert validation_loss(est, est.module_, rows) <= validation_loss(est, start["module"], rows)


def test_when_no_epoch_improves_the_model_is_pca(start):
    X = curved()
    # steps far too large: every epoch is worse than the start, which is restored and then
    # refitted on all the rows: the model is the user's PCA
    est = Autoencoder(3, max_iter=3, learning_rate_init=1.0, **SMALL).fit(X)
    pca = PCA(3, svd_solver="full").fit(X)
    np.testing.assert_allclose(est.transform(X), pca.transform(X), atol=1e-5)
    codes = pca.transform(X)
    np.testing.assert_allclose(est.inverse_transform(codes), pca.inverse_transform(codes), atol=1e-5)
    assert est.n_iter_ == 3


def test_rank_r_data_reaches_pca():
    rng = np.random.RandomState(0)
    X = rng.randn(800, 3) @ rng.randn(3, 12) + 0.01 * rng.randn(800, 12)
    X_train, X_test = X[:600], X[600:]
    pca = PCA(3).fit(X_train)
    ae = Autoencoder(3, **SMALL).fit(X_train)

    def r2(model):
        recon = model.inverse_transform(model.transform(X_test))
        return r2_score(X_test, recon, multioutput="variance_weighted")

    assert r2(ae) >= r2(pca) - 1e-3


def test_training_improves_on_pca_where_the_data_are_curved():
    X = curved(600)
    X_train, X_test = X[:450], X[450:]
    pca = PCA(2).fit(X_train)
    ae = Autoencoder(2, **SMALL).fit(X_train)

    def r2(model):
        recon = model.inverse_transform(model.transform(X_test))
        return r2_score(X_test, recon, multioutput="variance_weighted")

    assert r2(ae) > r2(pca) + 0.01


# weights of Autoencoder(2, hidden_layer_sizes=(8,), max_iter=3, random_state=0) fitted on
# RandomState(0).randn(120, 6), by the code before init existed (commit a8ad163)
OLD_WEIGHT_SUMS = {
    "encoder.0.weight": -0.9336294513195753, "encoder.0.bias": -0.007733523845672607,
    "encoder.2.weight": -0.2064455132931471, "encoder.2.bias": -0.6038309335708618,
    "decoder.0.weight": 1.534270517528057, "decoder.0.bias": -2.2614913899451494,
    "decoder.2.weight": 0.8740140274167061, "decoder.2.bias": 0.18662095069885254,
}


def test_init_random_reproduces_the_old_weights():
    X = np.random.RandomState(0).randn(120, 6)
    est = Autoencoder(2, hidden_layer_sizes=(8,), max_iter=3, random_state=0, init="random").fit(X)
    assert type(est.module_) is AutoencoderModule
    sums = {name: float(t.double().sum()) for name, t in est.module_.state_dict().items()}
    assert sums.keys() == OLD_WEIGHT_SUMS.keys()
    for name, value in OLD_WEIGHT_SUMS.items():
        assert sums[name] == pytest.approx(value, rel=1e-5, abs=1e-6), name


def test_defaults():
    assert Autoencoder().init == "auto" and ContractiveAutoencoder().init == "auto"
    # the others start at random, their docstrings say why
    assert DenoisingAutoencoder().init == "random" and VariationalAutoencoder().init == "random"
    assert AutoencoderImputer().fit(np.random.RandomState(0).randn(50, 4)).estimator_.init == "random"
    assert SparseAutoencoder().init == "auto"  # 'pca' for top-k codes, 'random' for 'l1' and 'kl'
    assert ConvolutionalAutoencoder().init == "random"
    assert AutoencoderOutlierDetector().init == "random"  # detection separates better from a random start
    assert "init : {'auto', 'pca', 'random'}, default='random'" in DenoisingAutoencoder.__doc__
    assert "init : {'auto', 'pca', 'random'}, default='auto'" in Autoencoder.__doc__
    X = curved(100)
    assert isinstance(Autoencoder(2, max_iter=2, **SMALL).fit(X).module_, AnchoredAutoencoderModule)
    with pytest.raises(ValueError, match="init='random'"):
        SparseAutoencoder(2, sparsity="l1", init="pca").fit(X)


@pytest.mark.parametrize("init", ["auto", "pca"])
def test_sparse_topk_starts_at_the_largest_principal_components(init, start):
    X = curved(300, 12)
    sae = SparseAutoencoder(6, sparsity_target=0.5, init=init, max_iter=1, **SMALL).fit(X)
    assert isinstance(sae.module_, AnchoredSparseModule)
    pca = PCA(6, svd_solver="full").fit(X[start["rows"]])
    expected = pca.transform(X)
    smallest = np.argsort(np.abs(expected), axis=1)[:, :3]
    np.put_along_axis(expected, smallest, 0.0, axis=1)  # the 3 largest in magnitude, signed
    codes = start["module"].encode(torch.as_tensor(X, dtype=torch.float32)).detach().numpy()
    np.testing.assert_allclose(codes, expected, atol=1e-5)
    # 'l1', 'kl' and init='random' start at random, without the PCA path
    for params in (dict(sparsity="l1"), dict(sparsity="kl"), dict(init="random")):
        model = SparseAutoencoder(6, max_iter=1, **params, **SMALL).fit(X)
        assert type(model.module_) is AutoencoderModule


def test_convolutional_with_init_pca_starts_at_pca(start):
    X = curved(200, 16)
    ConvolutionalAutoencoder(2, image_shape=(4, 4), channels=(4,), init="pca", max_iter=1, **SMALL).fit(X)
    pca = PCA(2, svd_solver="full").fit(X[start["rows"]])
    codes = start["module"].encode(torch.as_tensor(X, dtype=torch.float32)).detach().numpy()
    np.testing.assert_allclose(codes, pca.transform(X), atol=1e-5)


def test_ordered_start_is_on_pca_curve(start):
    X = curved(400)
    # every epoch worse than the start (steps far too large): the start is kept, and refitted
    # on all the rows
    est = Autoencoder(4, ordered=True, max_iter=1, learning_rate_init=1.0, **SMALL).fit(X)
    validation = start["validation"]
    np.testing.assert_allclose(est.transform(X), PCA(4, svd_solver="full").fit(X).transform(X), atol=1e-5)
    # explained_variance_ratio_ is measured on the validation rows before the refit, by the
    # start (PCA of the training rows), which never saw them
    pca = PCA(4, svd_solver="full").fit(X[start["rows"]])
    codes = pca.transform(X[validation])
    sst = ((X[validation] - X.mean(axis=0)) ** 2).sum()
    expected = []
    for k in range(1, 5):
        truncated = np.where(np.arange(4) < k, codes, 0.0)
        expected.append(1 - ((pca.inverse_transform(truncated) - X[validation]) ** 2).sum() / sst)
    np.testing.assert_allclose(np.cumsum(est.explained_variance_ratio_), expected, atol=1e-5)


@pytest.mark.parametrize("n_components", [3, 0.9])
def test_refit_of_a_kept_start_comes_after_the_held_out_measures(n_components, monkeypatch):
    # the refit (PCA of all the rows) sees the validation rows: offset_, explained_variance_ratio_
    # and the width of a fraction are what the model that did not see them measured there
    X = curved(400)
    params = dict(max_iter=1, learning_rate_init=1.0, contamination=0.1, **SMALL)
    refitted = Autoencoder(n_components, **params).fit(X)
    monkeypatch.setattr(base_module, "refit_kept_start", lambda estimator, X: False)
    kept = Autoencoder(n_components, **params).fit(X)
    assert refitted.n_components_ == kept.n_components_
    assert refitted.offset_ == kept.offset_
    if n_components == 0.9:
        np.testing.assert_array_equal(refitted.explained_variance_ratio_, kept.explained_variance_ratio_)
    pca = PCA(refitted.n_components_, svd_solver="full").fit(X)
    np.testing.assert_allclose(np.abs(refitted.transform(X)), np.abs(pca.transform(X)), atol=1e-5)


def test_partial_fit_starts_at_pca_of_the_first_chunk(start):
    X = curved()
    Autoencoder(3, **SMALL).partial_fit(X[:100])
    assert start["rows"].shape == (100,)


@pytest.mark.parametrize("svd", [False, True])
def test_pca_start_of_sparse_and_masked_input(svd, monkeypatch):
    if svd:  # the truncated SVD of the centred operator, used for many features
        monkeypatch.setattr(_anchor, "_MAX_COVARIANCE_FEATURES", 0)
    rng = np.random.RandomState(0)
    X = (rng.rand(200, 12) < 0.3) * (rng.randn(200, 3) @ rng.randn(3, 12))
    rows = np.arange(0, 200, 2)
    mean, components, residual = _anchor.pca_start(sp.csr_matrix(X), rows, 3, "zero")
    pca = PCA(3, svd_solver="full").fit(X[rows])
    np.testing.assert_allclose(mean, pca.mean_, atol=1e-10)
    np.testing.assert_allclose(components, pca.components_, atol=1e-6)
    # PCA's training MSE from its first k axes, k = 0..3
    centred = X[rows] - pca.mean_
    axes = pca.components_
    expected = [((centred - centred @ axes[:k].T @ axes[:k]) ** 2).mean() for k in range(4)]
    np.testing.assert_allclose(residual, expected, rtol=1e-6, atol=1e-12)
    # missing='mask': unstored (sparse) and NaN (dense) entries are unobserved
    masked = sp.csr_matrix(X)
    dense = np.where(X == 0, np.nan, X)
    filled = np.where(np.isnan(dense), np.nanmean(dense[rows], axis=0), dense)
    pca = PCA(3, svd_solver="full").fit(filled[rows])
    for data in (masked, dense):
        mean, components, _ = _anchor.pca_start(data, rows, 3, "mask")
        np.testing.assert_allclose(mean, pca.mean_, atol=1e-10)
        np.testing.assert_allclose(components, pca.components_, atol=1e-6)


@pytest.mark.parametrize("n_components, max_covariance_features", [(3, 4096), (10, 0)])
def test_pca_start_of_few_rows_of_many_features_works_on_the_rows(n_components, max_covariance_features,
                                                                   monkeypatch):
    # fewer rows than features (wide data, a first partial_fit chunk): the start formed the
    # d x d covariance and its eigendecomposition, O(d³) whatever the rows: 8.7 s for 10 rows
    # of 4,000 features, 32 s for 6,000 (hours and GBs for 20,000)
    def no_eigh(a, *args, **kwargs):
        raise AssertionError(f"eigendecomposition of a {a.shape} matrix")

    monkeypatch.setattr(_anchor, "_MAX_COVARIANCE_FEATURES", max_covariance_features)
    rng = np.random.RandomState(0)
    X = (rng.rand(12, 300) < 0.5) * (rng.randn(12, 3) @ rng.randn(3, 300))
    rows = np.arange(10)
    dense = np.where(X == 0, np.nan, X)
    filled = np.where(np.isnan(dense), np.nanmean(dense[rows], axis=0), dense)
    monkeypatch.setattr(np.linalg, "eigh", no_eigh)
    for data, missing, reference in [(X, "zero", X), (sp.csr_matrix(X), "zero", X),
                                     (dense, "mask", filled), (sp.csr_matrix(X), "mask", filled)]:
        pca = PCA(3, svd_solver="full").fit(reference[rows])
        mean, components, residual = _anchor.pca_start(data, rows, n_components, missing)
        np.testing.assert_allclose(mean, pca.mean_, atol=1e-10)
        np.testing.assert_allclose(components[:3], pca.components_, atol=1e-6)
        centred = reference[rows] - pca.mean_
        expected = [((centred - centred @ pca.components_[:k].T @ pca.components_[:k]) ** 2).mean()
                    for k in range(4)]
        np.testing.assert_allclose(residual[:4], expected, rtol=1e-6, atol=1e-12)


def test_auto_starts_at_pca_only_below_the_number_of_features():
    X = curved(100, 4)
    for n_components, ordered, anchored in [(3, False, True), (4, False, False), (6, False, False),
                                            (0.9, False, True), (4, True, True)]:
        est = Autoencoder(n_components, ordered=ordered, max_iter=2, **SMALL).fit(X)
        assert isinstance(est.module_, AnchoredAutoencoderModule) == anchored, n_components
        # the same network as the explicit init's
        explicit = Autoencoder(n_components, ordered=ordered, max_iter=2, init="pca" if anchored else "random",
                               **SMALL).fit(X)
        np.testing.assert_array_equal(est.transform(X), explicit.transform(X))


def test_more_components_than_features():
    X = curved(100, 3)
    est = Autoencoder(5, max_iter=2, init="pca", **SMALL).fit(X)
    assert isinstance(est.module_, AnchoredAutoencoderModule)
    assert est.transform(X).shape == (100, 5)
    mean, components, _ = _anchor.pca_start(X, None, 5)
    np.testing.assert_allclose(components[3:], 0.0)
    np.testing.assert_allclose(components[:3] @ components[:3].T, np.eye(3), atol=1e-10)


def test_missing_mask_and_float32():
    X = curved().astype(np.float32)
    X[::7, 3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = Autoencoder(3, missing="mask", max_iter=3, **SMALL).fit(X)
    assert est.transform(X).dtype == np.float32
    assert np.isfinite(est.transform(X)).all()


@pytest.mark.parametrize("hidden", [(16, 8), ()])
def test_hand_written_anchored_step_matches_autograd(hidden, monkeypatch):
    from skautoencoder.nn import Trainer, build_anchored_autoencoder, build_mlp_autoencoder, reset_parameters
    from skautoencoder.nn import plain_mse_loss, set_affine_start, steps

    calls = []
    monkeypatch.setattr(steps.AnchoredMSEStep, "__call__",
                        lambda self, x, call=steps.AnchoredMSEStep.__call__: calls.append(1) or call(self, x))
    weights = []
    for loss in (lambda m, b, gen: torch.nn.functional.mse_loss(m(b), b), plain_mse_loss):
        g = torch.Generator().manual_seed(0)
        module = reset_parameters(build_anchored_autoencoder(build_mlp_autoencoder(7, hidden, 3), 7, 3), g)
        X = torch.randn(301, 7, generator=g)
        components = torch.linalg.qr(torch.randn(7, 3, generator=g))[0].T
        set_affine_start(module, X.mean(0), components)
        trainer = Trainer(module, loss, generator=g, batch_size=32)
        for _ in range(3):
            trainer.train_epoch(X)
        weights.append([p.detach().clone() for p in module.parameters()])
    for slow, fast in zip(*weights):
        torch.testing.assert_close(slow, fast, rtol=1e-4, atol=1e-5)
    assert calls


def test_small_codes_keep_the_better_of_two_starts(start, monkeypatch):
    X = curved()
    runs = []
    original = _anchor.keep_the_better_start

    def spy(estimator, random_start, status, train):
        def train_and_record():
            result = train()
            runs.append(list(estimator.validation_loss_curve_))
            return result

        runs.append(estimator.best_loss_)
        return original(estimator, random_start, status, train_and_record)

    monkeypatch.setattr(base_module, "keep_the_better_start", spy)
    est = Autoencoder(2, **SMALL).fit(X)
    assert start["two_starts"] and len(runs) == 2
    assert est.best_loss_ <= runs[0]  # never worse than the PCA run (and so than PCA)
    # the second run is init='random''s fit, epoch by epoch
    assert runs[1] == Autoencoder(2, init="random", **SMALL).fit(X).validation_loss_curve_
    validation = start["validation"]
    assert validation_loss(est, est.module_, X[validation]) == pytest.approx(est.best_loss_, rel=1e-5)
    Autoencoder(3, max_iter=2, **SMALL).fit(X)
    assert not start["two_starts"]
    Autoencoder(2, max_iter=2, ordered=True, **SMALL).fit(X)
    assert not start["two_starts"]


def test_a_kept_start_with_fewer_axes_than_units_is_not_refitted():
    # 9 training rows give 9 axes for 10 units: PCA of all 10 rows would have 10, and a larger
    # contraction penalty, so the kept start stays the training rows' PCA
    X = curved(10, 12)
    est = ContractiveAutoencoder(10, max_iter=2, learning_rate_init=1.0, init="pca", **SMALL).fit(X)
    module = est.module_
    assert all(not torch.any(p) for layer in module.residual_outputs() for p in layer.parameters())  # kept
    assert not module.affine.encoder_weight.detach().abs().sum(dim=0).all()  # 9 axes: not refitted
