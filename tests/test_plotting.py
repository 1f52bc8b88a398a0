"""The Displays of ``skautoencoder.plotting``: what they draw, on the Agg backend."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError

from skautoencoder import Autoencoder, ConvolutionalAutoencoder, VariationalAutoencoder
from skautoencoder.plotting import (
    LatentSpaceDisplay,
    LossCurveDisplay,
    OutlierExplanationDisplay,
    ReconstructionDisplay,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(16,), max_iter=8, random_state=0)


@pytest.fixture
def plt():
    """pyplot on the Agg backend; every figure is closed after the test."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


@pytest.fixture(scope="module")
def ae2(digits):
    """Two components, trained with early stopping (so with validation scores)."""
    return Autoencoder(2, **SMALL).fit(digits[0])


@pytest.fixture(scope="module")
def ae4(digits):
    return Autoencoder(4, **SMALL).fit(digits[0])


# ----------------------------------------------------------------------
# matplotlib stays optional
# ----------------------------------------------------------------------
def test_importing_the_package_does_not_import_matplotlib():
    code = "import sys, skautoencoder, skautoencoder.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("make", [
    lambda: LossCurveDisplay(loss_curve=[1.0, 0.5]).plot(),
    lambda: ReconstructionDisplay(X=np.zeros((1, 4)), X_reconstructed=np.zeros((1, 4))).plot(),
    lambda: LatentSpaceDisplay(codes=np.zeros((3, 2))).plot(),
])
def test_missing_matplotlib_names_the_plot_extra(monkeypatch, make):
    for module in ("matplotlib", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, module, None)  # "import matplotlib" now fails
    with pytest.raises(ImportError, match=r"requires matplotlib.*skautoencoder\[plot\]"):
        make()


# ----------------------------------------------------------------------
# LossCurveDisplay
# ----------------------------------------------------------------------
def test_loss_curve_draws_the_history(plt, ae2):
    display = LossCurveDisplay.from_estimator(ae2)
    assert display.figure_ is display.ax_.figure
    assert len(ae2.validation_loss_curve_) == len(ae2.loss_curve_) == ae2.n_iter_
    lines = display.ax_.get_lines()
    assert lines == [display.line_, display.validation_line_, display.best_marker_]

    epochs = np.arange(1, ae2.n_iter_ + 1)
    np.testing.assert_array_equal(display.line_.get_xdata(), epochs)
    np.testing.assert_array_equal(display.line_.get_ydata(), ae2.loss_curve_)
    np.testing.assert_array_equal(display.validation_line_.get_xdata(), epochs)
    np.testing.assert_array_equal(display.validation_line_.get_ydata(), ae2.validation_loss_curve_)

    best = int(np.argmin(ae2.validation_loss_curve_))
    np.testing.assert_array_equal(display.best_marker_.get_xdata(), [best + 1])
    np.testing.assert_array_equal(display.best_marker_.get_ydata(), [min(ae2.validation_loss_curve_)])
    assert min(ae2.validation_loss_curve_) == pytest.approx(ae2.best_loss_)

    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == ["training loss", "validation loss", f"best validation (epoch {best + 1})"]
    assert display.ax_.get_title() == "Autoencoder"
    assert (display.ax_.get_xlabel(), display.ax_.get_ylabel()) == ("epoch", "loss")
    assert display.ax_.get_yscale() == "linear"


def test_loss_curve_without_validation(plt, digits):
    ae = Autoencoder(2, early_stopping=False, **SMALL).fit(digits[0])
    assert ae.validation_loss_curve_ == []
    display = LossCurveDisplay.from_estimator(ae, name="no early stopping", log_scale=True)
    assert display.validation_line_ is None and display.best_marker_ is None
    assert display.ax_.get_lines() == [display.line_]
    np.testing.assert_array_equal(display.line_.get_ydata(), ae.loss_curve_)
    assert display.ax_.get_title() == "no early stopping"
    assert display.ax_.get_yscale() == "log"


