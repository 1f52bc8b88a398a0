"""pytest settings for the doctests of the package (``--doctest-modules``).

``skautoencoder/dask.py`` needs the ``dask`` extra: it is not collected when
Dask is not installed.
"""

try:
    import dask.array  # noqa: F401
except ImportError:
    collect_ignore = ["dask.py"]
