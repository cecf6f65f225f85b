"""The build manifest: what the last build made of each run, keyed by content.

A rebuild into a site this command made compares keys with the manifest it left there: a run
whose folder's key is unchanged keeps its page, and its index row is taken from the manifest
instead of reading the run again, so a rebuild reads only the runs that changed. A change of
the site key (theme files, tracker version, build options) rebuilds everything. A run that was
running is always read again, because its status also depends on the clock: a heartbeat that
goes stale turns it "crashed" with no file changing.

Runs are keyed by their recorded id, as their pages are (the slug comes from the id), not by
folder: a folder copied under another name holds the same id, and one id is one page (see
identity.py). An entry's key names the folder its page was made from (discover.py), so a page
made from a copy that has since gone is made again from the folder now shown. The ids of the
copies are kept too, under their keys, so that telling copies apart needs no read. No path is
kept, so moving a runs folder keeps the manifest valid and the public site shows no build-machine
paths. Everything in it (rows, heads, findings) is redacted.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from math import isfinite
from typing import Any, TypedDict

from msgspec import DecodeError, Struct, ValidationError, convert
from msgspec.json import Decoder, Encoder

from tracker.version import __version__

from .assets import plan_assets
from .commit_diffs import KnownCommits
from .model import ROW_HEAD_FIELDS
from .theme import Theme

MANIFEST_FILE = ".tracker-manifest.json"
MANIFEST_FORMAT = 8  # 8: each run's commit, and what the checkout answered about the commits


@dataclass
class RunEntry:
    """One run folder as the last build left it."""

    key: str                                             # discover.Discovery.keys: its folder's name and files
    head: dict                                           # model.row_head(): what every site page needs
    row_json: str                                        # its whole row of data/index.js, script-safe JSON
    findings: list[str] = field(default_factory=list)    # redactions, for --strict and the report
    media: dict = field(default_factory=dict)            # media_output.publish_run_media's record; {} for none
    shared: list[str] = field(default_factory=list)      # environment files it shares by content (environments.py)
    commit: str | None = None                            # its row's short commit hash (commit_diffs.py)

    @property
    def status(self) -> str:
        return self.head["status"]

    @property
    def media_files(self) -> list[str]:
        """The site files its media need (shared with other runs when they logged the same bytes)."""
        return self.media.get("files", [])

    def media_still_fits(self, budget_bytes: int) -> bool:
        """Whether its media page would be the same under ``budget_bytes`` (the number of runs
        sets each run's share): the same budget, or one that holds all its media as the old did."""
        budget, wanted = self.media.get("budget"), self.media.get("wanted", 0)
        return not self.media or budget == budget_bytes or (wanted <= budget and wanted <= budget_bytes)

    @property
    def settled(self) -> bool:
        """False while the run is running: its page must be rendered again even if no file changed."""
        return self.status != "running"


@dataclass
class Manifest:
    site_key: str
    runs: dict[str, RunEntry] = field(default_factory=dict)  # run id -> entry
    copies: dict[str, str] = field(default_factory=dict)     # key of a folder the site skips -> its run id
    commits: KnownCommits = field(default_factory=KnownCommits)  # the full hashes of the runs' commits

    def in_site_order(self) -> list[RunEntry]:
        """The entries as the site lists its runs: oldest first, then by id."""
        return sorted(self.runs.values(), key=lambda entry: (entry.head["created"] or 0.0, entry.head["id"]))

    def known_ids(self) -> dict[str, str]:
        """{folder key: run id} of every folder the last build read."""
        return {entry.key: run_id for run_id, entry in self.runs.items()} | self.copies

    def to_text(self) -> str:
        """Line 1 is JSON of everything but the rows; then each run's row, one per line, in the same
        order. A rebuild parses line 1 only and copies the rows of unchanged runs as text. An entry
        is [key, head, findings, media, shared, commit]; the files a run owns follow from its slug
        (model.run_folder), its media files are listed in media and its shared environment files
        in shared."""
        runs = sorted(self.runs.items())
        header = {"format": MANIFEST_FORMAT, "site_key": self.site_key,
                  "runs": {run_id: [entry.key, entry.head, entry.findings, entry.media, entry.shared, entry.commit]
                           for run_id, entry in runs},
                  "copies": dict(sorted(self.copies.items())), "commits": self.commits.to_json()}
        return "\n".join([_header_text(header)] + [entry.row_json for _, entry in runs]) + "\n"


def _header_text(header: dict) -> str:
    """msgspec writes the header in a tenth of json's time (0.3 s for 20,000 runs), but writes NaN
    and infinities as null and refuses lone surrogates: json writes those headers."""
    if all(isfinite(created) for entry in header["runs"].values()
           if type(created := entry[1]["created"]) is float):
        try:
            return _encode(header).decode()
        except UnicodeEncodeError:
            pass
    return json.dumps(header, separators=(",", ":"))


def read_manifest(out: str) -> Manifest | None:
    """The manifest a previous build left in ``out``; None when there is none or it is unreadable."""
    try:
        with open(os.path.join(out, MANIFEST_FILE), "rb") as handle:
            line = handle.readline()
            rows = handle.read().decode("utf-8").split("\n")
        header = _decode_header(line)
        if header is None or header.format != MANIFEST_FORMAT:
            return None
        if rows.pop() != "" or len(rows) != len(header.runs):
            return None  # cut short: a row per run, each ended by a newline
        runs = {run_id: RunEntry(entry.key, entry.head, row, entry.findings, entry.media, entry.shared, entry.commit)
                for (run_id, entry), row in zip(header.runs.items(), rows)}
        if not (all(map(str.__eq__, (entry.head["id"] for entry in runs.values()), runs))
                and all(isinstance(name, str) for entry in runs.values() if entry.media
                        for name in entry.media.get("files", []))):
            return None
        return Manifest(header.site_key, runs, header.copies, KnownCommits(header.commits.refs, header.commits.full))
    except (OSError, ValueError, TypeError, AttributeError):
        return None  # no usable manifest: the build is a full one, never a wrong incremental one


# The header's shape, checked by msgspec as it decodes (a hand-edited or damaged manifest must not
# break a rebuild); a head is model.row_head()'s dict, the fields the site pages read typed.
_Head = TypedDict("_Head", {name: {"id": str, "slug": str, "status": str, "created": float | int | None}.get(name, Any)
                            for name in ROW_HEAD_FIELDS})


class _Entry(Struct, array_like=True):
    key: str
    head: _Head
    findings: list[str]
    media: dict[str, Any]
    shared: list[str]
    commit: str | None


class _Commits(Struct):
    refs: str | None
    full: dict[str, str]


class _Header(Struct):
    format: int
    site_key: str
    runs: dict[str, _Entry]
    copies: dict[str, str]
    commits: _Commits


_decode = Decoder(_Header).decode
_encode = Encoder().encode


def _decode_header(line: bytes) -> _Header | None:
    """Line 1 by msgspec; by json where msgspec refuses the text (a lone surrogate, NaN: what
    _header_text left to json), then checked by msgspec. None when it is not a header."""
    try:
        return _decode(line)
    except ValidationError:
        return None
    except DecodeError:
        pass
    try:
        return convert(json.loads(line), _Header)
    except (ValueError, RecursionError):  # ValidationError is a ValueError
        return None


def site_key(theme: Theme, settings: dict) -> str:
    """Hash of the tracker version, the build settings, and the content of every template and asset."""
    digest = hashlib.sha256(json.dumps([__version__, theme.name, settings], sort_keys=True, default=str).encode())
    files = {f"templates/{relative}": path for folder in reversed(theme.template_dirs)
             for relative, path in _files_under(folder).items()}
    files.update(plan_assets(theme.static_dirs)[0])
    for relative in sorted(files):
        digest.update(relative.encode() + b"\0")
        with open(files[relative], "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _files_under(folder: str) -> dict[str, str]:
    """Every file below ``folder``: {relative path with '/': absolute path}."""
    found = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            found[os.path.relpath(path, folder).replace(os.sep, "/")] = path
    return found