def test_loss_curve_accepts_a_pipeline_and_counts_whole_epochs(plt, digits):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), Autoencoder(2, **SMALL)).fit(digits[0])
    display = LossCurveDisplay.from_estimator(pipe)
    assert display.line_.get_ydata().tolist() == pipe[-1].loss_curve_
    assert display.ax_.get_title() == "Autoencoder"
    display.figure_.canvas.draw()
    ticks = [t for t in display.ax_.get_xticks() if display.ax_.get_xlim()[0] <= t <= display.ax_.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_loss_curve_after_partial_fit(plt, digits):
    ae = Autoencoder(2, **SMALL)
    for chunk in np.array_split(digits[0], 3):
        ae.partial_fit(chunk)
    display = LossCurveDisplay.from_estimator(ae)
    assert display.line_.get_ydata().tolist() == ae.loss_curve_
    assert len(ae.loss_curve_) == 3
    assert display.validation_line_ is None


def test_loss_curve_on_given_axes_with_kwargs(plt):
    fig, (left, right) = plt.subplots(1, 2)
    display = LossCurveDisplay(loss_curve=[3.0, 2.0, 1.5], validation_loss_curve=[2.5, 2.6, 2.7], name="given")
    returned = display.plot(ax=right, line_kwargs={"color": "red"}, validation_line_kwargs={"linestyle": ":"})
    assert returned is display
    assert display.ax_ is right and display.figure_ is fig
    assert len(left.get_lines()) == 0 and len(right.get_lines()) == 3
    assert display.line_.get_color() == "red"
    assert display.validation_line_.get_linestyle() == ":"
    np.testing.assert_array_equal(display.best_marker_.get_xdata(), [1])  # the first epoch was the best
    assert display.ax_.get_title() == "given"


def test_loss_curve_needs_a_fitted_estimator(plt):
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(Autoencoder())


# ----------------------------------------------------------------------
# ReconstructionDisplay
# ----------------------------------------------------------------------
def test_reconstruction_image_grid(plt, ae4, digits):
    X = digits[0]
    display = ReconstructionDisplay.from_estimator(ae4, X, n_samples=5, image_shape=(8, 8))
    assert display.lines_ is None
    assert display.images_.shape == (2, 5)
    assert display.ax_.get_images() == list(display.images_.ravel())
    expected = ae4.inverse_transform(ae4.transform(X[:5]))
    for j in range(5):
        np.testing.assert_array_equal(display.images_[0, j].get_array(), X[j].reshape(8, 8))
        np.testing.assert_allclose(display.images_[1, j].get_array(), expected[j].reshape(8, 8))
    # one grey scale for all images: the range of originals and reconstructions
    both = np.concatenate([X[:5], expected])
    for image in display.images_.ravel():
        assert image.get_clim() == pytest.approx((both.min(), both.max()))
        assert image.get_cmap().name == "gray"
    # images side by side, originals above reconstructions (the y-axis points down)
    lefts = [image.get_extent()[0] for image in display.images_[0]]
    assert lefts == sorted(lefts) and len(set(lefts)) == 5
    assert display.images_[0, 0].get_extent()[3] < display.images_[1, 0].get_extent()[3]
    assert [t.get_text() for t in display.ax_.get_yticklabels()] == ["original", "reconstruction"]
    assert display.ax_.get_title() == "Autoencoder"


def test_reconstruction_n_samples(plt, ae4, digits):
    X = digits[0][:12]

    def shown(X, **kwargs):
        return ReconstructionDisplay.from_estimator(ae4, X, image_shape=(8, 8), **kwargs).images_.shape

    assert shown(X) == (2, 8)
    assert shown(X, n_samples=None) == (2, 12)
    assert shown(X[:3], n_samples=50) == (2, 3)
    for bad in (0, 2.5, "3", True):
        with pytest.raises(ValueError, match="n_samples"):
            ReconstructionDisplay.from_estimator(ae4, X, n_samples=bad)


def test_reconstruction_per_feature_plot(plt, ae4, digits):
    X = digits[0]
    display = ReconstructionDisplay.from_estimator(ae4, X, n_samples=3)
    assert display.images_ is None and display.ax_.get_images() == []
    assert display.lines_.shape == (3, 2)
    assert len(display.ax_.get_lines()) == 6
    expected = ae4.inverse_transform(ae4.transform(X[:3]))
    for i, (original, reconstruction) in enumerate(display.lines_):
        np.testing.assert_array_equal(original.get_xdata(), np.arange(64))
        np.testing.assert_array_equal(original.get_ydata(), X[i])
        np.testing.assert_allclose(reconstruction.get_ydata(), expected[i])
        assert reconstruction.get_color() == original.get_color()
        assert reconstruction.get_linestyle() == "--"
    assert [t.get_text() for t in display.ax_.get_legend().get_texts()] == ["original", "reconstruction"]


def test_reconstruction_feature_names_from_pandas(plt):
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.rand(60, 4), columns=["a", "b", "c", "d"])
    ae = Autoencoder(2, **SMALL).fit(X)
    display = ReconstructionDisplay.from_estimator(ae, X, n_samples=2)
    assert [t.get_text() for t in display.ax_.get_xticklabels()] == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(display.lines_[1, 0].get_ydata(), X.iloc[1].to_numpy())


