"""The run ``wandb.init()`` returns: W&B's step and commit rules, ``config`` and ``summary``, over a tracker.Run.

Step semantics (W&B's): the run's step starts at 0; ``log(d)`` records ``d`` at the current step
and moves to the next one; ``log(d, commit=False)`` adds ``d`` to the current step without moving;
``log(d, step=n)`` with ``n`` past the current step writes what the current step holds and moves
to ``n``, where ``d`` waits until a later step or ``finish()`` (unless ``commit=True``). Unlike
W&B, which drops data logged at a step below the current one, tracker records it at that step.
"""
from __future__ import annotations

import glob
import numbers
import os
import time
import traceback
from collections.abc import Mapping
from types import SimpleNamespace

from ..errors import ArgumentTypeError
from .unmapped import NotMappedError, warn_once
from .wandb_media import Table

SUMMARY_STATS = ("min", "max", "mean", "last", "first")  # define_metric(summary=...) kinds mapped


class Config:
    """``wandb.config``: attribute and item access over the run's config; each change is recorded."""

    def __init__(self, run):
        object.__setattr__(self, "_run", run)

    def __getattr__(self, name):
        try:
            return self._run.config[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __setattr__(self, name, value):
        self._run.config[name] = value

    def __getitem__(self, key):
        return self._run.config[key]

    def __setitem__(self, key, value):
        self._run.config[key] = value

    def __contains__(self, key) -> bool:
        return key in self._run.config

    def __iter__(self):
        return iter(self._run.config)

    def __len__(self) -> int:
        return len(self._run.config)

    def __repr__(self) -> str:
        return repr(dict(self._run.config))

    def update(self, values=None, allow_val_change: bool | None = None, **more) -> None:
        """Add keys (a dict, an argparse.Namespace or keyword arguments); W&B's allow_val_change is implied."""
        if values is not None and not isinstance(values, Mapping):
            values = vars(values) if hasattr(values, "__dict__") else values
        self._run.config.update(values or {}, **more)

    def setdefaults(self, values: Mapping) -> None:
        """Add the keys of ``values`` the config does not have yet."""
        self.update({key: value for key, value in values.items() if key not in self._run.config})

    def get(self, key, default=None):
        return self._run.config.get(key, default)

    def keys(self):
        return self._run.config.keys()

    def items(self):
        return self._run.config.items()

    def as_dict(self) -> dict:
        return dict(self._run.config)


class Summary:
    """``run.summary``: each metric's last logged value, overridden by the keys set here, which are
    written into the run's summary at ``finish()``."""

    def __init__(self, last: dict):
        self._last = last  # the adapter's last value of each metric
        self.set: dict = {}

    def __getitem__(self, key):
        return self.set[key] if key in self.set else self._last[key]

    def __setitem__(self, key, value) -> None:
        self.set[key] = value

    def __contains__(self, key) -> bool:
        return key in self.set or key in self._last

    def __iter__(self):
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self.as_dict())

    def __repr__(self) -> str:
        return repr(self.as_dict())

    def get(self, key, default=None):
        return self[key] if key in self else default

    def update(self, values=(), **more) -> None:
        self.set.update(values, **more)

    def keys(self):
        return self.as_dict().keys()

    def items(self):
        return self.as_dict().items()

    def as_dict(self) -> dict:
        return {**self._last, **self.set}


