"""``tracker sync [SPOOL_DIR_OR_RUN]``: upload what a spool still holds of runs logged to a store."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

from ..run_keys import is_events_file
from ..store_urls import without_credentials
from ..store_upload import (STORE_NOTE, keeps_spool, read_store_note, spool_root, store_heartbeat_interval_s,
                            sync_run)

END_MARK = b'"type":"end"'


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "sync", help="upload runs a spool still holds to their store (after a crash or an outage)",
        description="A run logged with dir=s3://... (any fsspec URL) is written to a local spool first and "
                    "uploaded as it runs (docs/storage.md). What a killed process, or a store that did not answer "
                    "before the script ended, left in the spool is uploaded by this command: each events "
                    "file's remaining bytes as closed segments, and every file the store lacks. Runs "
                    "still being logged are left to their own uploader. A run folder is removed from the "
                    "spool once it is uploaded, unless --keep or TRACKER_KEEP_SPOOL=1.",
        epilog="examples:\n  tracker sync                       # every run in $TRACKER_SPOOL or ~/.cache/tracker/spool\n"
               "  tracker sync ~/.cache/tracker/spool/20261123-094237-k3x9a2bq\n"
               "  tracker sync 20261123-094237-k3x9a2bq --to s3://bucket/runs",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", nargs="?", metavar="SPOOL_DIR_OR_RUN",
                        help="a spool folder, one run's folder in it, or a run id in the default spool "
                             "(default: $TRACKER_SPOOL or ~/.cache/tracker/spool)")
    parser.add_argument("--to", metavar="URL",
                        help="the store to upload to (default: the one each run was logged to, from its "
                             f"{STORE_NOTE})")
    parser.add_argument("--keep", action="store_true", help="keep the run folders in the spool after uploading")
    parser.add_argument("--force", action="store_true",
                        help="upload runs whose heartbeat is fresh too (a process that is still logging)")
    parser.set_defaults(handler=run_sync)


def run_sync(args) -> int:
    folders = run_folders(args.target)
    if not folders:
        print(f"tracker: nothing to sync in {args.target or spool_root()}", file=sys.stderr)
        return 0
    failed = 0
    for folder in folders:
        failed += not sync_folder(folder, args)
    return 1 if failed else 0


def run_folders(target: str | None) -> list[str]:
    """The spool run folders ``target`` names: one run's folder, or every run folder of a spool."""
    if target is None:
        target = spool_root()
        if not os.path.isdir(target):
            return []  # nothing was ever logged to a store here
    elif not os.path.isdir(target) and os.path.isdir(os.path.join(spool_root(), target)):
        target = os.path.join(spool_root(), target)  # a run id
    if not os.path.isdir(target):
        raise ValueError(f"{target}: no such spool folder, run folder or run id in {spool_root()}")
    if _is_run_folder(target):
        return [target]
    return [os.path.join(target, name) for name in sorted(os.listdir(target))
            if _is_run_folder(os.path.join(target, name))]


def sync_folder(folder: str, args) -> bool:
    note = read_store_note(folder) or {}
    url = args.to or note.get("store")
    run_id = note.get("run") or os.path.basename(os.path.normpath(folder))
    if not url:
        print(f"tracker: error: {folder}: no {STORE_NOTE} says where the run goes; pass --to URL", file=sys.stderr)
        return False
    live = live_writer(folder)
    if live and not args.force:
        print(f"tracker: {run_id} is still being logged ({live}); its own uploader ships it "
              "(--force uploads it now)", file=sys.stderr)
        return True
    shown = without_credentials(url)
    started = time.monotonic()
    try:
        objects, size = sync_run(folder, url, run_id)
    except Exception as exc:  # the store's errors are backend-specific: each means this run is not synced
        print(f"tracker: error: cannot sync {run_id} to {shown}: {str(exc).replace(url, shown)}; "
              f"it stays in {folder}", file=sys.stderr)
        return False
    print(f"tracker: synced {run_id} to {shown}: {objects} objects ({size / 1e6:.1f} MB) uploaded "
          f"in {time.monotonic() - started:.1f}s")
    if not (args.keep or keeps_spool()):
        shutil.rmtree(folder, ignore_errors=True)
    return True


def live_writer(folder: str, now: float | None = None) -> str | None:
    """Why a writer of the run seems to be logging still: its heartbeat file is fresh and its
    events file has no end record yet; None when none is."""
    now = time.time() if now is None else now
    fresh_s = 3 * store_heartbeat_interval_s() + 2
    names = os.listdir(folder)
    for name in names:
        if not (name.startswith("heartbeat-") and name.endswith(".json")):
            continue
        writer = name[len("heartbeat-"):-len(".json")]
        try:
            age = now - os.stat(os.path.join(folder, name)).st_mtime
        except FileNotFoundError:
            continue
        own = f"events-{writer}.jsonl"
        events = own if own in names else "events.jsonl"
        if age <= fresh_s and not _ends_with_end_record(os.path.join(folder, events)) \
                and not _process_gone(os.path.join(folder, name)):
            return f"{name} written {age:.0f} s ago"
    return None


def _process_gone(heartbeat: str) -> bool:
    """Whether the heartbeat's process is known to have ended (a spool is local to its machine,
    so the pid is this machine's; a pid reused since is taken for the writer: then we wait)."""
    try:
        with open(heartbeat, encoding="utf-8") as handle:
            pid = json.load(handle).get("pid")
    except (OSError, ValueError, AttributeError):
        return False
    if type(pid) is not int or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _ends_with_end_record(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - 65536))
            tail = handle.read().rstrip(b"\n")
    except OSError:
        return False
    return END_MARK in tail[tail.rfind(b"\n") + 1:]


def _is_run_folder(folder: str) -> bool:
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return STORE_NOTE in names or any(is_events_file(name) for name in names)
