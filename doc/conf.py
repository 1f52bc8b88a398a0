"""Sphinx configuration (the full site, gallery and theme come with the docs work)."""

project = "skautoencoder"
author = "The skautoencoder developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc"]
autosummary_generate = True
numpydoc_show_class_members = False
exclude_patterns = ["_build"]
