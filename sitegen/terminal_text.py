"""Terminal output as a page shows it: ANSI colours kept as styled runs, every other escape removed.

Pure: text in, text and styles out. Console logs hold what programs wrote to a terminal: SGR colour
codes (``ESC[1;31m``), cursor and erase codes, OSC sequences such as OSC-8 hyperlinks
(``ESC]8;;URL ESC\\ text ESC]8;; ESC\\``) and window titles, and stray control characters. The page
shows the text with its colours as CSS classes (``ansi-fg-1``, ``ansi-bold``, ...); every other
sequence is dropped, so a hyperlink keeps its text and never becomes a live link. Only the 16 named
colours are kept; 256-colour and true-colour codes leave the text in the default colour.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# One escape sequence, or one control character other than tab and newline, per match:
#   CSI: ESC [ parameters intermediates final  (SGR is the one ending in "m")
#   OSC: ESC ] ... terminated by BEL or ESC \ (or cut off by the end of the text)
#   DCS/SOS/PM/APC strings: ESC P|X|^|_ ... ESC \
#   any other two- or three-byte ESC sequence (charset selection and the like)
_SEQUENCE = re.compile(
    r"\x1b\[(?P<csi>[0-?]*)[ -/]*(?P<final>[@-~])?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\|$)"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\|$)"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # carriage returns stay: the browser shows them as line breaks

_STYLE_CODES = {1: "bold", 2: "dim", 3: "italic", 4: "underline", 9: "strike"}
_STYLE_RESETS = {22: ("bold", "dim"), 23: ("italic",), 24: ("underline",), 29: ("strike",)}


@dataclass
class StyledText:
    """``text`` with escapes removed, and the (start, end, CSS classes) runs of it that are styled."""

    text: str
    styles: list[tuple[int, int, str]] = field(default_factory=list)

    def segments(self, shown: str | None = None) -> list[tuple[str, str]]:
        """(classes, text) pieces of ``shown`` (by default the text itself) in order; classes is ""
        for unstyled text. ``shown`` is the text after redaction: its lines that differ from the
        parsed text's lose their colours (the styled runs no longer line up there), the rest keep them."""
        if shown is None or shown == self.text:
            return self._pieces(0, len(self.text))
        lines, shown_lines = self.text.splitlines(keepends=True), shown.splitlines(keepends=True)
        if len(lines) != len(shown_lines):
            return [("", shown)]
        pieces, at = [], 0
        for line, shown_line in zip(lines, shown_lines):
            pieces += self._pieces(at, at + len(line)) if line == shown_line else [("", shown_line)]
            at += len(line)
        return pieces

    def _pieces(self, start: int, end: int) -> list[tuple[str, str]]:
        pieces, at = [], start
        for run_start, run_end, classes in self.styles:
            run_start, run_end = max(run_start, start), min(run_end, end)
            if run_start >= run_end:
                continue
            if run_start > at:
                pieces.append(("", self.text[at:run_start]))
            pieces.append((classes, self.text[run_start:run_end]))
            at = run_end
        if at < end:
            pieces.append(("", self.text[at:end]))
        return pieces


def parse_terminal_text(raw: str) -> StyledText:
    """Strip escapes from terminal output, keeping SGR colours and attributes as styled runs."""
    if "\x1b" not in raw and "\x9b" not in raw and not _has_controls(raw):
        return StyledText(raw)
    parts: list[str] = []
    styles: list[tuple[int, int, str]] = []
    state = _SgrState()
    length, at = 0, 0
    for match in _SEQUENCE.finditer(raw):
        length = _append(parts, styles, raw[at:match.start()], length, state.classes())
        at = match.end()
        if match.group("final") == "m":
            state.apply(match.group("csi"))
    _append(parts, styles, raw[at:], length, state.classes())
    return StyledText("".join(parts), styles)


def _has_controls(text: str) -> bool:
    return any(char < " " and char not in "\t\n\r" or char == "\x7f" for char in text)


def _append(parts: list, styles: list, piece: str, length: int, classes: str) -> int:
    if not piece:
        return length
    parts.append(piece)
    if classes:
        if styles and styles[-1][1] == length and styles[-1][2] == classes:
            styles[-1] = (styles[-1][0], length + len(piece), classes)  # same style across a stripped code
        else:
            styles.append((length, length + len(piece), classes))
    return length + len(piece)


class _SgrState:
    """The colours and attributes in force after the SGR codes seen so far."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.foreground: int | None = None
        self.background: int | None = None
        self.attributes: set[str] = set()

    def classes(self) -> str:
        names = sorted(f"ansi-{name}" for name in self.attributes)
        if self.foreground is not None:
            names.append(f"ansi-fg-{self.foreground}")
        if self.background is not None:
            names.append(f"ansi-bg-{self.background}")
        return " ".join(names)

    def apply(self, parameters: str) -> None:
        codes = [int(code) if code.isdigit() else 0 for code in parameters.replace(":", ";").split(";")]
        index = 0
        while index < len(codes):
            code = codes[index]
            if code == 0:
                self.reset()
            elif code in _STYLE_CODES:
                self.attributes.add(_STYLE_CODES[code])
            elif code in _STYLE_RESETS:
                self.attributes.difference_update(_STYLE_RESETS[code])
            elif 30 <= code <= 37 or 90 <= code <= 97:
                self.foreground = code - 30 if code < 90 else code - 90 + 8
            elif 40 <= code <= 47 or 100 <= code <= 107:
                self.background = code - 40 if code < 100 else code - 100 + 8
            elif code == 39:
                self.foreground = None
            elif code == 49:
                self.background = None
            elif code in (38, 48):  # extended colour: 5;n (256 colours) or 2;r;g;b (true colour)
                mode = codes[index + 1] if index + 1 < len(codes) else None
                colour = codes[index + 2] if mode == 5 and index + 2 < len(codes) else None
                named = colour if colour is not None and colour < 16 else None
                if code == 38:
                    self.foreground = named
                else:
                    self.background = named
                index += {5: 2, 2: 4}.get(mode, 0)
            index += 1