def test_reconstruction_of_rows_with_missing_entries(plt, digits):
    # missing='mask' models take NaN; the display refused it ("Input contains NaN")
    X = digits[0][:100].copy()
    X[np.random.RandomState(0).rand(*X.shape) < 0.3] = np.nan
    ae = Autoencoder(3, missing="mask", **SMALL).fit(X)
    display = ReconstructionDisplay.from_estimator(ae, X, n_samples=2, image_shape=(8, 8))
    np.testing.assert_array_equal(display.images_[0, 1].get_array().filled(np.nan), X[1].reshape(8, 8))
    expected = ae.inverse_transform(ae.transform(X[:2]))
    assert display.images_[0, 0].get_clim() == pytest.approx(
        (np.nanmin([X[:2], expected]), np.nanmax([X[:2], expected])))  # the grey scale ignores NaN
    lines = ReconstructionDisplay.from_estimator(ae, X, n_samples=2).lines_
    np.testing.assert_array_equal(lines[0, 0].get_ydata(), X[0])
    # the same rows sparse, unobserved = unstored: blank too (they were drawn as zeros); stored
    # zeros (the digits' background) stay observed zeros
    rows, cols = np.nonzero(~np.isnan(X))
    sparse = sp.csr_matrix((X[rows, cols], (rows, cols)), shape=X.shape)
    shown = ReconstructionDisplay.from_estimator(ae, sparse, n_samples=2, image_shape=(8, 8)).X
    np.testing.assert_array_equal(shown, X[:2])


def test_reconstruction_takes_the_image_shape_of_a_convolutional_autoencoder(plt, digits):
    cae = ConvolutionalAutoencoder(4, image_shape=(8, 8), channels=(4,), max_iter=2, random_state=0)
    cae.fit(digits[0][:100])
    display = ReconstructionDisplay.from_estimator(cae, digits[0], n_samples=3)
    assert display.images_.shape == (2, 3)
    assert display.images_[0, 0].get_array().shape == (8, 8)


def test_reconstruction_rgb_and_single_channel_images(plt):
    rng = np.random.RandomState(0)
    X = rng.uniform(-0.5, 1.5, size=(2, 3 * 4 * 5))  # channels first
    display = ReconstructionDisplay(X=X, X_reconstructed=X * 0.5, image_shape=(3, 4, 5)).plot()
    rgb = display.images_[0, 1].get_array()
    assert rgb.shape == (4, 5, 3)
    np.testing.assert_allclose(rgb, np.clip(X[1].reshape(3, 4, 5).transpose(1, 2, 0), 0, 1))
    display = ReconstructionDisplay(X=X[:, :20], X_reconstructed=X[:, :20], image_shape=(1, 4, 5)).plot()
    assert display.images_[1, 0].get_array().shape == (4, 5)


def test_reconstruction_with_pca_and_given_axes(plt, digits):
    X = digits[0]
    pca = PCA(5).fit(X)
    fig, ax = plt.subplots()
    display = ReconstructionDisplay.from_estimator(pca, X, n_samples=4, image_shape=(8, 8), ax=ax,
                                                   imshow_kwargs={"cmap": "viridis"})
    assert display.ax_ is ax and display.figure_ is fig
    assert display.images_[1, 0].get_cmap().name == "viridis"
    assert display.ax_.get_title() == "PCA"


