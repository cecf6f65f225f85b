"""What a reader found wrong while reading a run: messages naming the file and line, each also
issued as a warning, capped so that a run of garbage does not print a million lines."""
from __future__ import annotations

import warnings

MAX_PROBLEMS_PER_RUN = 50


class Problems(list):
    """The problem messages of one run read (a list of str)."""

    def __init__(self, *, warn: bool = True):
        super().__init__()
        self.warn = warn
        self.not_shown = 0

    def add(self, message: str) -> None:
        if len(self) >= MAX_PROBLEMS_PER_RUN:
            self.not_shown += 1
            return
        self.append(message)
        if self.warn:
            warnings.warn(f"tracker: {message}", stacklevel=3)

    def close(self, where: str) -> None:
        """Add the count of problems past the cap, once, at the end of reading ``where``."""
        if self.not_shown:
            message = f"{where}: {self.not_shown} more problems not shown"
            self.not_shown = 0
            self.append(message)
            if self.warn:
                warnings.warn(f"tracker: {message}", stacklevel=3)
