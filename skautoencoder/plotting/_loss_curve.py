"""Training and validation loss per epoch."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._utils import axes_and_figure, estimator_name

__all__ = ["LossCurveDisplay"]


class LossCurveDisplay:
    """Loss curves: the training loss and the validation loss of each epoch.

    Use :meth:`from_estimator` to plot the history of a fitted autoencoder
    (its ``loss_curve_`` and ``validation_loss_curve_``); all parameters are
    stored as attributes. Both curves are losses: lower is better.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Mean training loss of each epoch.

    validation_loss_curve : array-like of shape (n_validation_epochs,), default=None
        Validation loss of each epoch; ``None`` or empty when the estimator
        trained without early stopping.

    name : str, default=None
        Title of the plot; ``None`` shows no title.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The training loss curve.

    validation_line_ : matplotlib Line2D or None
        The validation loss curve; ``None`` without validation losses.

    best_marker_ : matplotlib Line2D or None
        A marker on the lowest validation loss (the epoch whose weights an
        estimator with ``early_stopping=True`` keeps); ``None`` without
        validation losses.

    ax_ : matplotlib Axes
        Axes with the curves.

    figure_ : matplotlib Figure
        Figure containing the curves.

    See Also
    --------
    ReconstructionDisplay : Rows next to their reconstructions.
    LatentSpaceDisplay : Scatter plot of the codes.

    Notes
    -----
    Epochs are numbered from 1 on the x-axis, for both curves. Each call of
    ``fit`` with ``early_stopping=True`` adds one validation loss per epoch,
    while ``partial_fit`` adds training losses only, so after mixing the two
    the curves have different lengths and their epochs are not aligned.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from skautoencoder import Autoencoder
    >>> from skautoencoder.plotting import LossCurveDisplay
    >>> X = load_digits().data / 16
    >>> ae = Autoencoder(4, max_iter=10, random_state=0).fit(X)
    >>> display = LossCurveDisplay.from_estimator(ae)
    >>> display.line_.get_ydata().tolist() == ae.loss_curve_
    True
    >>> plt.close(display.figure_)

    Or from a history recorded elsewhere:

    >>> display = LossCurveDisplay(loss_curve=[0.08, 0.05, 0.04],
    ...                            validation_loss_curve=[0.07, 0.05, 0.045])
    >>> display.plot()
    <...LossCurveDisplay object at ...>
    >>> display.line_.get_ydata()
    array([0.08, 0.05, 0.04])
    >>> plt.close(display.figure_)
    """

    def __init__(self, *, loss_curve, validation_loss_curve=None, name=None):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.name = name

    def plot(self, ax=None, *, name=None, line_kwargs=None, validation_line_kwargs=None, log_scale=False):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a new figure.

        name : str, default=None
            Title of the plot; overrides the ``name`` given at construction.

        line_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot` for the
            training curve.

        validation_line_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot` for the
            validation curve.

        log_scale : bool, default=False
            Use a logarithmic y-axis.

        Returns
        -------
        display : LossCurveDisplay
            Object that stores the computed values and the drawn artists.
        """
        self.ax_, self.figure_ = axes_and_figure(ax, f"{type(self).__name__}.plot")
        name = self.name if name is None else name
        loss = np.asarray(self.loss_curve, dtype=float).ravel()
        validation = self.validation_loss_curve
        validation = None if validation is None else np.asarray(validation, dtype=float).ravel()

        kwargs = {"label": "training loss", **(line_kwargs or {})}
        (self.line_,) = self.ax_.plot(np.arange(1, loss.size + 1), loss, **kwargs)
        self.validation_line_ = self.best_marker_ = None
        if validation is not None and validation.size:
            kwargs = {"label": "validation loss", **(validation_line_kwargs or {})}
            (self.validation_line_,) = self.ax_.plot(np.arange(1, validation.size + 1), validation, **kwargs)
            best = int(np.nanargmin(validation))
            (self.best_marker_,) = self.ax_.plot(
                [best + 1], [validation[best]], linestyle="none", marker="o", markerfacecolor="none",
                color=self.validation_line_.get_color(), label=f"best validation (epoch {best + 1})",
            )
        if log_scale:
            self.ax_.set_yscale("log")
        self.ax_.xaxis.get_major_locator().set_params(integer=True)  # epochs are whole numbers
        self.ax_.set_xlabel("epoch")
        self.ax_.set_ylabel("loss")
        if name is not None:
            self.ax_.set_title(name)
        self.ax_.legend()
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, line_kwargs=None,
                       validation_line_kwargs=None, log_scale=False):
        """Plot the loss curves of a fitted autoencoder.

        Parameters
        ----------
        estimator : estimator instance
            A fitted autoencoder of this package, a
            :class:`~sklearn.pipeline.Pipeline` ending in one, or any
            estimator whose ``loss_curve_`` (and, optionally,
            ``validation_loss_curve_``) hold losses per epoch.

        ax : matplotlib Axes, default=None
            Axes to draw on; ``None`` creates a new figure.

        name : str, default=None
            Title of the plot; ``None`` uses the estimator's class name.

        line_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot` for the
            training curve.

        validation_line_kwargs : dict, default=None
            Keyword arguments of :meth:`matplotlib.axes.Axes.plot` for the
            validation curve.

        log_scale : bool, default=False
            Use a logarithmic y-axis.

        Returns
        -------
        display : LossCurveDisplay
            Object that stores the computed values and the drawn artists.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from sklearn.datasets import load_digits
        >>> from skautoencoder import Autoencoder
        >>> from skautoencoder.plotting import LossCurveDisplay
        >>> X = load_digits().data / 16
        >>> ae = Autoencoder(4, max_iter=15, random_state=0).fit(X)
        >>> display = LossCurveDisplay.from_estimator(ae)
        >>> len(display.line_.get_xdata()) == ae.n_iter_
        True
        >>> plt.close(display.figure_)
        """
        if hasattr(estimator, "steps"):  # a pipeline: the history is its final step's
            estimator = estimator.steps[-1][1]
        name = estimator_name(estimator, name)
        check_is_fitted(estimator, "loss_curve_")
        display = cls(
            loss_curve=estimator.loss_curve_,
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            name=name,
        )
        return display.plot(ax=ax, line_kwargs=line_kwargs, validation_line_kwargs=validation_line_kwargs,
                            log_scale=log_scale)
