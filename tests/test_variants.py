"""Each variant shows the property that makes it different, against a plain
``Autoencoder`` of the same size trained on the same data."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

from skautoencoder import (
    Autoencoder,
    ContractiveAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)
from skautoencoder._marginals import feature_quantiles, match_marginals, merge_quantiles
from skautoencoder.datasets import make_ratings
from skautoencoder.nn.corruption import corrupt
from skautoencoder.nn.losses import contraction, gaussian_kl

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X = load_digits().data / 16.0
    return train_test_split(X, test_size=0.25, random_state=0)


@pytest.fixture(scope="module")
def plain16(digits):
    return Autoencoder(16, random_state=0).fit(digits[0])


def heldout_r2(model, X_test):
    return r2_score(X_test, model.inverse_transform(model.transform(X_test)), multioutput="variance_weighted")


# -- denoising ---------------------------------------------------------------
@pytest.mark.parametrize("noise, level", [("gaussian", 0.2), ("masking", 0.3), ("salt_and_pepper", 0.1)])
def test_denoising_reconstructs_clean_digits_from_noisy_ones_better(digits, plain16, noise, level):
    X_train, X_test = digits
    noisy = corrupt(torch.from_numpy(X_test), noise, level, torch.Generator().manual_seed(5)).numpy()
    dae = DenoisingAutoencoder(16, noise=noise, noise_level=level, random_state=0).fit(X_train)

    def error(model):
        return np.mean((model.inverse_transform(model.transform(noisy)) - X_test) ** 2)

    # measured: gaussian 0.019 vs 0.025, masking 0.025 vs 0.043, salt and pepper 0.019 vs 0.022
    assert error(dae) < 0.9 * error(plain16)


def test_denoising_inference_is_clean_and_deterministic(digits):
    X_train, X_test = digits
    dae = DenoisingAutoencoder(4, hidden_layer_sizes=(16,), noise_level=0.5, max_iter=3, random_state=0)
    dae.fit(X_train)
    # inference encodes the clean rows: the module's own encoding, not a corrupted copy's
    with torch.no_grad():
        clean = dae.module_.encode(torch.tensor(X_test, dtype=torch.float64).to(torch.float32)).numpy()
    np.testing.assert_allclose(dae.transform(X_test.astype(np.float32)), clean, rtol=1e-5, atol=1e-6)
    # no noise at inference: the reconstruction term is the clean reconstruction error, and
    # the score is deterministic
    recon = dae.inverse_transform(dae.transform(X_test))
    np.testing.assert_allclose(dae.score_features(X_test).sum(axis=1), -np.mean((recon - X_test) ** 2, axis=1),
                               rtol=1e-10)
    np.testing.assert_array_equal(dae.score_samples(X_test), dae.score_samples(X_test))


def test_corruption_is_seeded_and_as_documented():
    X = torch.rand(500, 40, dtype=torch.float64)
    a = corrupt(X, "masking", 0.3, torch.Generator().manual_seed(0))
    b = corrupt(X, "masking", 0.3, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert abs(float((a == 0).double().mean()) - 0.3) < 0.02
    sp = corrupt(X, "salt_and_pepper", 0.2, torch.Generator().manual_seed(0))
    changed = sp != X
    extremes = (sp == X.amin(0)) | (sp == X.amax(0))
    assert bool(extremes[changed].all()) and abs(float(changed.double().mean()) - 0.2) < 0.02
    g = corrupt(X, "gaussian", 0.5, torch.Generator().manual_seed(0)) - X
    assert abs(float(g.std()) - 0.5) < 0.02


# -- sparse --------------------------------------------------------------------
def hoyer_sparsity(Z):
    """0 for equal magnitudes, 1 for a single non-zero per row (Hoyer, 2004)."""
    n = Z.shape[1]
    ratio = np.abs(Z).sum(1) / (np.sqrt((Z ** 2).sum(1)) + 1e-12)
    return float(np.mean((np.sqrt(n) - ratio) / (np.sqrt(n) - 1)))


def near_zero_fraction(Z):
    """Fraction of codes below 1% of the largest magnitude in their row."""
    return float(np.mean(np.abs(Z) < 0.01 * np.abs(Z).max(axis=1, keepdims=True)))


@pytest.fixture(scope="module")
def plain32(digits):
    # a dense code from SparseAutoencoder's own start (init='random'); one started at PCA is sparser
    return Autoencoder(32, init="random", random_state=0).fit(digits[0])


@pytest.fixture(scope="module")
def plain32_pca(digits):
    # the plain model at its defaults (started at PCA): the reconstruction to stay close to
    return Autoencoder(32, random_state=0).fit(digits[0])


def test_sparse_default_codes_are_sparse_per_row(digits, plain32_pca):
    X_train, X_test = digits
    sae = SparseAutoencoder(32, random_state=0).fit(X_train)
    codes, dense = sae.transform(X_test), plain32_pca.transform(X_test)
    # top-k by magnitude: exactly k = 15 of 32 codes per row are non-zero, whatever the data
    assert sae.sparsity == "topk" and np.all((codes != 0).sum(axis=1) == 15)
    # measured: near zero 0.53 vs 0.04, Hoyer 0.52 vs 0.36; R² 0.932 vs 0.973
    # (a top-k of ReLU codes from a random start, the default of old: R² 0.859)
    assert near_zero_fraction(codes) > 0.5 > 10 * near_zero_fraction(dense)
    assert hoyer_sparsity(codes) > hoyer_sparsity(dense) + 0.1
    assert heldout_r2(sae, X_test) > heldout_r2(plain32_pca, X_test) - 0.05


def test_sparse_kl_pulls_mean_activation_to_target_but_not_each_row(digits):
    X_train, X_test = digits
    sae = SparseAutoencoder(32, sparsity="kl", random_state=0).fit(X_train)
    codes = sae.transform(X_test)
    assert codes.min() >= 0 and codes.max() <= 1  # sigmoid units
    assert abs(codes.mean() - 0.05) < 0.03  # measured 0.067
    assert sae.sparsity_weight_ == 3e-3 and sae.sparsity_target_ == 0.05
    # the documented weakness: a low, dense code (measured: 2% of the codes near zero)
    assert near_zero_fraction(codes) < 0.2


def test_sparse_topk_keeps_exactly_k_codes(digits):
    X_train, X_test = digits
    sae = SparseAutoencoder(32, sparsity="topk", sparsity_target=0.25, max_iter=30, random_state=0)
    codes = sae.fit(X_train).transform(X_test)
    # k = 8 largest in magnitude, with their signs: 8 in every row, no unit dead
    assert np.all((codes != 0).sum(axis=1) == 8)
    assert (codes < 0).any() and (codes > 0).any()
    assert np.all((codes != 0).any(axis=0))


def test_sparse_topk_of_a_ratings_model_counts_the_row_offset_among_the_k():
    # missing='mask': the first unit is each row's offset; the network's top-k kept k others,
    # k + 1 non-zero codes per row where the docstring promises at most k
    ratings = make_ratings(n_users=150, n_items=200, ratings_per_user=30, random_state=0)
    sae = SparseAutoencoder(8, sparsity_target=0.5, missing="mask", max_iter=3, random_state=0)
    codes = sae.fit(ratings).transform(ratings)
    assert (codes[:, 0] != 0).all() and np.all((codes != 0).sum(axis=1) == 4)


@pytest.mark.parametrize("sparsity", ["l1", "topk"])
def test_sparse_codes_are_sparser_at_similar_reconstruction(digits, plain32, sparsity):
    X_train, X_test = digits
    plain = plain32
    sae = SparseAutoencoder(32, sparsity=sparsity, sparsity_target=0.25, random_state=0).fit(X_train)
    # measured: Hoyer 0.64 (l1), 0.69 (topk) vs 0.26; R2 0.84, 0.86 vs 0.92
    assert hoyer_sparsity(sae.transform(X_test)) > hoyer_sparsity(plain.transform(X_test)) + 0.3
    assert heldout_r2(sae, X_test) > heldout_r2(plain, X_test) - 0.15


# -- contractive -----------------------------------------------------------------
def jacobian_norm(model, X):
    return float(contraction(model.module_.encode, torch.tensor(X, dtype=torch.float32)))


def test_contractive_shrinks_the_encoder_jacobian(digits):
    X_train, X_test = digits
    plain = Autoencoder(8, random_state=0).fit(X_train)
    cae = ContractiveAutoencoder(8, max_iter=60, random_state=0).fit(X_train)
    # measured: 0.1 vs 22 (squared Frobenius norm, held-out rows)
    assert jacobian_norm(cae, X_test) < 0.05 * jacobian_norm(plain, X_test)
    assert heldout_r2(cae, X_test) > 0.3  # not collapsed (a weight of 0.1 gives ~0); measured 0.41


def test_contraction_estimator_is_unbiased():
    g = torch.Generator().manual_seed(0)
    encoder = torch.nn.Sequential(torch.nn.Linear(30, 20), torch.nn.Tanh(), torch.nn.Linear(20, 10))
    X = torch.randn(64, 30, generator=g)
    exact = float(contraction(encoder, X))
    estimates = [float(contraction(encoder, X, g, exact=False)) for _ in range(200)]
    assert np.mean(estimates) == pytest.approx(exact, rel=0.05)


# -- variational -----------------------------------------------------------------
def mean_kl(vae, X):
    with torch.no_grad():
        mean, log_var = vae.module_.posterior(torch.tensor(X, dtype=torch.float32))
    return float(gaussian_kl(mean, log_var).mean())


def test_vae_beta_trades_kl_for_reconstruction(digits):
    X_train, X_test = digits
    low = VariationalAutoencoder(8, beta=0.1, max_iter=60, random_state=0).fit(X_train)
    high = VariationalAutoencoder(8, beta=1.0, max_iter=60, random_state=0).fit(X_train)
    # measured: KL 27.5 vs 10.8 nats
    assert mean_kl(high, X_test) < 0.6 * mean_kl(low, X_test)


def test_vae_transform_is_the_posterior_mean_and_scores_are_deterministic(digits):
    X_train, X_test = digits
    vae = VariationalAutoencoder(4, loss="bce", max_iter=40, random_state=0).fit(X_train)
    with torch.no_grad():
        mean, _ = vae.module_.posterior(torch.tensor(X_test, dtype=torch.float32))
    np.testing.assert_allclose(vae.transform(X_test), mean.numpy(), rtol=1e-4, atol=1e-5)
    # the score is evaluated at the posterior mean: one call on all rows equals calls row by row
    # (a sampled z would differ between the two)
    scores = vae.score_samples(X_test)
    np.testing.assert_allclose(scores[:5], [vae.score_samples(X_test[i:i + 1])[0] for i in range(5)], rtol=1e-10)
    noise = np.random.RandomState(0).rand(*X_test.shape)
    assert vae.score_samples(X_test).min() > np.median(vae.score_samples(noise))  # measured -23 vs -92 mean


def mmd2(A, B):
    """Squared MMD (biased), RBF kernel at the median squared distance of the pooled rows."""
    pooled = np.vstack([A, B])
    d2 = ((pooled[:, None, :] - pooled[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-d2 / np.median(d2[np.triu_indices_from(d2, 1)]))
    n = len(A)
    return float(kernel[:n, :n].mean() + kernel[n:, n:].mean() - 2 * kernel[:n, n:].mean())


@pytest.fixture(scope="module")
def vae_default(digits):
    return VariationalAutoencoder(random_state=0).fit(digits[0])


def test_vae_samples_are_closer_to_held_out_digits_than_decoder_means(digits, vae_default):
    X_train, X_test = digits
    vae = vae_default
    samples = vae.sample(len(X_test), random_state=0)
    means = vae.inverse_transform(np.random.RandomState(0).standard_normal((len(X_test), vae.n_components_)))
    # measured: 0.0036 vs 0.015 (the training rows themselves: 0.0026)
    assert mmd2(samples, X_test) < 0.5 * mmd2(means, X_test)
    # each feature keeps the data's values: range, and the exact zeros of the background
    assert samples.min() >= 0 and samples.max() <= 1
    zeros = np.mean(samples == 0, axis=0), np.mean(X_train == 0, axis=0)
    assert np.abs(zeros[0] - zeros[1]).max() < 0.15


def test_vae_sample_is_seeded_and_typed(digits, vae_default):
    vae = vae_default
    samples = vae.sample(7, random_state=1)
    assert samples.shape == (7, 64) and samples.dtype == np.float64
    np.testing.assert_array_equal(vae.sample(7, random_state=1), samples)
    assert not np.array_equal(vae.sample(5, random_state=1), vae.sample(5, random_state=2))
    state = np.random.RandomState(3)
    np.testing.assert_array_equal(vae.sample(5, random_state=state), vae.sample(5, random_state=np.random.RandomState(3)))
    with pytest.raises(ValueError, match="n_samples"):
        vae.sample(0)


def test_vae_constant_columns_get_the_floor_of_constant_columns():
    # E[x²] - E[x]² of a constant column is rounding noise, often positive: the column then got
    # an observation-scale floor of 1% of that noise (about 1e-10) instead of 1% of the root mean
    # variance, and on identical rows the scale started there: scores of about -1e15
    value = 0.5488135039273248  # its mean square minus its squared mean is positive over 50 rows
    X = np.full((50, 6), value)
    vae = VariationalAutoencoder(2, hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X)
    # 1% of the fallback, the rows' magnitude (rows without spread)
    np.testing.assert_allclose(vae.module_.log_scale_min.numpy(), np.log(1e-2 * value), rtol=1e-6)
    assert -1e3 < vae.offset_ < 0 and np.all(vae.score_samples(X) > -1e3)
    rng = np.random.RandomState(0)
    X = rng.randn(50, 3)
    X[:, 1] = value
    vae = VariationalAutoencoder(2, hidden_layer_sizes=(8,), max_iter=1, random_state=0).fit(X)
    rms = np.sqrt(np.mean(X.var(axis=0)))
    assert vae.module_.log_scale_min[1].item() == pytest.approx(np.log(1e-2 * rms))


def test_vae_bce_samples_follow_the_pixel_means(digits):
    X_train, _ = digits
    vae = VariationalAutoencoder(8, loss="bce", max_iter=40, random_state=0).fit(X_train)
    samples = vae.sample(2000, random_state=0)
    # measured: largest per-pixel difference of means 0.03
    assert np.abs(samples.mean(axis=0) - X_train.mean(axis=0)).max() < 0.1


def test_match_marginals_keeps_point_masses_and_levels():
    rng = np.random.RandomState(0)
    data = np.c_[np.maximum(rng.randn(500), 0), rng.randint(0, 3, 500)].astype(float)
    model = rng.randn(10000, 2)
    out = match_marginals(rng.randn(2000, 2), feature_quantiles(model), feature_quantiles(data))
    assert abs(np.mean(out[:, 0] == 0) - np.mean(data[:, 0] == 0)) < 0.05
    assert np.mean(np.isin(out[:, 1], [0, 1, 2])) > 0.98
    assert (out.min(0) >= data.min(0)).all() and (out.max(0) <= data.max(0)).all()


def test_vae_quantiles_of_wide_data_stay_small(monkeypatch):
    # a 20,000-item matrix took 78 s to fit (Autoencoder: 3.7 s) and pickled to 336 MB: its
    # quantile tables were 1,000 x n_features, measured on 10,000 x n_features samples
    sizes = VariationalAutoencoder()._quantile_sizes
    assert sizes(64) == sizes(2000) == (10000, 1000)
    assert sizes(5000) == (4000, 400) and sizes(20000) == (1000, 100) and sizes(10**6) == (1000, 100)
    # the same rule with smaller budgets, on small data
    monkeypatch.setattr(VariationalAutoencoder, "_QUANTILE_ENTRIES", 300 * 600)
    monkeypatch.setattr(VariationalAutoencoder, "_TABLE_ENTRIES", 150 * 600)
    X = np.random.RandomState(0).rand(400, 600)
    vae = VariationalAutoencoder(2, hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X)
    assert vae._quantile_sizes(600) == (1000, 150)
    assert vae.training_quantiles_.shape == vae.model_quantiles_.shape == (150, 600)
    assert vae.sample(3, random_state=0).shape == (3, 600)
    vae.partial_fit(X[:50])  # merges at the same levels
    assert vae.training_quantiles_.shape == (150, 600)


@pytest.mark.parametrize("shape", [(2000, 8), (7, 3), (1, 4)])
@pytest.mark.parametrize("n_quantiles", [1000, 100, 2])
def test_feature_quantiles_are_numpys(shape, n_quantiles):
    rng = np.random.RandomState(0)
    X = rng.standard_exponential(shape) * rng.randint(0, 2, shape)  # ties and a point mass at 0
    levels = np.linspace(0, 1, n_quantiles)
    np.testing.assert_array_equal(feature_quantiles(X, n_quantiles), np.quantile(X, levels, axis=0))
    X[rng.rand(*shape) < 0.4] = np.nan
    X[:, 0] = np.nan
    quantiles = feature_quantiles(X, n_quantiles)
    assert np.isnan(quantiles[:, 0]).all()
    for j in range(1, shape[1]):
        observed = X[~np.isnan(X[:, j]), j]
        np.testing.assert_array_equal(quantiles[:, j], np.quantile(observed, levels) if observed.size else np.nan)


def test_merged_quantiles_are_those_of_all_the_rows():
    # two chunks from different distributions: the merged table is the mixture's
    rng = np.random.RandomState(0)
    X = np.c_[rng.standard_exponential(4000), rng.randint(0, 3, 4000), rng.randn(4000)]
    X[1000:] += [3.0, 1.0, -2.0]
    X[rng.rand(4000) < 0.3, 2] = np.nan  # unobserved entries count for nothing
    first, counts = feature_quantiles(X[:1000]), (~np.isnan(X[:1000])).sum(axis=0)
    merged, merged_counts = merge_quantiles(first, counts, X[1000:])
    np.testing.assert_array_equal(merged_counts, (~np.isnan(X)).sum(axis=0))
    np.testing.assert_array_equal(merged[[0, -1]], feature_quantiles(X)[[0, -1]])  # smallest, largest seen

    def cdf_distance(table, column):  # largest gap between the table's CDF and the rows'
        values = column[~np.isnan(column)]
        grid = np.quantile(values, np.linspace(0.01, 0.99, 99))
        return max(abs(np.searchsorted(np.sort(table), g, side="right") / len(table) - np.mean(values <= g))
                   for g in grid)

    for j in range(3):
        # measured: 0.001 for the merge; 0.27-0.70 for the first chunk's alone, 0.09-0.23 the last's
        assert cdf_distance(merged[:, j], X[:, j]) < 0.01
        assert cdf_distance(first[:, j], X[:, j]) > 0.2
        assert cdf_distance(feature_quantiles(X[1000:])[:, j], X[:, j]) > 0.05


@pytest.mark.parametrize("chunk", [1, 10])
def test_merged_quantiles_do_not_spread_merge_after_merge(chunk):
    # each stored value was weighed at the middle of its 1/n_quantiles share, not at its level
    # (k / (n_quantiles - 1)): every merge stretched the table outwards, and a stream of many
    # chunks ended with quantiles far too wide (1-row chunks: the 0.9 quantile was the largest row)
    X = np.random.RandomState(0).randn(1000, 1)
    merged, counts = feature_quantiles(X[:chunk]), np.full(1, float(chunk))
    for start in range(chunk, len(X), chunk):
        merged, counts = merge_quantiles(merged, counts, X[start:start + chunk])
    rows = [100, 250, 500, 750, 900]  # of the 1,000 levels
    error = np.abs(merged[rows] - feature_quantiles(X)[rows]).max()
    assert error < 0.05, error  # measured: 0.016 (1-row chunks) and 0.014; before: 1.75 and 0.14
    # merging a table with rows of its own distribution leaves it as it was
    table = feature_quantiles(np.random.RandomState(1).randn(20000, 1))
    again, _ = merge_quantiles(table, np.full(1, 20000.0), table[::10])
    assert np.abs(again - table)[5:-5].max() < 0.01  # measured: 0.002; before: 0.047


def test_vae_partial_fit_samples_follow_all_the_chunks_not_the_last(digits):
    # a stream that ends with a small chunk: the sample's marginals are those of all chunks
    X_train, _ = digits
    chunks = [X_train[i:i + 100] for i in range(0, 1300, 100)] + [X_train[1340:1347]]
    vae = VariationalAutoencoder(4, loss="bce", random_state=0)
    for chunk in chunks:
        vae.partial_fit(chunk)
    seen = np.vstack(chunks)
    error = np.abs(vae.sample(500, random_state=0).mean(axis=0) - seen.mean(axis=0)).max()
    assert error < 0.1, error  # measured: 0.04; from the last chunk's quantiles alone: 0.41
    np.testing.assert_array_equal(vae._quantile_rows, [np.full(64, seen.shape[0])])


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_vae_whose_training_diverged_stays_usable(method, tmp_path):
    # the divergence error says the last finite weights are kept and the model stays usable;
    # the quantiles that sample() maps through (and that pickle and save store) were never set
    import pickle

    X = np.random.RandomState(0).randn(200, 10) * 1e3
    vae = VariationalAutoencoder(2, optimizer="sgd", learning_rate_init=10.0, early_stopping=False,
                                 random_state=0)
    with pytest.raises(ValueError, match="diverged"):
        getattr(vae, method)(X)
    assert np.isfinite(vae.sample(3, random_state=0)).all()
    assert pickle.loads(pickle.dumps(vae)).sample(3, random_state=0).shape == (3, 10)
    vae.save(tmp_path / "vae.pt")


def test_vae_is_the_same_model_in_any_units(digits):
    # the networks read and write standardised features: pixels in [0, 1] or in [0, 1600] give the
    # same codes, and reconstructions and samples in their own units (held-out R² of digits x 100
    # was -2.1 to 0.01 at the defaults, raising "diverged" before the log-variance was held)
    X_train, X_test = digits
    vae = VariationalAutoencoder(4, max_iter=5, random_state=0).fit(X_train)
    big = VariationalAutoencoder(4, max_iter=5, random_state=0).fit(X_train * 1600)
    # (the same up to float32 rounding, which training amplifies: measured codes 0.045 apart at most)
    np.testing.assert_allclose(big.transform(X_test * 1600), vae.transform(X_test), atol=0.1)
    assert abs(heldout_r2(big, X_test * 1600) - heldout_r2(vae, X_test)) < 0.01


def test_vae_partial_fit_from_a_one_row_chunk_scales_by_its_magnitude(digits):
    # one row shows no spread: the scaling fell back to none (1) and the observation scales to 1,
    # on pixels in [0, 1600]: score -2.9e7, now -500, against -478 after a first chunk of 10 rows
    X = digits[0][:400] * 1600

    def streamed(first_rows):
        vae = VariationalAutoencoder(4, hidden_layer_sizes=(16,), random_state=0).partial_fit(X[:first_rows])
        for _ in range(5):
            vae.partial_fit(X[first_rows:])
        return vae

    one, ten = streamed(1), streamed(10)
    assert (one.module_.input_scale > 100).all()
    assert one.score(X) > ten.score(X) - 0.2 * abs(ten.score(X))


def test_vae_saved_before_the_scaling_loads_unscaled(digits):
    vae = VariationalAutoencoder(2, max_iter=2, random_state=0).fit(digits[0])
    state = vae._fitted_state()
    for name in ("input_shift", "input_scale"):
        del state["weights"][name]
    old = VariationalAutoencoder(2)
    old._restore_fitted_state(state)
    assert (old.module_.input_shift == 0).all() and (old.module_.input_scale == 1).all()
    assert np.isfinite(old.transform(digits[1])).all()


def test_vae_fits_unscaled_tabular_data():
    # raw breast cancer (columns up to 4,254): the first steps gave log-variances whose exp
    # overflowed, a NaN loss and a "diverged" error at seeds 1 and 2 (seed 0: R² -3.1); measured
    # now: 0.98 (the log-variance held in range alone: 0.865)
    from sklearn.datasets import load_breast_cancer

    X_train, X_test = train_test_split(load_breast_cancer().data, test_size=0.25, random_state=1)
    vae = VariationalAutoencoder(random_state=1).fit(X_train)
    reconstructed = vae.inverse_transform(vae.transform(X_test))
    assert r2_score(X_test, reconstructed, multioutput="variance_weighted") > 0.5


# -- convolutional -----------------------------------------------------------------
def test_convolutional_beats_pca_on_digit_images(digits):
    X_train, X_test = digits
    cae = ConvolutionalAutoencoder(8, image_shape=(8, 8), random_state=0).fit(X_train)
    # measured: 0.74 vs 0.66
    assert heldout_r2(cae, X_test) > heldout_r2(PCA(8).fit(X_train), X_test) + 0.03


def test_convolutional_on_1d_signals():
    rng = np.random.RandomState(0)
    t = np.linspace(0, 1, 50)
    phase, freq = rng.rand(600, 1) * 2 * np.pi, 2 + 3 * rng.rand(600, 1)
    X = np.sin(2 * np.pi * freq * t + phase) + 0.05 * rng.randn(600, 50)
    cae = ConvolutionalAutoencoder(4, channels=(8,), hidden_layer_sizes=(32,), random_state=0)
    cae.fit(X[:500])
    assert cae.transform(X).shape == (600, 4)
    assert heldout_r2(cae, X[500:]) > 0.8


def test_convolutional_image_shape_errors():
    X = np.random.RandomState(0).rand(20, 12)
    with pytest.raises(ValueError, match="holds 16 values per row, but X has 12 features"):
        ConvolutionalAutoencoder(image_shape=(4, 4)).fit(X)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        ConvolutionalAutoencoder(kernel_size=4).fit(X)
    model = ConvolutionalAutoencoder(2, image_shape=(3, 2, 2), channels=(4,), max_iter=2, random_state=0)
    assert model.fit(X).inverse_transform(model.transform(X)).shape == (20, 12)


def test_convolutional_takes_numpy_integers():
    # image_shape=np.array(...) or numpy ints (e.g. images.shape computed with numpy) reached
    # torch's nn.Unflatten, which raised "unflattened_size must be tuple of ints"
    X = np.random.RandomState(0).rand(30, 16)
    reference = ConvolutionalAutoencoder(2, image_shape=(4, 4), channels=(2, 4), kernel_size=3, max_iter=2,
                                         random_state=0).fit(X)
    for image_shape in (np.array([4, 4]), (np.int64(4), np.int64(4))):
        model = ConvolutionalAutoencoder(2, image_shape=image_shape, channels=np.array([2, 4]),
                                         kernel_size=np.int64(3), max_iter=2, random_state=0).fit(X)
        np.testing.assert_array_equal(model.transform(X), reference.transform(X))


@pytest.mark.parametrize("model", [DenoisingAutoencoder, ContractiveAutoencoder, SparseAutoencoder])
@pytest.mark.parametrize("noise", ["masking", "salt_and_pepper"])
def test_noise_level_of_a_probability_noise_is_at_most_one(model, noise):
    # was accepted: every entry was corrupted in every batch, and the model learnt column means
    X = np.random.RandomState(0).rand(30, 4)
    for method in ("fit", "partial_fit"):
        with pytest.raises(ValueError, match=f"noise_level=1.5 is the probability .* noise='{noise}'"):
            getattr(model(2, noise=noise, noise_level=1.5, max_iter=1), method)(X)
    model(2, noise=noise, noise_level=1.0, max_iter=1).fit(X)
    model(2, noise="gaussian", noise_level=1.5, max_iter=1).fit(X)  # a standard deviation: any size


def test_sparse_denoising_is_a_matter_of_parameters(digits):
    X_train, X_test = digits
    model = SparseAutoencoder(16, sparsity="l1", noise="masking", noise_level=0.3, max_iter=5, random_state=0)
    model.fit(X_train)
    batch = torch.tensor(X_train[:64], dtype=torch.float32)
    g = torch.Generator().manual_seed(0)
    assert not torch.equal(model._corrupt(batch, g), batch)
    assert torch.equal(Autoencoder()._corrupt(batch, g), batch)
