"""Helpers shared by the Displays: the lazy matplotlib import, axes creation."""

__all__ = []

_INSTALL_HINT = (
    "Install it with `pip install matplotlib`, or install skautoencoder with the "
    "`plot` extra: `pip install \"skautoencoder[plot]\"`."
)


def import_pyplot(caller):
    """``matplotlib.pyplot``, or an ImportError that names the ``plot`` extra.

    Parameters
    ----------
    caller : str
        Name of the function that needs matplotlib, for the error message.

    Returns
    -------
    pyplot : module
        ``matplotlib.pyplot``.

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"{caller} requires matplotlib, which is not installed. {_INSTALL_HINT}") from exc
    return plt


def axes_and_figure(ax, caller, figsize=None):
    """``(ax, figure)``: the given axes, or new ones on a new figure.

    Parameters
    ----------
    ax : matplotlib Axes or None
        Axes to draw on; ``None`` creates a figure with one axes.
    caller : str
        Name of the plotting method, for the error message when matplotlib is missing.
    figsize : tuple of float, optional
        Size of a new figure, in inches.

    Returns
    -------
    ax : matplotlib Axes
    figure : matplotlib Figure
    """
    plt = import_pyplot(caller)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax, ax.figure


def estimator_name(estimator, name):
    """``name`` when given, else the estimator's class name."""
    return type(estimator).__name__ if name is None else name
