"""sitegen: turn a folder of runs into a static HTML site (``tracker build``). See docs/site.md."""
from .build import BuildOptions, BuildReport, build

__all__ = ["BuildOptions", "BuildReport", "build"]