@pytest.mark.parametrize("image_shape, match", [
    ((8, 9), "holds 72 values"),
    ((2, 4, 8), "2 channels"),
    ((64,), r"\(H, W\) or \(C, H, W\)"),
])
def test_reconstruction_rejects_bad_image_shapes(plt, image_shape, match):
    X = np.zeros((2, 64))
    with pytest.raises(ValueError, match=match):
        ReconstructionDisplay(X=X, X_reconstructed=X, image_shape=image_shape).plot()


def test_reconstruction_rejects_mismatched_arrays(plt):
    with pytest.raises(ValueError, match="same shape"):
        ReconstructionDisplay(X=np.zeros((2, 4)), X_reconstructed=np.zeros((3, 4))).plot()


# ----------------------------------------------------------------------
# LatentSpaceDisplay
# ----------------------------------------------------------------------
def test_latent_space_with_classes(plt, ae2, digits):
    X, y = digits
    display = LatentSpaceDisplay.from_estimator(ae2, X, y)
    np.testing.assert_allclose(display.scatter_.get_offsets(), ae2.transform(X))
    assert list(display.ax_.collections) == [display.scatter_]
    np.testing.assert_array_equal(display.classes_, np.arange(10))
    # one colour per class, the legend in the order of classes_
    display.figure_.canvas.draw()  # maps the class indices to colours
    colors = display.scatter_.get_facecolors()
    assert len(colors) == len(y)
    for label in range(10):
        assert len(np.unique(colors[y == label], axis=0)) == 1
    assert len(np.unique(colors, axis=0)) == 10
    assert display.legend_ is display.ax_.get_legend()
    assert [t.get_text() for t in display.legend_.get_texts()] == [str(c) for c in range(10)]
    handle_colors = [h.get_color() for h in display.legend_.legend_handles]
    np.testing.assert_allclose(handle_colors[3], colors[np.flatnonzero(y == 3)[0]])
    assert display.colorbar_ is None
    assert (display.ax_.get_xlabel(), display.ax_.get_ylabel()) == ("autoencoder0", "autoencoder1")
    assert display.ax_.get_title() == "Autoencoder"


def test_latent_space_first_two_of_more_components(plt, ae4, digits):
    X, y = digits
    codes = ae4.transform(X)
    display = LatentSpaceDisplay.from_estimator(ae4, X)
    np.testing.assert_allclose(display.scatter_.get_offsets(), codes[:, :2])
    assert display.classes_ is None and display.legend_ is None and display.colorbar_ is None
    display = LatentSpaceDisplay.from_estimator(ae4, X, y, components=(3, 1), legend=False)
    np.testing.assert_allclose(display.scatter_.get_offsets(), codes[:, [3, 1]])
    assert display.legend_ is None and display.ax_.get_legend() is None
    assert display.ax_.get_xlabel() == "autoencoder3"


def test_latent_space_continuous_label(plt, ae2, digits):
    X, _ = digits
    values = X.mean(axis=1)
    display = LatentSpaceDisplay.from_estimator(ae2, X, values, scatter_kwargs={"s": 3})
    assert display.classes_ is None and display.legend_ is None
    assert display.colorbar_ is not None and display.colorbar_.mappable is display.scatter_
    np.testing.assert_allclose(display.scatter_.get_array(), values)
    np.testing.assert_array_equal(display.scatter_.get_sizes(), [3])


def test_latent_space_string_labels_and_plain_codes(plt):
    codes = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    display = LatentSpaceDisplay(codes=codes, y=["b", "a", "b", "c"], component_names=("u", "v")).plot()
    np.testing.assert_array_equal(display.classes_, ["a", "b", "c"])
    assert [t.get_text() for t in display.legend_.get_texts()] == ["a", "b", "c"]
    assert (display.ax_.get_xlabel(), display.ax_.get_ylabel()) == ("u", "v")
    assert display.ax_.get_title() == ""
    display.figure_.canvas.draw()
    colors = display.scatter_.get_facecolors()
    np.testing.assert_array_equal(colors[0], colors[2])
    assert len(np.unique(colors, axis=0)) == 3


