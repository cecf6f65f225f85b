"""A command: ``cmd:COMMAND`` run for each event with the event's JSON on stdin (no shell; arguments split as a shell would)."""
from __future__ import annotations

import json
import shlex
import subprocess

from ..redact import redact_text
from .errors import NotifyError, NotifySpecError
from .event import Event

COMMAND_TIMEOUT_S = 60.0
SHOWN_STDERR_CHARS = 300


class CommandNotifier:
    """Runs ``argv`` with the event JSON on stdin; exit status 0 is success. It inherits the
    environment, which is where its secrets belong."""

    def __init__(self, spec: str):
        try:
            self.argv = shlex.split(spec[len("cmd:"):])
        except ValueError as exc:
            raise NotifySpecError(spec, f"the command does not split into arguments ({exc})") from None
        if not self.argv:
            raise NotifySpecError(spec, "no command after cmd:")
        self.name = f"command {self.argv[0]}"

    def send(self, event: Event) -> None:
        try:
            done = subprocess.run(self.argv, input=json.dumps(event.as_json(), ensure_ascii=False).encode("utf-8"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise NotifyError(self.name, f"still running after {COMMAND_TIMEOUT_S:.0f} s; killed") from None
        except OSError as exc:
            raise NotifyError(self.name, f"cannot start ({exc.strerror or exc})") from None
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip()[-SHOWN_STDERR_CHARS:]
            raise NotifyError(self.name, f"exit status {done.returncode}" + (f": {redact_text(said)}" if said else ""))
