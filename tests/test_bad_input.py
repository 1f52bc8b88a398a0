"""Bad input, every estimator, every public method: a clear ValueError or
TypeError that names the problem (or a result, where scikit-learn's own
estimators accept the input), never a torch traceback."""

import re
import tempfile
import traceback
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from skautoencoder import (
    Autoencoder,
    ContractiveAutoencoder,
    ConvolutionalAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    VariationalAutoencoder,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(n_components=2, hidden_layer_sizes=(4,), max_iter=2, random_state=0)
CLASSES = [Autoencoder, DenoisingAutoencoder, SparseAutoencoder, ContractiveAutoencoder,
           VariationalAutoencoder, ConvolutionalAutoencoder]
N_FEATURES = 6
RNG = np.random.RandomState(0)
GOOD = RNG.rand(30, N_FEATURES)


def _with(value, fraction=0.2):
    X = GOOD.copy()
    X[RNG.rand(*X.shape) < fraction] = value
    X[0, 0] = value
    return X


def _readonly_memmap():
    path = tempfile.NamedTemporaryFile(suffix=".dat", delete=False).name
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=GOOD.shape)
    mm[:] = GOOD
    mm.flush()
    return np.memmap(path, dtype=np.float64, mode="r", shape=GOOD.shape)


def _mixed_frame():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(GOOD, columns=[f"f{i}" for i in range(N_FEATURES)])
    frame["f1"] = "text"
    return frame


# name -> (input factory, expected): expected is None (works) or (exception, message regex)
OK = None
BAD_X = {
    "nan": (lambda: _with(np.nan), (ValueError, "Input X contains NaN")),
    "+inf": (lambda: _with(np.inf), (ValueError, "Input X contains infinity")),
    "-inf": (lambda: _with(-np.inf), (ValueError, "Input X contains infinity")),
    "zero rows": (lambda: np.empty((0, N_FEATURES)), (ValueError, "0 sample")),
    "zero columns": (lambda: np.empty((5, 0)), (ValueError, "0 feature")),
    "1-D": (lambda: GOOD[:, 0], (ValueError, "Expected 2D array")),
    "3-D": (lambda: GOOD.reshape(30, 3, 2), (ValueError, "dim 3")),
    "strings": (lambda: np.full((5, N_FEATURES), "a"), (ValueError, "string")),
    "object strings": (lambda: np.full((5, N_FEATURES), "a", dtype=object), (ValueError, "string")),
    "complex": (lambda: GOOD + 1j, (ValueError, "Complex data not supported")),
    "mixed pandas": (_mixed_frame, (ValueError, "could not convert string")),
    "sparse CSR": (lambda: sp.csr_matrix(GOOD), OK),
    "sparse COO": (lambda: sp.coo_matrix(GOOD), OK),
    "wrong width": (lambda: GOOD[:, :3], (ValueError, "3 features, but .* expecting 6")),
    "one row": (lambda: GOOD[:1], OK),
    "object numbers": (lambda: GOOD.astype(object), OK),
    "booleans": (lambda: GOOD > 0.5, OK),
    "integers": (lambda: (GOOD * 10).astype(np.int64), OK),
    "float16": (lambda: GOOD.astype(np.float16), OK),
    "read-only memmap": (_readonly_memmap, OK),
    "Fortran order": (lambda: np.asfortranarray(GOOD), OK),
    "non-contiguous": (lambda: np.hstack([GOOD, GOOD])[:, ::2], OK),
    "nested lists": (lambda: GOOD.tolist(), OK),
}
# Only for fitting: the model is fitted on the input itself
FIT_ONLY = {
    "one column": (lambda: GOOD[:, :1], OK),
    "beyond float32": (lambda: GOOD * 1e300, (ValueError, "beyond the float32 range")),
}

FIT_METHODS = ["fit", "partial_fit", "fit_transform", "fit_predict"]
FITTED_METHODS = ["transform", "score_samples", "score", "decision_function", "predict"]


def _assert_clean_error(call, expected):
    exc_type, pattern = expected
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert isinstance(info.value, exc_type), repr(info.value)
    assert re.search(pattern, str(info.value)), str(info.value)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert "/torch/" not in frames[-1].filename, f"raised inside torch: {frames[-1]}"


def _make(cls):
    est = cls(**SMALL)
    if cls is ConvolutionalAutoencoder:
        est.set_params(channels=(2,))
    return est


@pytest.fixture(scope="module")
def fitted():
    return {cls: _make(cls).fit(GOOD) for cls in CLASSES}


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _check_output(result, n_rows):
    if isinstance(result, float):
        assert np.isfinite(result)
        return
    result = np.asarray(result)
    assert result.shape[0] == n_rows and np.isfinite(result).all()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("method", FIT_METHODS)
@pytest.mark.parametrize("case", [*BAD_X, *FIT_ONLY])
def test_fitting_methods_on_bad_input(cls, method, case):
    if case == "wrong width":
        pytest.skip("a fresh fit accepts any width")
    make_X, expected = {**BAD_X, **FIT_ONLY}[case]
    X = make_X()
    est = _make(cls)
    if expected is None:
        result = getattr(est, method)(X)
        if result is not est:
            _check_output(result, _n_rows(X))
    else:
        _assert_clean_error(lambda: getattr(est, method)(X), expected)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("method", FITTED_METHODS)
