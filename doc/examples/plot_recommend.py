"""
=====================================
Recommendations from a ratings matrix
=====================================

A user x item matrix of ratings is mostly unobserved: each user has rated a
few of the items. ``Autoencoder(missing='mask')`` reads the unstored entries
of a sparse matrix as *unobserved* (not as zeros): it learns from the
observed ratings only, predicts every entry as "the item's average, adjusted
for this user, plus what this user's tastes add", and
:func:`~skautoencoder.recommend` turns the predictions into top-n lists.

The ratings here come from :func:`~skautoencoder.datasets.make_ratings`:
user and item biases, a low-rank taste, power-law item popularity and
half-star ratings, the model that biased matrix factorisation assumes.
"""

# %%
# Data and a held-out split: a fifth of each user's ratings are hidden from
# every model and predicted afterwards. The matrix is smaller than the
# default ``make_ratings`` (MovieLens-sized) to keep the example fast.
import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp

from skautoencoder import Autoencoder, recommend
from skautoencoder.datasets import make_ratings

R = make_ratings(400, 2000, ratings_per_user=120, random_state=0)
rng = np.random.RandomState(0)
coo = R.tocoo()
test = rng.rand(coo.nnz) < 0.2
train = sp.csr_matrix((coo.data[~test], (coo.row[~test], coo.col[~test])), shape=R.shape)
rows, cols, truth = coo.row[test], coo.col[test], coo.data[test]
print(f"{R.shape[0]} users x {R.shape[1]} items, {train.nnz} training ratings ({train.nnz / np.prod(R.shape):.1%})")

# %%
# Baselines: the global mean, and the classic bias model
# ``mu + b_user + b_item`` (ridge regression, penalty 5), the model to beat.
mu = train.data.mean()
t = train.tocoo()
b_user, b_item = np.zeros(R.shape[0]), np.zeros(R.shape[1])
for _ in range(20):
    b_item = np.bincount(t.col, t.data - mu - b_user[t.row], minlength=R.shape[1]) / (train.getnnz(axis=0) + 5)
    b_user = np.bincount(t.row, t.data - mu - b_item[t.col], minlength=R.shape[0]) / (train.getnnz(axis=1) + 5)


def rmse(predicted):
    return np.sqrt(np.mean((np.clip(predicted, 0.5, 5) - truth) ** 2))


errors = {"global mean": rmse(np.full(truth.size, mu)), "biases": rmse(mu + b_user[rows] + b_item[cols])}

# %%
# The autoencoder, at its defaults, on the raw ratings: no centring, no
# scaling, no tuning. Its first code unit is each user's offset (their bias);
# the others code their tastes.
model = Autoencoder(missing="mask", random_state=0).fit(train)
codes = model.transform(train)
predicted = model.inverse_transform(codes)
errors["Autoencoder(missing='mask')"] = rmse(predicted[rows, cols])
for name, error in errors.items():
    print(f"{name:>28}: held-out RMSE {error:.4f}")

# %%
# Left: held-out error of each model. Right: the first code unit against each
# user's mean rating: it is the user's bias, shrunk towards zero for users
# with few ratings.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.barh(list(errors), list(errors.values()))
ax1.set_xlim(0.7, max(errors.values()) + 0.05)
ax1.set_xlabel("held-out RMSE (lower is better)")
user_mean = np.asarray(train.sum(axis=1)).ravel() / train.getnnz(axis=1)
ax2.scatter(user_mean, codes[:, 0], s=8, c=np.log(train.getnnz(axis=1)), cmap="viridis")
ax2.set_xlabel("user's mean rating")
ax2.set_ylabel("first code unit (user offset)")
fig.tight_layout()
plt.show()

# %%
# Top-5 recommendations for the first three users: the items with the
# highest predicted rating among those they have not rated.
top = recommend(model, train[:3], n=5)
for user, items in enumerate(top):
    print(f"user {user}: items {items.tolist()}, predicted {np.round(predicted[user, items], 2).tolist()}")