class Run:
    """A W&B-shaped run over ``self.run`` (the tracker.Run): ``log``, ``config``, ``summary``, ``finish``."""

    def __init__(self, run, on_finish=None):
        self.run = run
        self.config = Config(run)
        self._last: dict = {}
        self.summary = Summary(self._last)
        # W&B's steps start at 0, and a resumed run goes on after its last step (tracker.Run keeps it
        # privately: there is no public accessor yet).
        self._step = max(getattr(run, "_step", -1), -1) + 1
        self._pending: dict = {}
        self._summary_stats: dict[str, dict[str, list]] = {}  # metric -> {kind: state}, from define_metric
        self._on_finish = on_finish
        self._finished = False
        self._alerted: dict = {}  # title -> time.monotonic() it was last sent (wait_duration)

    # W&B's run attributes a script reads
    id = property(lambda self: self.run.id)
    name = property(lambda self: self.run.name)
    project = property(lambda self: self.run.project)
    group = property(lambda self: self.run.group)
    tags = property(lambda self: tuple(self.run.tags))
    dir = property(lambda self: self.run.path)
    path = property(lambda self: f"{self.run.project}/{self.run.id}")
    step = property(lambda self: self._step)
    url = property(lambda self: None)  # no server: nothing to link to

    def __repr__(self) -> str:
        return f"<tracker.compat.wandb Run {self.run.id} {self.run.project}/{self.run.name}>"

    def log(self, data: dict, step: int | None = None, commit: bool | None = None, sync: bool | None = None) -> None:
        """Record ``data`` with W&B's step and commit rules (the module docstring)."""
        if not isinstance(data, Mapping):
            raise ArgumentTypeError("wandb.log() data", data, "a dict of name -> value")
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, int):
                raise ArgumentTypeError("wandb.log() step", step, "an int")
            if step < self._step:
                self._write(_values(data), step)
                return
            if step > self._step:
                self._commit()
                self._step = step
        self._pending.update(_values(data))
        if commit is True or (commit is None and step is None):
            self._commit()
            self._step += 1

    def finish(self, exit_code: int | None = None, quiet: bool | None = None) -> None:
        """Write what the current step holds and the summary, then end the run: ``exit_code`` 0
        (or None) is finished, anything else failed."""
        failed = exit_code not in (None, 0)
        self._end("failed" if failed else "finished", f"exit code {exit_code}" if failed else None)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self._end("finished", None)
        else:
            self._end("interrupted" if issubclass(exc_type, KeyboardInterrupt) else "failed",
                      "".join(traceback.format_exception(exc_type, exc, tb)))

    def define_metric(self, name: str, step_metric: str | None = None, summary: str | None = None,
                      **unmapped) -> None:
        """Map ``summary="min"|"max"|"mean"|"last"|"first"`` into the run's summary at finish (as
        ``name.min``...); a custom ``step_metric`` and the rest warn once: the site plots every metric
        against the step and the time."""
        if "*" in name:
            warn_once(f"define_metric({name!r})", "glob names are not matched; define each metric by its name")
            return
        if step_metric is not None:
            warn_once("define_metric(step_metric=...)", "the site plots every metric against the step and "
                      f"the time; {step_metric!r} is recorded as a metric of its own, not as an x axis")
        for key in sorted(k for k, v in unmapped.items() if v is not None):
            warn_once(f"define_metric({key}=...)", "not mapped; the metric is recorded as logged")
        for kind in (summary or "").split(","):
            kind = kind.strip()
            if not kind or kind == "none":
                continue
            if kind not in SUMMARY_STATS:
                warn_once(f"define_metric(summary={kind!r})", f"not mapped (mapped: {', '.join(SUMMARY_STATS)})")
                continue
            self._summary_stats.setdefault(name, {})[kind] = []

    def alert(self, title: str, text: str, level=None, wait_duration=None) -> None:
        """tracker's run.alert: W&B's level (``wandb.AlertLevel`` or its name, default WARN) as
        ours, and W&B's ``wait_duration`` (seconds or a timedelta): an alert whose title was sent
        less than that long ago is skipped."""
        name = str(getattr(level, "value", level) or "WARN").lower()
        wait_s = wait_duration.total_seconds() if hasattr(wait_duration, "total_seconds") else wait_duration
        now = time.monotonic()
        last = self._alerted.get(title)
        if wait_s and last is not None and now - last < wait_s:
            return
        self._alerted[title] = now
        self._alert(title, text, name)

    def _alert(self, title: str, text: str, level: str) -> None:
        self.run.alert(title, text, level)

    def watch(self, *args, **kwargs) -> None:
        """Warns once: gradients and parameters are not recorded."""
        warn_once("wandb.watch()", "gradients and parameters are not recorded; log them with "
                  "wandb.log({'grad_norm': ...}) or wandb.Histogram")

    def log_artifact(self, artifact_or_path, name: str | None = None, type: str | None = None, **unmapped):
        """Copy a file or folder into the run's artifacts (W&B's Artifact objects are not mapped)."""
        if not isinstance(artifact_or_path, (str, bytes)) and not hasattr(artifact_or_path, "__fspath__"):
            raise NotMappedError("run.log_artifact(wandb.Artifact)", "pass the path of a file or folder")
        return self.run.log_artifact(artifact_or_path, name=name)

    def save(self, glob_str, base_path: str | None = None, policy: str = "live") -> list[str]:
        """Copy the files matching ``glob_str`` into the run's artifacts, now (not as they change)."""
        if policy != "end":
            warn_once(f"wandb.save(policy={policy!r})", "files are copied once, at the call")
        stored = []
        for path in sorted(glob.glob(os.fspath(glob_str), recursive=True)):
            if os.path.isfile(path):
                name = os.path.relpath(path, base_path) if base_path else os.path.basename(path)
                stored.append(self.run.log_artifact(path, name=name.replace(os.sep, "/")))
        if not stored:
            warn_once(f"wandb.save({glob_str!r})", "no file matches; nothing stored")
        return stored

    # -- internals --------------------------------------------------------------------------

    def _end(self, status: str, error: str | None) -> None:
        """Write the held step and the summary (the keys set, and define_metric's statistics), then finish."""
        if self._finished:
            return
        self._finished = True
        self._commit()
        summary = dict(self.summary.set)
        for name, stats in self._summary_stats.items():
            for kind, state in stats.items():
                if state:
                    summary.setdefault(f"{name}.{kind}", state[0] / state[1] if kind == "mean" else state[0])
        if summary:
            self.run.summary.update(summary)
        self.run.finish(status=status, error=error)
        if self._on_finish is not None:
            self._on_finish(self)

    def _commit(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, {}
            self._write(pending, self._step)

    def _write(self, values: dict, step: int) -> None:
        self.run.log(values, step=step)
        for key, value in values.items():
            if isinstance(value, numbers.Real):
                self._last[key] = value
                for kind, state in self._summary_stats.get(key, {}).items():
                    _fold(kind, state, value)


class DisabledRun(Run):
    """``wandb.init(mode="disabled")``: every call works and nothing is recorded, as the script asked."""

    def __init__(self, project: str | None, name: str | None, config: dict, on_finish=None):
        stand_in = SimpleNamespace(config=dict(config), id="disabled", name=name or "disabled", project=project or "default",
                                   group=None, tags=[], path=None)
        super().__init__(stand_in, on_finish)

    def _write(self, values: dict, step: int) -> None:
        pass

    def _alert(self, title: str, text: str, level: str) -> None:
        pass

    def _end(self, status: str, error: str | None) -> None:
        self._finished = True
        if self._on_finish is not None:
            self._on_finish(self)

    def log_artifact(self, artifact_or_path, name: str | None = None, type: str | None = None, **unmapped):
        return None

    def save(self, glob_str, base_path: str | None = None, policy: str = "live") -> list[str]:
        return []


def _fold(kind: str, state: list, value) -> None:
    """Fold ``value`` into ``state`` ([value, count]) for the statistic ``kind``."""
    if not state:
        state.extend([value, 1])
    elif kind == "min":
        state[0] = min(state[0], value)
    elif kind == "max":
        state[0] = max(state[0], value)
    elif kind == "mean":
        state[0] += value
        state[1] += 1
    elif kind == "last":
        state[0] = value


def _values(data: Mapping, prefix: str = "") -> dict:
    """W&B's values as tracker takes them: nested dicts flattened with '.', text as tracker.Text,
    tables as tracker.Table, numbers and media objects as they are."""
    flat = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_values(value, f"{name}."))
        elif isinstance(value, Table):
            flat[name] = value.to_media()
        elif isinstance(value, str):
            from ..media.text import Text

            flat[name] = Text(value)
        elif isinstance(value, bool):
            flat[name] = int(value)
        elif value is None:
            warn_once(f"wandb.log({{{name!r}: None}})", "None is not a value; the key is skipped at this step")
        else:
            flat[name] = value
    return flat
