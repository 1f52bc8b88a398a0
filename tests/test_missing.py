"""Sparse user-item matrices and missing values: masked losses, imputation."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.impute import SimpleImputer

from skautoencoder import Autoencoder, AutoencoderImputer, DenoisingAutoencoder, VariationalAutoencoder
from skautoencoder._base import BaseAutoencoder
from skautoencoder._ratings import observed_offsets
from skautoencoder.datasets import make_ratings
from skautoencoder.nn import reconstruction_loss

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def low_rank(n_rows=400, n_cols=40, rank=3, noise=0.05, seed=0):
    rng = np.random.RandomState(seed)
    return rng.randn(n_rows, rank) @ rng.randn(rank, n_cols) + noise * rng.randn(n_rows, n_cols)


def ratings(n_users=300, n_items=60, density=0.2, seed=0):
    """A sparse user x item matrix of ratings from a rank-3 model; and the full matrix."""
    rng = np.random.RandomState(seed)
    full = 3 + low_rank(n_users, n_items, rank=3, noise=0.1, seed=seed) / 2
    observed = rng.rand(n_users, n_items) < density
    return sp.csr_matrix(np.where(observed, full, 0.0)), full, observed


def test_masked_loss_ignores_the_values_of_unobserved_entries():
    g = torch.Generator().manual_seed(0)
    raw, target = torch.randn(8, 5, generator=g), torch.randn(8, 5, generator=g)
    mask = torch.rand(8, 5, generator=g) > 0.4
    other = torch.where(mask, target, torch.randn(8, 5, generator=g) * 100)
    for reduction in ("mean", "none"):
        a = reconstruction_loss(raw, target, mask=mask, reduction=reduction)
        b = reconstruction_loss(raw, other, mask=mask, reduction=reduction)
        torch.testing.assert_close(a, b)
    per_row = reconstruction_loss(raw, target, mask=mask, reduction="none")
    expected = [((raw[i] - target[i])[mask[i]] ** 2).mean() if mask[i].any() else 0.0 for i in range(8)]
    torch.testing.assert_close(per_row, torch.tensor(expected, dtype=per_row.dtype))


@pytest.mark.parametrize("cls", [Autoencoder, VariationalAutoencoder], ids=lambda c: c.__name__)
def test_mask_trains_on_observed_entries_only(cls):
    X, _, observed = ratings()
    dense_nan = np.where(observed, X.toarray(), np.nan)
    kwargs = dict(n_components=3, hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    masked_sparse = cls(**kwargs, missing="mask").fit(X)
    masked_dense = cls(**kwargs, missing="mask").fit(dense_nan)
    as_zeros = cls(**kwargs, missing="zero").fit(X)
    # unobserved entries are not zeros: a different model than the zero-filled one...
    assert not np.allclose(masked_sparse.transform(X), as_zeros.transform(X))
    # ...and the same model whether they are unstored (sparse) or NaN (dense)
    np.testing.assert_allclose(masked_sparse.transform(X), masked_dense.transform(dense_nan), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(masked_sparse.score_samples(X), masked_dense.score_samples(dense_nan), rtol=1e-6)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_and_dense_give_the_same_model(fmt):
    X, _, _ = ratings()
    X = X.asformat(fmt)
    kwargs = dict(n_components=3, hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    from_sparse = DenoisingAutoencoder(**kwargs).fit(X)
    from_dense = DenoisingAutoencoder(**kwargs).fit(X.toarray())
    np.testing.assert_allclose(from_sparse.transform(X), from_dense.transform(X.toarray()), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(from_sparse.loss_curve_, from_dense.loss_curve_, rtol=1e-6)
    assert from_sparse.transform(X.astype(np.float32)).dtype == np.float32


def test_sparse_input_is_densified_one_batch_at_a_time(monkeypatch):
    X, _, _ = ratings(n_users=5000, n_items=30, density=0.1)
    shapes = []
    real = BaseAutoencoder._to_tensor

    def spy(self, data, dtype=torch.float32):
        if sp.issparse(data):
            shapes.append(data.shape[0])
        return real(self, data, dtype)

    monkeypatch.setattr(BaseAutoencoder, "_to_tensor", spy)
    model = Autoencoder(2, hidden_layer_sizes=(8,), batch_size=64, max_iter=2, missing="mask", random_state=0)
    model.fit(X).score_samples(X)
    assert shapes and max(shapes) <= 4096 < X.shape[0]


def test_recommender_predicts_held_out_ratings_better_than_baselines():
    _, full, observed = ratings(n_users=400, n_items=60, density=0.25)
    rng = np.random.RandomState(1)
    held_out = observed & (rng.rand(*observed.shape) < 0.2)
    train = sp.csr_matrix(np.where(observed & ~held_out, full, 0.0))
    # centre the stored ratings on their item means: an unobserved entry then reads "average"
    item_mean = np.asarray(train.sum(axis=0)).ravel() / np.maximum(train.getnnz(axis=0), 1)
    centred = train.copy()
    centred.data -= item_mean[centred.indices]
    model = Autoencoder(8, hidden_layer_sizes=(64,), missing="mask", random_state=0).fit(centred)
    predicted = model.inverse_transform(model.transform(centred)) + item_mean

    def rmse(prediction):
        return np.sqrt(np.mean((prediction[held_out] - full[held_out]) ** 2))

    # measured: 0.34 vs 0.84 (item means); rank-3 TruncatedSVD of the zero-filled centred matrix 0.70
    assert rmse(predicted) < 0.6 * rmse(np.broadcast_to(item_mean, full.shape))


def test_partial_fit_offsets_are_those_of_every_chunk_seen():
    # item effects of sd 1; the first chunk of users rated none of the last 20 items
    _, full, observed = ratings(n_users=600, n_items=60, density=0.3, seed=2)
    full = full + np.random.RandomState(3).randn(60)
    first, second = np.where(observed, full, np.nan)[:300], np.where(observed, full, np.nan)[300:]
    first[:, 40:] = np.nan
    held_out = ~np.isnan(second) & (np.random.RandomState(4).rand(*second.shape) < 0.2)
    train = np.where(held_out, np.nan, second)
    model = Autoencoder(4, hidden_layer_sizes=(32,), missing="mask", random_state=0)
    for _ in range(10):
        model.partial_fit(first).partial_fit(train)
    predicted = model.inverse_transform(model.transform(train))
    late = held_out[:, 40:]

    def rmse(prediction):
        return np.sqrt(np.mean((prediction[:, 40:][late] - second[:, 40:][late]) ** 2))

    # the items first seen in the second chunk are learnt from their ratings (measured: RMSE 0.57,
    # item means 0.81; 1.46 when the offsets stayed those of the first chunk, which had no ratings
    # of them: their weight stayed 0, and nothing was learnt of them)
    assert rmse(predicted) < rmse(np.broadcast_to(np.nanmean(np.vstack([first, train]), axis=0), train.shape))
    # the offsets continue from per-column totals: the counts are those of every chunk seen
    counts = 10 * (~np.isnan(first)).sum(axis=0) + 10 * (~np.isnan(train)).sum(axis=0)
    np.testing.assert_array_equal(model._offset_totals[0], counts)


def test_warm_start_fit_takes_the_offsets_of_its_data():
    # a warm-start fit on new rows kept the first fit's offsets: items first rated there had
    # weight 0 and the global mean as offset (reconstructed at 3.35 where they were all 5)
    rng = np.random.RandomState(0)
    R = rng.randint(1, 6, (300, 40)).astype(float)
    R[rng.rand(300, 40) < 0.8] = np.nan
    R[:150, 30:] = np.nan
    R[150:, 30:] = np.where(np.isnan(R[150:, 30:]), np.nan, 5.0)
    model = Autoencoder(4, hidden_layer_sizes=(8,), missing="mask", max_iter=5, warm_start=True, random_state=0)
    model.fit(R[:150]).fit(R[150:])
    assert (model.module_.column_weight[30:] > 0.3).all()
    np.testing.assert_allclose(model.module_.column_offset[30:].numpy(), 5.0, atol=0.5)


def test_offsets_of_two_halves_are_close_to_those_of_the_whole():
    R = make_ratings(n_users=200, n_items=500, ratings_per_user=40, random_state=0)
    whole, count, row_count, totals = observed_offsets(R)
    streamed, streamed_count, _, streamed_totals = observed_offsets(R[100:], observed_offsets(R[:100])[3])
    np.testing.assert_array_equal(streamed_count, count)
    np.testing.assert_allclose(streamed_totals[:2], totals[:2])  # counts and sums of values: exact
    # the first half's row biases stay as fitted against that half's column biases (measured:
    # at most 0.016 from the whole's offsets; the second half's own offsets 0.51)
    np.testing.assert_allclose(streamed, whole, atol=0.02)
    assert np.abs(streamed - whole).max() < 0.2 * np.abs(observed_offsets(R[100:])[0] - whole).max()


def test_imputer_beats_simple_imputer_on_low_rank_data():
    X = low_rank(500, 30, rank=3, noise=0.1)
    rng = np.random.RandomState(2)
    missing = rng.rand(*X.shape) < 0.2
    X_missing = np.where(missing, np.nan, X)
    filled = AutoencoderImputer(random_state=0).fit(X_missing).transform(X_missing)
    mean_filled = SimpleImputer().fit_transform(X_missing)
    rmse = np.sqrt(np.mean((filled[missing] - X[missing]) ** 2))
    rmse_mean = np.sqrt(np.mean((mean_filled[missing] - X[missing]) ** 2))
    assert rmse < 0.5 * rmse_mean, (rmse, rmse_mean)
    np.testing.assert_array_equal(filled[~missing], X[~missing])  # observed entries untouched


def test_imputer_with_a_placeholder_and_a_given_estimator():
    X = low_rank(200, 8, rank=2)
    X_missing = X.copy()
    X_missing[::7, 3] = -1.0
    imputer = AutoencoderImputer(Autoencoder(2, max_iter=20, random_state=0), missing_values=-1.0)
    filled = imputer.fit_transform(X_missing)
    assert imputer.estimator_.missing == "mask" and imputer.estimator is not imputer.estimator_
    assert not np.any(filled == -1.0)


def test_imputer_refuses_a_bce_estimator_naming_its_own_standardisation():
    # it trains on standardised columns, never in [0, 1]: a loss='bce' model failed on any X
    # with "loss='bce' needs X in [0, 1] ... Scale X (e.g. MinMaxScaler)", X already in [0, 1]
    X = np.random.RandomState(0).rand(50, 4)
    X[::5, 1] = np.nan
    with pytest.raises(ValueError, match="standardised.*loss='mse'"):
        AutoencoderImputer(Autoencoder(2, loss="bce", max_iter=2)).fit(X)


def test_imputer_with_a_placeholder_rejects_nan_as_scikit_learn_imputers_do():
    # NaN was taken, left out of the column means and returned unfilled by transform
    X = low_rank(50, 5)
    X[::7, 3] = -1.0
    X[0, 0] = np.nan
    for imputer in (AutoencoderImputer(Autoencoder(2, max_iter=1), missing_values=-1.0),
                    SimpleImputer(missing_values=-1.0)):
        with pytest.raises(ValueError, match="Input X contains NaN"):
            imputer.fit(X)
    fitted = AutoencoderImputer(Autoencoder(2, max_iter=1), missing_values=-1.0).fit(np.nan_to_num(X))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.transform(X)
    assert not fitted.__sklearn_tags__().input_tags.allow_nan
    assert AutoencoderImputer().__sklearn_tags__().input_tags.allow_nan


def test_missing_zero_still_rejects_nan():
    X = low_rank(50, 5)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        Autoencoder(max_iter=1).fit(X)
