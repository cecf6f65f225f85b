"""tracker: log ML runs to plain files, browse them as a static site. See README.md."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import TrackerError, UsageError
from .lazy_names import lazy_names
from .version import __version__

if TYPE_CHECKING:
    from .media.audio import Audio
    from .media.figure import Figure
    from .media.histogram import Histogram
    from .media.image import Image
    from .media.table import Table
    from .media.text import Text
    from .media.video import Video
    from .integrations.sklearn import autolog
    from .run import Run
    from .run_list import runs
    from .seeding import seed_everything
    from .session import alert, finish, init, log

# The public names are imported on first use (PEP 562), so that importing any module of the package
# loads only what it needs: the site and `tracker ls` read runs through tracker.reader without loading
# the logging client, and a training script's `import tracker` does not pay for the read path
# (tracker.runs: reader, listing cache, filter language, ~40 ms), nor for the media objects (and
# the NumPy some of them use) until a script makes one.
_LAZY_NAMES = {"Run": ".run", "init": ".session", "log": ".session", "finish": ".session", "alert": ".session",
               "runs": ".run_list",
               "seed_everything": ".seeding", "Image": ".media.image", "Table": ".media.table",
               "Figure": ".media.figure", "Histogram": ".media.histogram", "Text": ".media.text",
               "Audio": ".media.audio", "Video": ".media.video", "autolog": ".integrations.sklearn"}


__getattr__, __dir__ = lazy_names(globals(), _LAZY_NAMES)

__all__ = ["Audio", "Figure", "Histogram", "Image", "Run", "Table", "Text", "TrackerError", "UsageError", "Video",
           "alert", "autolog", "finish", "init", "log", "runs", "seed_everything", "__version__"]
