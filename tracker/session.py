"""``tracker.init()`` and the module-level helpers that act on the active run."""
from __future__ import annotations

import getpass
import os
import sys
import time
import warnings

from . import lifecycle
from .active_run import current, set_current
from .errors import ArgumentTypeError, NoActiveRunError, RunDirError, UsageError
from .ids import new_run_id, random_suffix
from .inputs import check_run_id, clean_tags, clean_text, config_mapping
from .launchers import JobPlace, host_name, job_place
from .layout import MAIN_EVENTS_FILE, runs_root
from .store_urls import is_store_url, without_credentials
from .store_backends import missing_backend
from .media_files import BYTES_PER_MB, DEFAULT_MEDIA_BUDGET_MB
from .run import Run
from .writer import RecordWriter

SCHEMA_VERSION = 1


def init(project: str | None = None, name: str | None = None, config: dict | None = None, *,
         tags=None, notes: str | None = None, group: str | None = None, dir=None,
         id: str | None = None, resume: bool = False, capture: bool | dict = True,
         media_budget_mb: float | None = None, notify=None, all_ranks: bool = False) -> Run:
    """Start (or with ``resume=True`` reopen) a run and make it the active one.

    ``capture`` switches automatic capture off (False) or per part, e.g.
    ``{"git": False, "code": True, "environment": True, "hardware": True, "console": True,
    "system": True}``.

    ``media_budget_mb`` bounds the media files the run stores (default ``$TRACKER_MEDIA_BUDGET_MB``
    or 200 MB, counted once per content); past it, media are skipped with one warning.

    ``notify`` names where ``run.alert()`` sends: a notifier spec (a URL or ``cmd:COMMAND``) or a
    list of them (docs/alerts.md); default ``$TRACKER_NOTIFY``, one spec per line; False: none.

    Under torchrun, SLURM or MPI every rank joins one run, its id derived from the job (or
    ``$TRACKER_RUN_ID``); only rank zero's ``log()``, config and summary are recorded unless
    ``all_ranks=True``, and one rank per node records the node's hardware and system metrics
    (docs/distributed.md).

    Every argument is checked before anything is created: misuse raises a UsageError naming it.
    Names, group, tags and notes are stored redacted (see ``tracker.redact``).
    """
    # Check and convert every argument before creating anything: a bad call leaves nothing behind.
    capture_parts = _capture_parts(capture) if capture else None
    project = clean_text("project", project or os.environ.get("TRACKER_PROJECT") or "default")
    name = clean_text("name", name, optional=True)
    group = clean_text("group", group, optional=True)
    notes = clean_text("notes", notes, optional=True)
    tags = clean_tags("tags", tags) if tags is not None else []
    config = config_mapping("config", config) if config is not None else {}
    if not isinstance(resume, bool):
        raise ArgumentTypeError("resume", resume, "True or False")
    if not isinstance(all_ranks, bool):
        raise ArgumentTypeError("all_ranks", all_ranks, "True or False")
    place = job_place()
    run_id = check_run_id(id if id is not None else place.run_id or new_run_id())
    # the ranks of a job all arrive at once: each joins whatever another has created
    joins = place.in_job or id is not None and (place.world_size or 1) > 1
    records_logs = place.logs or all_ranks
    media_budget_bytes = _media_budget_bytes(media_budget_mb)
    notifiers = _notifiers(notify)
    store = _store_url(dir)  # runs in a store are written to a local spool first, then uploaded
    root = _uploads().spool_root() if store else runs_root(dir)
    _ensure_writable(root, "set TRACKER_SPOOL to a writable folder: a run logged to a store is written there first"
                     if store else "pass dir=... or set TRACKER_DIR to a writable folder")
    path = os.path.join(root, run_id)
    created = _create_run_folder(path, run_id, resume or joins)
    writer_id = random_suffix()
    # In a store, a joining writer's files never take the main names: the run's creator may be
    # on another machine, with a spool of its own (docs/format.md, "Runs in object storage").
    first_writer = created and not (store and (resume or joins))
    events_file = MAIN_EVENTS_FILE if first_writer else f"events-{writer_id}.jsonl"
    now = time.time()
    if not records_logs:
        previous = None
    elif store and (resume or joins):  # the run's records are in the store; this spool may hold none of them
        previous = _previous_run_in_store(store, run_id, path)
    else:
        previous = None if created else _previous_run(path)
    if previous is not None:
        project = (previous.project or project) if project == "default" else project
        name = name or previous.name
        group = group or previous.group
    name = str(name or run_id)
    head = []
    if created and previous is None or joins:  # every rank of a job writes the same run record: none waits
        head.append({"type": "run", "schema": SCHEMA_VERSION, "id": run_id, "project": project,
                     "name": name, "group": group, "time": now})
    writer = RecordWriter(os.path.join(path, events_file), os.path.join(path, f"heartbeat-{writer_id}.json"),
                          writer_id, media_budget_bytes=media_budget_bytes, **_store_heartbeat(store))
    resumed = bool(resume) if joins else not created or previous is not None  # in a store: found there
    head.append(_start_record(writer, now, place, resumed=resumed))
    writer.remember_head(head)  # written again if the run folder is deleted mid-run
    _write_now(os.path.join(path, events_file), head)
    if place.without_shared_id:
        _warn_no_shared_id(place)
    if records_logs:
        run_class = Run
    else:  # imported here: a script outside a job never needs it
        from .rank_run import OtherRankRun as run_class
    run = run_class(run_id=run_id, root=root, path=path, project=project, name=name, group=group, writer=writer,
              config=dict(previous.config) if previous else {},
              summary={}, tags=list(previous.tags) if previous else [],
              last_step=previous.last_step if previous else -1)
    if notifiers:
        from .notify.sender import NotifySender

        run._notify = NotifySender(notifiers)
    if config:
        run.config.update(config)
    if tags:
        run.add_tags(tags)
    if notes:
        run.set_notes(notes)
    if capture_parts is not None:
        parts = capture_parts
        per_node = joins and place.rank is not None  # a launcher's ranks: their nodes' records apart
        if not place.logs:  # the code and its repository are rank zero's to record
            parts.update(git=False, code=False)
        if not place.samples_node:  # the node's own records are its first rank's
            parts.update(hardware=False, environment=False, system=False)
        if parts.pop("console", True):
            run._start_console(os.path.join(path, "console.log" if first_writer else f"console-{writer_id}.log"))
        if parts.pop("system", True):
            run._start_system_metrics(name_prefix=f"{place.node}/" if per_node else "")
        _start_capture(run, parts, node=place.node if per_node else None)
    if store:
        run._upload = _uploads().StoreUploader(store, path, run_id, events_file, writer_id)
    lifecycle.register(run)
    set_current(run)
    return run


