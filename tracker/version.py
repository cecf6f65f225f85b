"""The version of tracker: one place that the package, the CLI, the site and the build metadata read."""

__version__ = "0.1.0"

# The distribution name, what pip installs and requirements name (pyproject.toml's [project] name;
# a test keeps them equal). The import name and the command stay `tracker`, but the package index's
# "tracker" is an unrelated project: a requirement or an install hint must name this one.
DISTRIBUTION = "serverless-ml-tracker"
