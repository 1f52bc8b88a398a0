"""Generated data sets.

:func:`make_ratings`: a user x item ratings matrix with the structure of real
ones (as scikit-learn's ``make_*`` functions are for tabular data).
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_ratings"]


@validate_params(
    {
        "n_users": [Interval(Integral, 1, None, closed="left")],
        "n_items": [Interval(Integral, 2, None, closed="left")],
        "ratings_per_user": [Interval(Real, 1, None, closed="left")],
        "rank": [Interval(Integral, 1, None, closed="left")],
        "popularity_exponent": [Interval(Real, 0, None, closed="left")],
        "user_sd": [Interval(Real, 0, None, closed="left")],
        "item_sd": [Interval(Real, 0, None, closed="left")],
        "taste_sd": [Interval(Real, 0, None, closed="left")],
        "taste_decay": [Interval(Real, 0, 1, closed="right")],
        "noise_sd": [Interval(Real, 0, None, closed="left")],
        "min_per_user": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_ratings(n_users=610, n_items=9000, *, ratings_per_user=165, rank=10, popularity_exponent=1.1,
                 user_sd=0.5, item_sd=0.4, taste_sd=0.5, taste_decay=0.6, noise_sd=0.75, min_per_user=20,
                 random_state=None):
    """A sparse user x item matrix of half-star ratings in [0.5, 5].

    A rating is ``3.5 + b_u + b_i + p_u . q_i + noise``, rounded to half a
    star and clipped to [0.5, 5]: user biases ``b_u``; item biases ``b_i``
    (popular items a little higher); a low-rank taste ``p_u . q_i`` whose
    dimensions carry geometrically decaying variance, as the singular values
    of real rating matrices decay; Gaussian noise. Which items a user rates
    is drawn without replacement by power-law (Zipf) item popularity; how
    many by a heavy-tailed (log-normal) activity, at least ``min_per_user``.
    This is the model class of biased matrix factorisation: nothing in it
    favours an autoencoder. The defaults have the shape of MovieLens'
    ``ml-latest-small`` (610 users, about 100,000 ratings, half of the items
    rated at most four times) and similar baseline errors.

    Parameters
    ----------
    n_users, n_items : int, default=610, 9000
        Shape of the matrix.
    ratings_per_user : float, default=165
        Mean number of ratings of a user (at most ``n_items // 2`` each).
    rank : int, default=10
        Number of taste dimensions.
    popularity_exponent : float, default=1.1
        Item ``k`` (in a random order) is chosen with weight ``k ** -popularity_exponent``.
    user_sd, item_sd : float, default=0.5, 0.4
        Standard deviations of the user and item biases.
    taste_sd : float, default=0.5
        Standard deviation of the taste term ``p_u . q_i``.
    taste_decay : float in (0, 1], default=0.6
        Ratio of the variances of consecutive taste dimensions.
    noise_sd : float, default=0.75
        Standard deviation of the noise before rounding.
    min_per_user : int, default=20
        Fewest ratings of a user.
    random_state : int, RandomState instance or None, default=None
        Seeds every draw.

    Returns
    -------
    R : scipy.sparse.csr_matrix of shape (n_users, n_items)
        The ratings; unstored entries are unrated.

    Examples
    --------
    >>> from skautoencoder.datasets import make_ratings
    >>> R = make_ratings(100, 500, ratings_per_user=40, random_state=0)
    >>> R.shape, float(R.data.min()) >= 0.5, float(R.data.max()) <= 5.0
    ((100, 500), True, True)
    """
    rng = check_random_state(random_state)
    activity = rng.lognormal(0.0, 1.0, n_users)  # heavy-tailed number of ratings per user
    extra = max(ratings_per_user - min_per_user, 0) * n_users * activity / activity.sum()
    counts = np.minimum(min_per_user + np.round(extra).astype(int), n_items // 2)
    log_popularity = -popularity_exponent * np.log(rng.permutation(n_items) + 1.0)  # Zipf
    popular = (log_popularity - log_popularity.mean()) / max(log_popularity.std(), 1e-12)
    item_bias = item_sd * rng.randn(n_items) + 0.1 * popular
    user_bias = user_sd * rng.randn(n_users)
    spectrum = taste_decay ** np.arange(rank)
    scale = np.sqrt(taste_sd * np.sqrt(spectrum / spectrum.sum()))
    P, Q = scale * rng.randn(n_users, rank), scale * rng.randn(n_items, rank)
    rows, cols = [], []
    for user, count in enumerate(counts):
        keys = log_popularity + rng.gumbel(size=n_items)  # Gumbel top-k: sampling without replacement
        rows.append(np.full(count, user))
        cols.append(np.sort(np.argpartition(-keys, count)[:count]))
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    value = (3.5 + user_bias[rows] + item_bias[cols] + np.einsum("ij,ij->i", P[rows], Q[cols])
             + noise_sd * rng.randn(rows.size))
    value = np.clip(np.round(2 * value) / 2, 0.5, 5.0)
    return sp.csr_matrix((value, (rows, cols)), shape=(n_users, n_items))