def active_run() -> Run | None:
    """The run tracker.log() and tracker.finish() act on, or None."""
    return current()


def log(values: dict, step: int | None = None) -> None:
    """Log metrics into the active run (see ``Run.log``)."""
    run = current()
    if run is None:
        raise NoActiveRunError("log")
    run.log(values, step=step)


def alert(title: str, text: str = "", level: str = "warn") -> None:
    """Record an alert in the active run and send it to its notifiers (see ``Run.alert``)."""
    run = current()
    if run is None:
        raise NoActiveRunError("alert")
    run.alert(title, text, level)


def finish(status: str = "finished") -> None:
    """Finish the active run."""
    run = current()
    if run is None:
        raise NoActiveRunError("finish")
    run.finish(status=status)


# -- helpers ---------------------------------------------------------------------------


def _ensure_writable(root: str, fix: str) -> None:
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as exc:
        raise RunDirError(root, exc.strerror or str(exc)) from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise RunDirError(root, f"permission denied; {fix}")


def _store_url(dir) -> str | None:
    """The store URL runs go to (``dir=`` or $TRACKER_DIR an fsspec URL such as
    ``s3://bucket/prefix``), else None. Its backend must be installed: checked without importing it."""
    chosen = dir if dir is not None else os.environ.get("TRACKER_DIR")
    if not is_store_url(chosen):
        return None
    missing = missing_backend(chosen)
    if missing:
        raise UsageError(f"dir {without_credentials(chosen)!r} needs {missing}")
    return chosen


def _uploads():
    """tracker/store_upload.py, imported only for a run logged to a store: a run logged to a
    folder never loads the uploader or its shippers."""
    from . import store_upload

    return store_upload


def _store_heartbeat(store: str | None) -> dict:
    """In a store the heartbeat object is refreshed every upload interval: the writer's heartbeat
    (and the start record's heartbeat_interval_s, which readers' crash rule reads) is twice that."""
    if not store:
        return {}
    return {"heartbeat_interval_s": _uploads().store_heartbeat_interval_s()}


def _create_run_folder(path: str, run_id: str, resume: bool) -> bool:
    """True when this call created the run; False when it attaches to an existing one."""
    try:
        os.mkdir(path)
        return True
    except FileExistsError:
        if not resume:
            raise UsageError(f"run {run_id} already exists in {os.path.dirname(path)}; "
                             "pass resume=True to append to it") from None
        return False
    except OSError as exc:
        raise RunDirError(path, exc.strerror or str(exc)) from None


