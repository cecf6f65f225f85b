"""``Figure``: a plotly figure (kept interactive, as its JSON) or a matplotlib figure (as SVG).

Both libraries are optional and recognised by the module of the figure's type, so neither is
imported unless the script passed one of its figures.
"""
from __future__ import annotations

import io
import pickle

from .base import MAX_CAPTION_CHARS, Encoded, Media, bounded_text, module_of
from ..errors import ArgumentTypeError


class Figure(Media):
    """A chart to log: ``Figure(fig)`` with a plotly ``Figure`` or a matplotlib ``Figure``.

    The call copies the figure (plotly: its dict; matplotlib: a pickle of it), since a script
    commonly keeps drawing on the same figure; the SVG or JSON is written by ``encode()``.
    """

    kind = "figure"

    def __init__(self, fig):
        library = module_of(fig)
        if library == "plotly" and hasattr(fig, "to_dict"):
            self.format = "plotly"
            self._plotly = fig.to_dict()  # plotly deep-copies its data and layout here
            self.title = _plotly_title(self._plotly.get("layout", {}))
        elif library == "matplotlib" and hasattr(fig, "savefig"):
            self.format = "svg"
            self._svg, self._pickled = _matplotlib_copy(fig)
            self.title = _matplotlib_title(fig)
        else:
            raise ArgumentTypeError("fig", fig, "a plotly or matplotlib figure")

    def encode(self) -> Encoded:
        if self.format == "plotly":
            import plotly.io  # the figure came from plotly, so it is installed

            data = plotly.io.to_json(self._plotly, validate=False).encode()
            extension = "plotly.json"
        else:
            data = self._svg if self._svg is not None else _svg_of(pickle.loads(self._pickled))
            extension = "svg"
        return Encoded(data, extension, {"kind": self.kind, "format": self.format, "title": self.title})


def _plotly_title(layout: dict) -> str | None:
    title = layout.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    return bounded_text(text, MAX_CAPTION_CHARS)[0] if isinstance(text, str) else None


def _matplotlib_title(fig) -> str | None:
    text = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""  # matplotlib 3.8 and later
    if not text and fig.axes:
        text = fig.axes[0].get_title()
    return bounded_text(text, MAX_CAPTION_CHARS)[0] if text else None


def _matplotlib_copy(fig) -> tuple[bytes | None, bytes | None]:
    """``(None, pickle)`` of a matplotlib figure, to render later; or ``(svg, None)`` when it cannot be
    pickled (a lambda formatter, say): it is then rendered now, in the loop, while it is as logged."""
    buffer = io.BytesIO()
    try:
        _DetachedFigurePickler(buffer, fig).dump(fig)
    except Exception:
        return _svg_of(fig), None
    return None, buffer.getvalue()


def _svg_of(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    return buffer.getvalue()


class _DetachedFigurePickler(pickle.Pickler):
    """Pickles a figure without its pyplot registration: unpickled on the writer thread, a figure
    made with pyplot would otherwise open a new pyplot window (or leak a figure) from that thread."""

    def __init__(self, file, fig):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._fig = fig

    def reducer_override(self, obj):
        if obj is not self._fig:
            return NotImplemented
        state = obj.__getstate__()
        state.pop("_restore_to_pylab", None)
        return _blank_figure, (type(obj),), state


def _blank_figure(cls):
    """An empty instance of a figure class, for pickle to fill with ``__setstate__``."""
    return cls.__new__(cls)
