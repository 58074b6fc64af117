"""The package version, written once: pyproject.toml reads it (hatch) and the code imports it."""

__version__ = "0.1.0"
