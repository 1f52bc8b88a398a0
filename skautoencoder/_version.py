"""The version of skautoencoder (a module of its own: read by packaging and by the model files)."""

__version__ = "0.1.0.dev0"