@pytest.mark.parametrize("case", list(BAD_X))
def test_fitted_methods_on_bad_input(fitted, cls, method, case):
    make_X, expected = BAD_X[case]
    X = make_X()
    est = fitted[cls]
    if expected is None:
        _check_output(getattr(est, method)(X), _n_rows(X))
    else:
        _assert_clean_error(lambda: getattr(est, method)(X), expected)


BAD_CODES = {
    "nan": (lambda: np.full((4, 2), np.nan), (ValueError, "Input X contains NaN")),
    "inf": (lambda: np.full((4, 2), np.inf), (ValueError, "infinity")),
    "wrong width": (lambda: np.zeros((4, 5)), (ValueError, "5 features, but .* expecting 2")),
    "1-D": (lambda: np.zeros(4), (ValueError, "Expected 2D array")),
    "strings": (lambda: np.full((4, 2), "z"), (ValueError, "string")),
    "zero rows": (lambda: np.empty((0, 2)), (ValueError, "0 sample")),
    "complex": (lambda: np.zeros((4, 2)) + 1j, (ValueError, "Complex data not supported")),
    "integers": (lambda: np.ones((4, 2), dtype=int), OK),
    "float32": (lambda: np.ones((4, 2), dtype=np.float32), OK),
}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("case", list(BAD_CODES))
def test_inverse_transform_on_bad_codes(fitted, cls, case):
    make_Z, expected = BAD_CODES[case]
    if expected is None:
        _check_output(fitted[cls].inverse_transform(make_Z()), 4)
    else:
        _assert_clean_error(lambda: fitted[cls].inverse_transform(make_Z()), expected)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("param, value, pattern", [
    ("n_components", 0, "n_components"),
    ("hidden_layer_sizes", (4, -1), "hidden_layer_sizes"),
    ("hidden_layer_sizes", "wide", "hidden_layer_sizes"),
    ("learning_rate_init", -1.0, "learning_rate_init"),
    ("batch_size", 0, "batch_size"),
    ("contamination", 0.7, "contamination"),
    ("activation", "softmax", "activation"),
    ("optimizer", "lbfgs", "optimizer"),
    ("device", "tpu", "device"),
    ("validation_fraction", 1.0, "validation_fraction"),
])
def test_invalid_parameters_are_named(cls, param, value, pattern):
    est = _make(cls).set_params(**{param: value})
    _assert_clean_error(lambda: est.fit(GOOD), (ValueError, pattern))


def test_huge_inputs_at_inference_warn_instead_of_silent_inf(fitted):
    est = fitted[Autoencoder]
    with pytest.warns(RuntimeWarning, match="overflowed"):
        scores = est.score_samples(GOOD.astype(np.float32) * 1e30)
    assert np.isneginf(scores).all()
    assert np.isfinite(est.score_samples(GOOD * 1e30)).all()  # float64 input: scored in float64


def test_vae_sample_rejects_bad_counts(fitted):
    vae = fitted[VariationalAutoencoder]
    for bad in (0, -3, 2.5, "3", True):
        _assert_clean_error(lambda: vae.sample(bad), (ValueError, "n_samples"))


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

DTYPES = st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.int64, np.bool_, np.complex64])


@st.composite
def arrays(draw):
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=7))
    if np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.complexfloating):
        elements = st.floats(allow_nan=True, allow_infinity=True, width=16 if dtype == np.float16 else 32)
        if np.issubdtype(dtype, np.complexfloating):
            elements = st.complex_numbers(allow_nan=True, allow_infinity=True, width=64)
    else:
        elements = None
    return draw(hnp.arrays(dtype, shape, elements=elements))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(X=arrays(), cls=st.sampled_from(CLASSES))
def test_any_array_gives_a_result_or_a_clean_error(X, cls):
    est = _make(cls).set_params(max_iter=1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            codes = est.fit(X).transform(X)
            scores = est.score_samples(X)
    except (ValueError, TypeError) as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        assert "/torch/" not in frames[-1].filename, f"raised inside torch: {exc!r}"
        return
    assert codes.shape == (X.shape[0], 2) and codes.dtype in (np.float32, np.float64)
    assert np.isfinite(codes).all()
    assert scores.shape == (X.shape[0],) and scores.dtype == np.float64


def test_training_input_checks_do_not_copy_x():
    # the float32-range check took np.abs of all of a float64 X: a second copy of the data
    # (160 MB more for 160 MB of X), where training keeps only one float32 copy
    import tracemalloc

    X = np.random.RandomState(0).randn(20000, 50)
    model = Autoencoder(2)
    tracemalloc.start()
    try:
        model._validate_X(X, reset=True, training=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 10
    with pytest.raises(ValueError, match="beyond the float32 range"):
        model._validate_X(np.r_[X, [[-1e300] * 50]], reset=True, training=True)  # negative too
