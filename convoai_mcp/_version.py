"""The package version, in a module of its own so that any module can read it without importing
the package's ``__init__`` (which re-exports from the client: that would be an import circle)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
