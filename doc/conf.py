"""Sphinx configuration of the skautoencoder documentation.

Build with ``make docs`` (offline, warnings are errors). Links to other
projects' documentation (intersphinx) need the network, so they are off
unless the environment variable ``SKAUTOENCODER_INTERSPHINX`` is set to a
non-empty value other than ``0``.
"""

import os
import re
import warnings
from datetime import date

from sklearn.exceptions import ConvergenceWarning

import skautoencoder

# -- Project -------------------------------------------------------------
project = "skautoencoder"
author = "The skautoencoder developers"
copyright = f"{date.today().year}, {author}"
release = skautoencoder.__version__
version = ".".join(release.split(".")[:2])

# -- General -------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "sg_execution_times.rst", "examples/GALLERY_HEADER.rst"]
default_role = "literal"
root_doc = "index"

autosummary_generate = True
autodoc_typehints = "none"

numpydoc_show_class_members = False  # members are listed by the autosummary templates
numpydoc_class_members_toctree = False

# -- Links to other projects (online builds only) -------------------------
_INTERSPHINX = os.environ.get("SKAUTOENCODER_INTERSPHINX", "") not in ("", "0")
if _INTERSPHINX:
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "scipy": ("https://docs.scipy.org/doc/scipy/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
        "torch": ("https://docs.pytorch.org/docs/stable/", None),
        "matplotlib": ("https://matplotlib.org/stable/", None),
    }

# -- HTML ----------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skautoencoder {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": [], "install": [], "quickstart": [], "changelog": []}
html_static_path = []
html_show_sourcelink = False

# -- Gallery ---------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "doc_module": ("skautoencoder",),
    "reference_url": {"skautoencoder": None},
    "backreferences_dir": "generated/backreferences",
    "show_memory": False,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "abort_on_example_error": True,
    "plot_gallery": "True",
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
}

# Examples train with a small max_iter to stay fast: the ConvergenceWarning it gives is expected.
warnings.filterwarnings("ignore", category=ConvergenceWarning)


# -- Docstring fixes -------------------------------------------------------
# In reStructuredText a bare word ending in "_" is a hyperlink reference, so a
# docstring type such as "(n_samples, n_features_in_)" fails the build
# ("Unknown target name"). Escape such words before numpydoc reads them.
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w\\.])([A-Za-z]\w*)_(?=[),])")


def _escape_trailing_underscores(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if "`" not in line and not line.lstrip().startswith((">>>", "...")):
            lines[i] = _TRAILING_UNDERSCORE.sub(r"\1\\_", line)


# The estimators' pages include the methods they inherit from scikit-learn
# (get_params, set_output, ...), whose docstrings link to labels of
# scikit-learn's own site. Offline those cannot resolve: keep their text.
_REF_WITH_TEXT = re.compile(r":ref:`([^`<]+?)\s*<[^`>]+>`")
_GALLERY_REF = re.compile(r":ref:`sphx_glr_[^`]+`")
_BARE_REF = re.compile(r":ref:`[^`]+`")


def _unlink_sklearn_refs(app, what, name, obj, options, lines):
    if _INTERSPHINX or not getattr(obj, "__module__", "").startswith("sklearn."):
        return
    for i, line in enumerate(lines):
        line = _REF_WITH_TEXT.sub(r"\1 of scikit-learn", line)
        line = _GALLERY_REF.sub("scikit-learn's gallery", line)
        lines[i] = _BARE_REF.sub("scikit-learn's documentation", line)


def setup(app):
    app.connect("autodoc-process-docstring", _escape_trailing_underscores, priority=100)
    app.connect("autodoc-process-docstring", _unlink_sklearn_refs, priority=100)