def _previous_run(path: str):
    # Imported here: only a resume reads the run's records (run_keys, the parser), and a script
    # that starts a new run should not pay ~10 ms of start-up for them.
    from .resume import previous_run

    return previous_run(path)


def _previous_run_in_store(url: str, run_id: str, spool_folder: str):
    # Imported here, as _previous_run's: only a resume into a store reads the run back from it.
    from .store_resume import previous_run_in_store

    return previous_run_in_store(url, run_id, spool_folder)


def _start_record(writer: RecordWriter, now: float, place: JobPlace, resumed: bool) -> dict:
    try:
        user = getpass.getuser()
    except Exception:
        user = None
    return {"type": "start", "writer": writer.writer_id, "time": now, "pid": os.getpid(),
            "host": host_name(), "user": user, "resumed": resumed, "rank": place.rank,
            "local_rank": place.local_rank, "world_size": place.world_size, "node": place.node,
            "heartbeat_interval_s": writer.heartbeat_interval_s}


def _warn_no_shared_id(place: JobPlace) -> None:
    warnings.warn(f"tracker: rank {place.rank} of a {place.world_size}-rank job found no job id to share a run "
                  "with the other ranks (no TORCHELASTIC_RUN_ID but torchrun's 'none', SLURM_JOB_ID or MPI job "
                  "id, and not all ranks on one node); this rank logs a run of its own. Set TRACKER_RUN_ID to "
                  "the same value on every rank, or pass torchrun --rdzv-id", RuntimeWarning, stacklevel=3)


def _write_now(events_path: str, records: list[dict]) -> None:
    """The run's first records are written synchronously so even an instant crash leaves a readable run."""
    from .values import encode_line

    data = "".join(encode_line(record) + "\n" for record in records).encode("utf-8")
    try:
        fd = os.open(events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        raise RunDirError(os.path.dirname(events_path), exc.strerror or str(exc)) from None


def _notifiers(notify) -> list:
    """The notifiers ``notify`` names (else ``$TRACKER_NOTIFY``'s); none for False or no spec.
    The notify package is imported only when a spec is given: most scripts never alert."""
    if notify is False or notify is None and not os.environ.get("TRACKER_NOTIFY", "").strip():
        return []
    from .notify.specs import notifiers_from, specs_from_env

    return notifiers_from(specs_from_env() if notify is None else notify)


def _media_budget_bytes(media_budget_mb) -> int:
    """The run's media budget in bytes: the argument, else $TRACKER_MEDIA_BUDGET_MB, else the default."""
    argument = "media_budget_mb"
    if media_budget_mb is None:
        setting = os.environ.get("TRACKER_MEDIA_BUDGET_MB")
        if setting is None:
            return int(DEFAULT_MEDIA_BUDGET_MB * BYTES_PER_MB)
        argument = "TRACKER_MEDIA_BUDGET_MB"
        try:
            media_budget_mb = float(setting)
        except ValueError:
            raise ArgumentTypeError(argument, setting, "a number of megabytes, e.g. 500") from None
    if isinstance(media_budget_mb, bool) or not isinstance(media_budget_mb, (int, float)) \
            or not 0 <= media_budget_mb < float("inf"):
        raise ArgumentTypeError(argument, media_budget_mb, "a number of megabytes, 0 or more, e.g. 500")
    return int(media_budget_mb * BYTES_PER_MB)


CAPTURE_PARTS = ("git", "code", "environment", "hardware", "console", "system")


def _capture_parts(capture) -> dict:
    if capture is True:
        return {}
    if not isinstance(capture, dict):
        raise ArgumentTypeError("capture", capture, "True, False or a dict such as {\"git\": False}")
    unknown = sorted(set(capture) - set(CAPTURE_PARTS))
    if unknown:
        raise UsageError(f"unknown capture part(s) {', '.join(map(repr, unknown))}; "
                         f"choose from {', '.join(CAPTURE_PARTS)}")
    return dict(capture)


def _start_capture(run: Run, parts: dict, node: str | None) -> None:
    main_module = sys.modules.get("__main__")
    main_file = getattr(main_module, "__file__", None)
    spec = getattr(main_module, "__spec__", None)  # set when started with `python -m module`
    argv = list(sys.argv)
    cwd = os.getcwd()

    def capture():
        from .capture import CaptureOptions, capture_all

        options = CaptureOptions(argv=argv, cwd=cwd, main_file=main_file, main_module=getattr(spec, "name", None),
                                 **{key: bool(value) for key, value in parts.items()})
        result = capture_all(options)
        for relative, content in result.files.items():
            target = os.path.join(run.path, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(content)
        for record in result.records:
            if node is not None and record.get("type") == "hardware":  # a job's nodes each record theirs
                record = dict(record, node=node)
            run._put(record)

    run._in_background(capture, "capture")
