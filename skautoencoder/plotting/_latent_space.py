"""Scatter plot of two latent components, coloured by a label."""

from numbers import Integral

import numpy as np
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._utils import axes_and_figure, estimator_name

__all__ = ["LatentSpaceDisplay"]


class LatentSpaceDisplay:
    """Scatter plot of codes in a 2-D latent space, coloured by an optional label.

    Each point is one row of ``X`` at its code (:meth:`transform`). With a
    class label ``y`` (binary or multiclass), every class gets one colour and
    a legend entry; with a continuous ``y``, a colour map and a colour bar.

    Use :meth:`from_estimator` to encode rows with a fitted autoencoder; all
    parameters are stored as attributes.

    Parameters
    ----------
    codes : array-like of shape (n_samples, 2)
        The two latent coordinates of each row.

    y : array-like of shape (n_samples,), default=None
        Label of each row; ``None`` draws every point in one colour.

    component_names : tuple of str, default=None
        Labels of the x- and y-axes; ``None`` gives ``("component 0",
        "component 1")``.

    name : str, default=None
        Title of the plot; ``None`` shows no title.

    Attributes
    ----------
    scatter_ : matplotlib PathCollection
        The points, in the order of the rows.

    classes_ : ndarray or None
        The classes of ``y``, in the order of the legend; ``None`` when ``y``
        is ``None`` or continuous.

    legend_ : matplotlib Legend or None
        The legend of the classes, when drawn.

    colorbar_ : matplotlib Colorbar or None
        The colour bar of a continuous ``y``, when drawn.

    ax_ : matplotlib Axes
        Axes with the scatter plot.

    figure_ : matplotlib Figure
        Figure containing the scatter plot.

    See Also
    --------
    LossCurveDisplay : Training and validation loss per epoch.
    ReconstructionDisplay : Rows next to their reconstructions.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from skautoencoder import Autoencoder
    >>> from skautoencoder.plotting import LatentSpaceDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> ae = Autoencoder(2, max_iter=10, random_state=0).fit(X / 16)
    >>> display = LatentSpaceDisplay.from_estimator(ae, X / 16, y)
    >>> display.scatter_.get_offsets().shape
    (1797, 2)
    >>> display.classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> plt.close(display.figure_)
    """

    def __init__(self, *, codes, y=None, component_names=None, name=None):
        self.codes = codes
        self.y = y
        self.component_names = component_names
        self.name = name

    def plot(self, ax=None, *, name=None, scatter_kwargs=None, legend=True, colorbar=True):
        """Draw the scatter plot.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a new figure.

        name : str, default=None
            Title of the plot; overrides the ``name`` given at construction.

        scatter_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.scatter`
            (e.g. ``s``, ``alpha``, ``cmap``).

        legend : bool, default=True
            Draw a legend of the classes (class labels only).

        colorbar : bool, default=True
            Draw a colour bar (continuous labels only).

        Returns
        -------
        display : LatentSpaceDisplay
            Object that stores the computed values and the drawn artists.

        Raises
        ------
        ValueError
            When ``codes`` does not have two columns, or ``y`` does not have
            one entry per row or is neither a class label nor continuous.
        """
        codes = np.asarray(self.codes, dtype=float)
        if codes.ndim != 2 or codes.shape[1] != 2:
            raise ValueError(f"codes must have shape (n_samples, 2), got {codes.shape}.")
        self.ax_, self.figure_ = axes_and_figure(ax, f"{type(self).__name__}.plot")
        import matplotlib as mpl
        from matplotlib.colors import ListedColormap
        from matplotlib.lines import Line2D

        name = self.name if name is None else name
        kwargs = {"s": 12}
        self.classes_ = self.legend_ = self.colorbar_ = None
        kind = None
        if self.y is not None:
            y = column_or_1d(self.y)
            if y.shape[0] != codes.shape[0]:
                raise ValueError(f"y has {y.shape[0]} entries, but there are {codes.shape[0]} codes.")
            kind = type_of_target(y, input_name="y")
            if kind in ("binary", "multiclass"):
                self.classes_, indices = np.unique(y, return_inverse=True)
                n_classes = len(self.classes_)
                base = mpl.colormaps["tab10" if n_classes <= 10 else "tab20"]
                if n_classes <= base.N:
                    colors = base(np.arange(n_classes))
                else:
                    colors = mpl.colormaps["viridis"](np.linspace(0.0, 1.0, n_classes))
                kwargs.update(c=indices, cmap=ListedColormap(colors), vmin=-0.5, vmax=n_classes - 0.5)
            elif kind == "continuous":
                kwargs.update(c=y.astype(float), cmap="viridis")
            else:
                raise ValueError(f"y must be a class label or continuous, got a target of type {kind!r}.")
        kwargs.update(scatter_kwargs or {})
        self.scatter_ = self.ax_.scatter(codes[:, 0], codes[:, 1], **kwargs)

        if self.classes_ is not None and legend:
            cmap, norm = self.scatter_.get_cmap(), self.scatter_.norm
            handles = [
                Line2D([], [], linestyle="none", marker="o", color=cmap(norm(i)), label=str(label))
                for i, label in enumerate(self.classes_)
            ]
            self.legend_ = self.ax_.legend(handles=handles, title="y", loc="best", fontsize="small")
        elif kind == "continuous" and colorbar:
            self.colorbar_ = self.figure_.colorbar(self.scatter_, ax=self.ax_, label="y")

        names = ("component 0", "component 1") if self.component_names is None else self.component_names
        x_label, y_label = names
        self.ax_.set_xlabel(str(x_label))
        self.ax_.set_ylabel(str(y_label))
        if name is not None:
            self.ax_.set_title(name)
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, components=(0, 1), ax=None, name=None,
                       scatter_kwargs=None, legend=True, colorbar=True):
        """Encode ``X`` with a fitted autoencoder and plot two of its latent components.

        Parameters
        ----------
        estimator : estimator instance
            A fitted autoencoder with at least two components (anything with
            ``transform``, e.g. :class:`~sklearn.decomposition.PCA`).

        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to encode.

        y : array-like of shape (n_samples,), default=None
            Label of each row, for the colours.

        components : tuple of two int, default=(0, 1)
            Which columns of ``transform(X)`` to plot; by default the first two,
            also when the latent space has more than two dimensions.

        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a new figure.

        name : str, default=None
            Title of the plot; ``None`` uses the estimator's class name.

        scatter_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.scatter`.

        legend : bool, default=True
            Draw a legend of the classes (class labels only).

        colorbar : bool, default=True
            Draw a colour bar (continuous labels only).

        Returns
        -------
        display : LatentSpaceDisplay
            Object that stores the computed values and the drawn artists.

        Raises
        ------
        ValueError
            When the latent space has fewer than two dimensions, or
            ``components`` is not two distinct valid column indices.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from sklearn.datasets import load_digits
        >>> from skautoencoder import VariationalAutoencoder
        >>> from skautoencoder.plotting import LatentSpaceDisplay
        >>> X, y = load_digits(return_X_y=True)
        >>> vae = VariationalAutoencoder(4, max_iter=10, random_state=0).fit(X / 16)
        >>> display = LatentSpaceDisplay.from_estimator(vae, X / 16, y,
        ...                                             components=(2, 3))
        >>> display.ax_.get_xlabel()
        'variationalautoencoder2'
        >>> plt.close(display.figure_)
        """
        check_is_fitted(estimator)
        codes = np.asarray(estimator.transform(X))
        n_components = codes.shape[1]
        if n_components < 2:
            raise ValueError(
                f"{cls.__name__} needs at least 2 latent components; {type(estimator).__name__} has "
                f"{n_components}."
            )
        components = tuple(components)
        valid = all(isinstance(c, Integral) and -n_components <= c < n_components for c in components)
        if len(components) != 2 or not valid or components[0] % n_components == components[1] % n_components:
            raise ValueError(
                f"components must be two distinct column indices of the {n_components} latent components, "
                f"got {components!r}."
            )
        try:
            names = np.asarray(estimator.get_feature_names_out())
            component_names = tuple(str(names[c]) for c in components)
        except (AttributeError, ValueError, IndexError):
            component_names = tuple(f"component {c}" for c in components)
        return cls(
            codes=codes[:, list(components)],
            y=y,
            component_names=component_names,
            name=estimator_name(estimator, name),
        ).plot(ax=ax, scatter_kwargs=scatter_kwargs, legend=legend, colorbar=colorbar)
