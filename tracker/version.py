"""The version of tracker: one place that the package, the CLI, the site and the build metadata read."""

__version__ = "0.1.0"
