"""pytest settings for the doctests of the Displays (``--doctest-modules``).

They draw with matplotlib's non-interactive Agg backend, and are not collected
when matplotlib (the ``plot`` extra) is not installed.
"""

try:
    import matplotlib
except ImportError:
    collect_ignore_glob = ["*.py"]
else:
    matplotlib.use("Agg")
