"""``Text``: a piece of text logged at a step (a generated sample, a prompt and its answer)."""
from __future__ import annotations

from .base import Encoded, Media, bounded_text
from ..errors import ArgumentTypeError

MAX_TEXT_CHARS = 1_000_000  # a sample or a report; a longer text is cut, ending in "…"


class Text(Media):
    """``Text(text)``: stored as given (UTF-8, nothing stripped or escaped; the page shows it as text),
    cut to MAX_TEXT_CHARS characters."""

    kind = "text"

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise ArgumentTypeError("text", text, "a str")
        self.chars = len(text)
        self.text, self.truncated = bounded_text(text, MAX_TEXT_CHARS)

    def encode(self) -> Encoded:
        fields = {"kind": self.kind, "chars": self.chars, "truncated": self.truncated}
        return Encoded(self.text.encode("utf-8"), "txt", fields)
