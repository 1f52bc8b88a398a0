"""Plots of fitted autoencoders, in scikit-learn's Display style.

Each Display is built with ``from_estimator(...)``, draws with
``plot(ax=None, ...)`` (which returns the Display) and keeps what it drew in
attributes (``ax_``, ``figure_`` and the artists), like
:class:`sklearn.metrics.RocCurveDisplay`.

matplotlib is optional: install it, or the ``plot`` extra
(``pip install "skautoencoder[plot]"``). Importing this module does not import
matplotlib; drawing without it raises an ImportError that says how to install it.
"""

from ._latent_space import LatentSpaceDisplay
from ._loss_curve import LossCurveDisplay
from ._outlier_explanation import OutlierExplanationDisplay
from ._reconstruction import ReconstructionDisplay

__all__ = ["LatentSpaceDisplay", "LossCurveDisplay", "OutlierExplanationDisplay", "ReconstructionDisplay"]
