"""Rows next to their reconstructions: an image grid, or values per feature."""

import math
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing, check_array
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._utils import axes_and_figure, estimator_name

__all__ = ["ReconstructionDisplay"]

# space between images of the grid, as a fraction of the image size
_GAP = 0.1


def _image_shape(image_shape, n_features):
    """Validated ``(H, W)`` or ``(C, H, W)`` with C in {1, 3}, as a tuple."""
    shape = tuple(int(s) for s in image_shape)
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise ValueError(f"image_shape must be (H, W) or (C, H, W), got {image_shape!r}.")
    if len(shape) == 3 and shape[0] not in (1, 3):
        raise ValueError(
            f"image_shape={shape} has {shape[0]} channels; only 1 (grey) or 3 (RGB) channels, "
            "first as in ConvolutionalAutoencoder, can be shown."
        )
    if math.prod(shape) != n_features:
        raise ValueError(
            f"image_shape={shape} holds {math.prod(shape)} values, but the rows have {n_features}."
        )
    return shape


def _as_image(row, shape):
    """A flat row as an array that ``imshow`` takes: (H, W) or (H, W, 3)."""
    if len(shape) == 2:
        return row.reshape(shape)
    if shape[0] == 1:
        return row.reshape(shape[1:])
    return np.clip(row.reshape(shape).transpose(1, 2, 0), 0.0, 1.0)


