"""Exceptions raised while building a site.

    TrackerError (tracker.errors)
    └── SiteError                 base class: the site could not be built as asked
        ├── UnknownThemeError     --theme names no built-in theme and no folder
        ├── TemplateRenderError   a template failed for one page (keeps template file and line)
        ├── UnsafePathError       an output path would land outside the --out folder
        ├── OutputFolderError     --out exists and is not a site this command built
        ├── StrictBuildError      --strict and the build found problems (secrets, unreadable runs)
        ├── SiteLockedError       another build is writing to the same --out
        └── PortInUseError        'tracker serve' cannot listen on --port: another program has it
"""
from __future__ import annotations

from tracker.errors import TrackerError


class SiteError(TrackerError):
    """Base class of site build errors."""

    def __reduce__(self):
        # A build's worker processes raise these; the default pickling calls cls(message), which
        # the subclasses' own __init__ signatures refuse, so copy the message and attributes instead.
        return _restore_error, (type(self), self.args, self.__dict__)


def _restore_error(cls: type, args: tuple, state: dict) -> SiteError:
    error = Exception.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class UnknownThemeError(SiteError):
    def __init__(self, theme: str, available: list[str]):
        self.theme = theme
        self.available = available
        super().__init__(f"unknown theme {theme!r}; available: {', '.join(available)} "
                         "(or pass the path of a theme folder)")


class TemplateRenderError(SiteError):
    def __init__(self, source: str, template: str, line: int | None, problem: str):
        self.source, self.template, self.line, self.problem = source, template, line, problem
        where = f"{template}:{line}" if line else template
        super().__init__(f"{source}: template {where}: {problem}")


class UnsafePathError(SiteError):
    def __init__(self, path: str, out: str):
        self.path, self.out = path, out
        super().__init__(f"refusing to write {path!r}: it is outside the output folder {out}")


class OutputFolderError(SiteError):
    def __init__(self, out: str):
        self.out = out
        super().__init__(f"--out {out} exists, is not empty and was not built by 'tracker build'; "
                         "choose an empty or new folder")


class StrictBuildError(SiteError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        listed = "\n  ".join(problems)
        super().__init__(f"--strict: {len(problems)} problem(s), nothing was published:\n  {listed}")


class PortInUseError(SiteError):
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        super().__init__(f"port {port} on {host} is already in use; choose another with --port, e.g. --port {port + 1}")


class SiteLockedError(SiteError):
    def __init__(self, out: str, pid: int | None):
        self.out, self.pid = out, pid
        holder = f" (pid {pid})" if pid else ""
        super().__init__(f"another build is writing to {out}{holder}; wait for it to finish, or choose "
                         "another --out")