def test_latent_space_with_a_vae_and_pca(plt, digits):
    X, y = digits
    vae = VariationalAutoencoder(3, **SMALL).fit(X)
    display = LatentSpaceDisplay.from_estimator(vae, X, y)
    np.testing.assert_allclose(display.scatter_.get_offsets(), vae.transform(X)[:, :2])  # posterior means
    display = LatentSpaceDisplay.from_estimator(PCA(2).fit(X), X, y)
    assert display.ax_.get_xlabel() == "pca0"


def test_latent_space_errors(plt, digits):
    X, y = digits
    ae1 = Autoencoder(1, **SMALL).fit(X)
    with pytest.raises(ValueError, match="at least 2 latent components"):
        LatentSpaceDisplay.from_estimator(ae1, X)
    ae3 = Autoencoder(3, **SMALL).fit(X)
    for components in [(0, 0), (0, -3), (0, 3), (0, 1, 2), (0.0, 1)]:
        with pytest.raises(ValueError, match="components must be two distinct"):
            LatentSpaceDisplay.from_estimator(ae3, X, components=components)
    with pytest.raises(ValueError, match="y has 5 entries"):
        LatentSpaceDisplay.from_estimator(ae3, X, y[:5])
    with pytest.raises(ValueError, match="shape"):
        LatentSpaceDisplay(codes=np.zeros((4, 3))).plot()
    with pytest.raises(NotFittedError):
        LatentSpaceDisplay.from_estimator(Autoencoder(2), X)


def test_outlier_explanation_from_pipeline_names_the_planted_feature(plt):
    # a scaled pipeline: the contributions are on the model's scale, not in raw units
    from sklearn.datasets import load_wine
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = load_wine(as_frame=True).data
    pipe = make_pipeline(StandardScaler(), Autoencoder(3, **SMALL)).fit(X)
    row = X.iloc[[0]].copy()
    row["hue"] = X["hue"].min()  # a small raw value, far from what the other features imply
    display = OutlierExplanationDisplay.from_estimator(pipe, row, max_features=4)
    expected = pipe[-1].score_features(pipe[:-1].transform(row))[0]
    np.testing.assert_allclose(display.contributions_, expected)
    assert len(display.bars_) == 4 and display.order_.tolist() == np.argsort(expected)[:4].tolist()
    labels = [t.get_text() for t in display.ax_.get_yticklabels()]
    assert labels[-1] == X.columns[display.order_[0]]  # the most abnormal on top
    assert "hue" in labels
    widths = [bar.get_width() for bar in display.bars_]
    assert widths == sorted(widths) and widths[0] <= 0


def test_outlier_explanation_several_rows_and_from_predictions(plt):
    X = np.random.default_rng(0).normal(size=(80, 5))
    ae = Autoencoder(2, **SMALL).fit(X)
    display = OutlierExplanationDisplay.from_estimator(ae, X[:10], max_features=None)
    np.testing.assert_allclose(display.contributions_, ae.score_features(X[:10]).mean(axis=0))
    assert len(display.bars_) == 5 and "mean of 10 rows" in display.ax_.get_xlabel()
    assert sorted(t.get_text() for t in display.ax_.get_yticklabels()) == [f"x{j}" for j in range(5)]
    display = OutlierExplanationDisplay.from_predictions([[-0.1, -2.0, 0.0]], feature_names=["a", "b", "c"],
                                                         name="row")
    assert display.order_.tolist() == [1, 0, 2] and display.ax_.get_title() == "row"


def test_outlier_explanation_errors(plt):
    with pytest.raises(ValueError, match="feature_names has 2 names"):
        OutlierExplanationDisplay(feature_scores=np.zeros((1, 3)), feature_names=["a", "b"]).plot()
    with pytest.raises(ValueError, match="max_features"):
        OutlierExplanationDisplay(feature_scores=np.zeros((1, 3))).plot(max_features=0)
    for bad in (np.nan, np.inf):  # drew NaN bars, or none, silently
        with pytest.raises(ValueError, match="NaN or infinite"):
            OutlierExplanationDisplay.from_predictions([[-0.1, bad, 0.0]])
    with pytest.raises(TypeError, match="no score_features"):
        OutlierExplanationDisplay.from_estimator(PCA(2).fit(np.eye(4)), np.eye(4))
    with pytest.raises(NotFittedError):
        OutlierExplanationDisplay.from_estimator(Autoencoder(2), np.eye(4))