class ReconstructionDisplay:
    """Rows of ``X`` next to their reconstructions by an autoencoder.

    With ``image_shape``, each row is shown as an image: the originals in the
    top row of a grid, their reconstructions below them, all on one axes with
    a common grey scale. Without it, each row is drawn as a line over the
    feature index (original solid, reconstruction dashed, one colour per
    row).

    Use :meth:`from_estimator` to reconstruct rows with a fitted autoencoder;
    all parameters are stored as attributes.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The original rows.

    X_reconstructed : array-like of shape (n_samples, n_features)
        Their reconstructions.

    image_shape : tuple of int, default=None
        ``(H, W)`` for grey images, or ``(C, H, W)`` with ``C`` equal to 1
        or 3 for channels-first images (the layout of
        :class:`~skautoencoder.ConvolutionalAutoencoder`; RGB values are
        clipped to [0, 1]). ``None`` draws the per-feature plot.

    feature_names : array-like of str, default=None
        Tick labels of the per-feature plot.

    name : str, default=None
        Title of the plot; ``None`` shows no title.

    Attributes
    ----------
    images_ : ndarray of matplotlib AxesImage of shape (2, n_samples) or None
        The images of the grid: ``images_[0]`` the originals,
        ``images_[1]`` the reconstructions; ``None`` for the per-feature plot.

    lines_ : ndarray of matplotlib Line2D of shape (n_samples, 2) or None
        The lines of the per-feature plot: ``lines_[i, 0]`` the original row
        ``i``, ``lines_[i, 1]`` its reconstruction; ``None`` for the image grid.

    ax_ : matplotlib Axes
        Axes with the plot.

    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    LossCurveDisplay : Training and validation loss per epoch.
    LatentSpaceDisplay : Scatter plot of the codes.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from skautoencoder import Autoencoder
    >>> from skautoencoder.plotting import ReconstructionDisplay
    >>> X = load_digits().data / 16
    >>> ae = Autoencoder(8, max_iter=10, random_state=0).fit(X)
    >>> display = ReconstructionDisplay.from_estimator(ae, X, image_shape=(8, 8))
    >>> display.images_.shape
    (2, 8)
    >>> plt.close(display.figure_)
    """

    def __init__(self, *, X, X_reconstructed, image_shape=None, feature_names=None, name=None):
        self.X = X
        self.X_reconstructed = X_reconstructed
        self.image_shape = image_shape
        self.feature_names = feature_names
        self.name = name

    def plot(self, ax=None, *, name=None, imshow_kwargs=None, line_kwargs=None):
        """Draw the originals and their reconstructions.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a new figure, sized to the grid.

        name : str, default=None
            Title of the plot; overrides the ``name`` given at construction.

        imshow_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.imshow` for every
            image (e.g. ``cmap``, ``vmin``, ``vmax``). By default grey images
            use the ``'gray'`` colour map and a common range: the minimum and
            maximum over originals and reconstructions.

        line_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot` for every
            line of the per-feature plot.

        Returns
        -------
        display : ReconstructionDisplay
            Object that stores the computed values and the drawn artists.

        Raises
        ------
        ValueError
            When ``X`` and ``X_reconstructed`` differ in shape, or
            ``image_shape`` does not match the number of features.
        """
        caller = f"{type(self).__name__}.plot"
        X = np.asarray(self.X, dtype=float)
        X_rec = np.asarray(self.X_reconstructed, dtype=float)
        if X.ndim != 2 or X.shape != X_rec.shape:
            raise ValueError(
                "X and X_reconstructed must be 2-D arrays of the same shape, got "
                f"{X.shape} and {X_rec.shape}."
            )
        name = self.name if name is None else name
        n_samples, n_features = X.shape
        if self.image_shape is None:
            self.ax_, self.figure_ = axes_and_figure(ax, caller)
            self.images_ = None
            self._plot_features(X, X_rec, line_kwargs)
        else:
            shape = _image_shape(self.image_shape, n_features)
            height, width = shape[-2:]
            figsize = (max(3.0, 1.1 * n_samples * width / height + 1.4), 2.6)
            self.ax_, self.figure_ = axes_and_figure(ax, caller, figsize=figsize)
            self.lines_ = None
            self._plot_images(X, X_rec, shape, imshow_kwargs)
        if name is not None:
            self.ax_.set_title(name)
        return self

    def _plot_images(self, X, X_rec, shape, imshow_kwargs):
        height, width = shape[-2:]
        gap_x, gap_y = _GAP * width, _GAP * height
        kwargs = {"interpolation": "nearest"}
        if len(shape) == 2 or shape[0] == 1:
            both = np.concatenate([X, X_rec])
            kwargs.update(cmap="gray", vmin=float(np.nanmin(both)), vmax=float(np.nanmax(both)))
        kwargs.update(imshow_kwargs or {})
        n_samples = X.shape[0]
        self.images_ = np.empty((2, n_samples), dtype=object)
        for r, rows in enumerate((X, X_rec)):
            top = r * (height + gap_y)
            for j in range(n_samples):
                left = j * (width + gap_x)
                self.images_[r, j] = self.ax_.imshow(
                    _as_image(rows[j], shape), extent=(left, left + width, top + height, top), **kwargs
                )
        self.ax_.set_xlim(-gap_x / 2, n_samples * (width + gap_x) - gap_x / 2)
        self.ax_.set_ylim(2 * (height + gap_y) - gap_y / 2, -gap_y / 2)
        self.ax_.set_aspect("equal")
        self.ax_.set_xticks([])
        self.ax_.set_yticks([height / 2, height + gap_y + height / 2], ["original", "reconstruction"])
        self.ax_.tick_params(left=False)
        for spine in self.ax_.spines.values():
            spine.set_visible(False)

    def _plot_features(self, X, X_rec, line_kwargs):
        from matplotlib.lines import Line2D  # matplotlib is there: plot() made the axes

        features = np.arange(X.shape[1])
        self.lines_ = np.empty((X.shape[0], 2), dtype=object)
        for i in range(X.shape[0]):
            (original,) = self.ax_.plot(features, X[i], marker=".", **(line_kwargs or {}))
            (reconstruction,) = self.ax_.plot(
                features, X_rec[i], linestyle="--", color=original.get_color(), **(line_kwargs or {})
            )
            self.lines_[i] = original, reconstruction
        handles = [Line2D([], [], color="0.3", marker=".", label="original"),
                   Line2D([], [], color="0.3", linestyle="--", label="reconstruction")]
        self.ax_.legend(handles=handles)
        self.ax_.set_xlabel("feature")
        self.ax_.set_ylabel("value")
        if self.feature_names is not None:
            self.ax_.set_xticks(features, [str(f) for f in self.feature_names], rotation=90)

    @classmethod
    def from_estimator(cls, estimator, X, *, n_samples=8, image_shape=None, ax=None, name=None,
                       imshow_kwargs=None, line_kwargs=None):
        """Reconstruct the first rows of ``X`` with a fitted autoencoder and plot them.

        The reconstructions are ``estimator.inverse_transform(estimator.transform(X))``
        (for a :class:`~skautoencoder.VariationalAutoencoder`, the decoded
        posterior means).

        Parameters
        ----------
        estimator : estimator instance
            A fitted autoencoder (anything with ``transform`` and
            ``inverse_transform``, e.g. :class:`~sklearn.decomposition.PCA`).

        X : {array-like, sparse matrix} of shape (n_rows, n_features)
            Rows to reconstruct; the first ``n_samples`` are shown.

        n_samples : int or None, default=8
            Number of rows shown; ``None`` shows all rows of ``X``.

        image_shape : tuple of int, default=None
            ``(H, W)`` or ``(C, H, W)`` to show images (see the class
            documentation); ``None`` uses the estimator's ``image_shape``
            parameter when it has one (:class:`~skautoencoder.ConvolutionalAutoencoder`)
            and draws the per-feature plot otherwise.

        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a new figure.

        name : str, default=None
            Title of the plot; ``None`` uses the estimator's class name.

        imshow_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.imshow`.

        line_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot`.

        Returns
        -------
        display : ReconstructionDisplay
            Object that stores the computed values and the drawn artists.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.preprocessing import StandardScaler
        >>> from skautoencoder import Autoencoder
        >>> from skautoencoder.plotting import ReconstructionDisplay
        >>> X = StandardScaler().fit_transform(load_iris().data)
        >>> ae = Autoencoder(2, hidden_layer_sizes=(16,), max_iter=20,
        ...                  random_state=0).fit(X)
        >>> display = ReconstructionDisplay.from_estimator(ae, X, n_samples=3)
        >>> display.lines_.shape
        (3, 2)
        >>> plt.close(display.figure_)
        """
        check_is_fitted(estimator)
        if n_samples is not None and (
            not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1
        ):
            raise ValueError(f"n_samples must be a positive integer or None, got {n_samples!r}.")
        n_rows = _num_samples(X)
        rows = np.arange(n_rows if n_samples is None else min(int(n_samples), n_rows))
        X_shown = _safe_indexing(X, rows)
        X_rec = estimator.inverse_transform(estimator.transform(X_shown))
        # NaN: unobserved entries (missing='mask'), left blank in the plot
        X_shown = check_array(X_shown, accept_sparse=True, dtype=None, ensure_all_finite="allow-nan")
        if sp.issparse(X_shown):
            coo = X_shown.tocoo()
            X_shown = X_shown.toarray()
            if getattr(estimator, "missing", None) == "mask":  # unstored entries are unobserved there
                observed = np.zeros(X_shown.shape, dtype=bool)
                observed[coo.row, coo.col] = True
                X_shown = np.where(observed, X_shown, np.nan)
        if image_shape is None:
            image_shape = getattr(estimator, "image_shape", None)
        return cls(
            X=X_shown,
            X_reconstructed=X_rec,
            image_shape=image_shape,
            feature_names=getattr(estimator, "feature_names_in_", None),
            name=estimator_name(estimator, name),
        ).plot(ax=ax, imshow_kwargs=imshow_kwargs, line_kwargs=line_kwargs)
