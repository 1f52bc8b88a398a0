"""Rating models (``missing='mask'``) and top-n recommendations."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from skautoencoder import Autoencoder, recommend
from skautoencoder.datasets import make_ratings
from skautoencoder.nn import ObservedOffsetsModule

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def planted(n_users=300, n_items=40, seed=0):
    """Two groups of users: one rates items 0-9 high and 10-19 low, the other the reverse;
    items 20+ are middling. Each user sees a random 40% of the items."""
    rng = np.random.RandomState(seed)
    group = rng.rand(n_users) < 0.5
    full = 3.0 + 0.3 * rng.randn(n_users, n_items)
    full[:, :10] += np.where(group, 1.5, -1.5)[:, None]
    full[:, 10:20] += np.where(group, -1.5, 1.5)[:, None]
    full = np.clip(np.round(full * 2) / 2, 0.5, 5)
    seen = rng.rand(n_users, n_items) < 0.4
    return sp.csr_matrix(np.where(seen, full, 0.0)), group, seen


@pytest.fixture(scope="module")
def fitted():
    R, group, seen = planted()
    model = Autoencoder(4, hidden_layer_sizes=(32,), missing="mask", random_state=0).fit(R)
    return model, R, group, seen


def test_recommends_the_planted_preference_and_never_a_seen_item(fitted):
    model, R, group, seen = fitted
    top = recommend(model, R, n=3)
    assert top.shape == (R.shape[0], 3) and top.dtype.kind == "i"
    liked = np.where(group[:, None], top < 10, (top >= 10) & (top < 20))
    assert liked.mean() > 0.9, liked.mean()
    assert not seen[np.arange(R.shape[0])[:, None], top].any()
    # without the exclusion, known favourites come back
    again = recommend(model, R, n=3, exclude_seen=False)
    assert seen[np.arange(R.shape[0])[:, None], again].any()


def test_dense_nan_input_gives_the_same_recommendations(fitted):
    model, R, _, seen = fitted
    dense = np.where(seen, R.toarray(), np.nan)[:20]
    np.testing.assert_array_equal(recommend(model, dense, n=5), recommend(model, R[:20], n=5))


def test_data_frames_keep_their_column_names(fitted):
    # recommend passed a numpy copy: a model fitted on a frame warned "X does not have valid
    # feature names", and took columns in another order without a word
    pd = pytest.importorskip("pandas")
    model, R, _, _ = fitted
    columns = [f"item{j}" for j in range(R.shape[1])]
    frame = pd.DataFrame(np.where(R.toarray() == 0, np.nan, R.toarray()), columns=columns)
    named = Autoencoder(4, hidden_layer_sizes=(32,), missing="mask", max_iter=5, random_state=0).fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        top = recommend(named, frame, n=3)
    plain = Autoencoder(4, hidden_layer_sizes=(32,), missing="mask", max_iter=5, random_state=0).fit(frame.to_numpy())
    np.testing.assert_array_equal(top, recommend(plain, frame.to_numpy(), n=3))  # the same model, unnamed
    with pytest.raises(ValueError, match="feature names should match"):
        recommend(named, frame[columns[::-1]], n=3)


def test_a_user_who_has_seen_everything_gets_minus_one(fitted):
    model, R, _, _ = fitted
    everything = sp.csr_matrix(np.full((1, R.shape[1]), 3.0))
    assert (recommend(model, everything, n=5) == -1).all()
    assert recommend(model, R[:2], n=10**6).shape == (2, R.shape[1])  # n capped at the item count


def test_recommend_rejects_what_it_cannot_use(fitted):
    model, R, _, _ = fitted
    with pytest.raises(ValueError, match="n"):
        recommend(model, R, n=0)
    with pytest.raises(ValueError, match="must reconstruct rows"):
        recommend(_Projector(), R, n=2)


class _Projector:
    """A transform whose inverse does not come back to rows of X."""

    def transform(self, X):
        return np.ones((X.shape[0], 2))

    def inverse_transform(self, Z):
        return np.ones((Z.shape[0], 3))


def biased_ratings(n_users=400, n_items=80, density=0.15, seed=0):
    """Ratings = 3.5 + user bias + item bias + noise (no taste): the best a model can do
    for an unseen entry is the item's and the user's average."""
    rng = np.random.RandomState(seed)
    user, item = 0.6 * rng.randn(n_users), 0.6 * rng.randn(n_items)
    full = 3.5 + user[:, None] + item[None, :] + 0.3 * rng.randn(n_users, n_items)
    observed = rng.rand(n_users, n_items) < density
    held_out = observed & (rng.rand(n_users, n_items) < 0.2)
    train = np.where(observed & ~held_out, full, np.nan)
    return train, full, held_out, user, item


def test_unobserved_entries_predict_the_item_and_user_average_not_zero():
    train, full, held_out, user, _ = biased_ratings()
    model = Autoencoder(missing="mask", random_state=0).fit(sp.csr_matrix(np.nan_to_num(train)))
    assert isinstance(model.module_, ObservedOffsetsModule)
    codes = model.transform(train)
    predicted = model.inverse_transform(codes)
    rmse = np.sqrt(np.mean((predicted[held_out] - full[held_out]) ** 2))
    global_mean = np.sqrt(np.mean((np.nanmean(train) - full[held_out]) ** 2))
    assert rmse < 0.5 * global_mean, (rmse, global_mean)
    # the first code unit is the user's offset: their bias, up to shrinkage
    assert np.corrcoef(codes[:, 0], user)[0, 1] > 0.9
    # where the user's bias is high, so are their predictions of unseen items
    unseen = np.isnan(train)
    row_mean = np.nanmean(np.where(unseen, predicted, np.nan), axis=1)
    assert np.corrcoef(row_mean, user)[0, 1] > 0.9


def test_offsets_only_with_one_code_unit_and_mse():
    train, _, _, _, _ = biased_ratings(n_users=60, n_items=10, density=0.5)
    assert not isinstance(Autoencoder(1, max_iter=2, missing="mask").fit(train).module_, ObservedOffsetsModule)
    scaled = (train - 0.5) / 6
    model = Autoencoder(3, max_iter=2, loss="bce", missing="mask").fit(scaled)
    assert not isinstance(model.module_, ObservedOffsetsModule)


def test_learns_tastes_beyond_the_bias_model():
    from sklearn.model_selection import train_test_split

    R = make_ratings(300, 500, ratings_per_user=80, taste_sd=1.0, random_state=0).tocoo()
    fit_idx, test_idx = train_test_split(np.arange(R.nnz), test_size=0.2, random_state=0)
    train = sp.csr_matrix((R.data[fit_idx], (R.row[fit_idx], R.col[fit_idx])), shape=R.shape)
    rows, cols, truth = R.row[test_idx], R.col[test_idx], R.data[test_idx]
    model = Autoencoder(missing="mask", random_state=0).fit(train)
    predicted = model.inverse_transform(model.transform(train))[rows, cols]
    # the ridge bias model mu + b_user + b_item (lambda=5)
    t = train.tocoo()
    mu, b_user, b_item = t.data.mean(), np.zeros(R.shape[0]), np.zeros(R.shape[1])
    for _ in range(20):
        b_item = np.bincount(t.col, t.data - mu - b_user[t.row], minlength=R.shape[1]) / (train.getnnz(axis=0) + 5)
        b_user = np.bincount(t.row, t.data - mu - b_item[t.col], minlength=R.shape[0]) / (train.getnnz(axis=1) + 5)
    biases = mu + b_user[rows] + b_item[cols]

    def rmse(p):
        return np.sqrt(np.mean((np.clip(p, 0.5, 5) - truth) ** 2))

    assert rmse(predicted) < 0.93 * rmse(biases), (rmse(predicted), rmse(biases))  # measured 0.91 vs 1.06


def test_make_ratings_looks_like_ratings():
    R = make_ratings(200, 1000, ratings_per_user=50, random_state=0)
    assert sp.issparse(R) and R.shape == (200, 1000)
    assert R.data.min() >= 0.5 and R.data.max() <= 5 and np.all(R.data * 2 == np.round(R.data * 2))
    per_user, per_item = R.getnnz(axis=1), np.sort(R.getnnz(axis=0))[::-1]
    assert per_user.min() >= 20 and abs(per_user.mean() - 50) < 2
    assert per_item[:10].sum() > 10 * per_item[500:].sum() / 50  # power-law popularity: a head and a long tail
    np.testing.assert_array_equal(make_ratings(50, 100, random_state=1).toarray(),
                                  make_ratings(50, 100, random_state=1).toarray())


def test_warm_start_refuses_a_changed_missing():
    R, _, _ = planted(60, 20)
    model = Autoencoder(3, max_iter=2, missing="mask", warm_start=True, random_state=0).fit(R)
    with pytest.raises(ValueError, match="missing changed"):
        model.set_params(missing="zero").fit(R)
