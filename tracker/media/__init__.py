"""Rich results logged beside metrics: images, tables, figures, histograms, text, audio, video and evaluation charts.

Each object copies what it needs when it is made, in the training loop, and encodes it with
``encode()`` (to run on the writer thread) into an ``Encoded``: the file's bytes and extension and
the fields of its ``media`` record (see tracker/media/base.py). Optional libraries (NumPy, Pillow,
matplotlib, plotly, pandas) are imported only by the object that was given one of theirs, and the
evaluation charts (NumPy) only when one is made.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_names import lazy_names

if TYPE_CHECKING:
    from .audio import Audio
    from .base import Encoded, Media, media_file_name
    from .charts import ConfusionMatrix, FeatureImportance, PrCurve, RocCurve
    from .figure import Figure
    from .histogram import Histogram
    from .image import Image
    from .table import Table
    from .text import Text
    from .video import Video

# Imported on first use (PEP 562), as tracker/__init__.py does: `import tracker.media` costs nothing
# until an object is made, and the charts' NumPy is loaded only for a chart.
_LAZY_NAMES = {"Audio": ".audio", "Encoded": ".base", "Media": ".base", "media_file_name": ".base",
               "ConfusionMatrix": ".charts", "FeatureImportance": ".charts", "PrCurve": ".charts",
               "RocCurve": ".charts", "Figure": ".figure", "Histogram": ".histogram", "Image": ".image",
               "Table": ".table", "Text": ".text", "Video": ".video"}


__getattr__, __dir__ = lazy_names(globals(), _LAZY_NAMES)

__all__ = ["Audio", "ConfusionMatrix", "Encoded", "FeatureImportance", "Figure", "Histogram", "Image", "Media",
           "PrCurve", "RocCurve", "Table", "Text", "Video", "media_file_name"]
