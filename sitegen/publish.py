"""Publishing a site to a bucket: build it locally, upload the files whose content changed, remove stale ones.

`tracker build --out s3://bucket/site` (gs://, az://, any fsspec URL) builds into a local folder
(--cache DIR, kept for the next build, or a temporary one) exactly as a local build does, then syncs
that folder to the bucket:

- which objects are current is kept in the bucket itself, in one object, SYNC_MANIFEST: each file's
  SHA-256, size, Content-Type and Cache-Control as last uploaded. A publish hashes the local files,
  reads that object and lists the prefix (one paged listing, no object downloaded) and uploads only
  files whose entry differs or whose object is missing (deleted by hand). A build is deterministic,
  so a fresh build in a temporary folder uploads no more than a kept one;
- objects under the prefix that the site no longer has (a removed run's pages, strays) are deleted;
- uploads go data and media first, then pages, `index.html` last, so a page is never served before
  what it loads; the manifest is written after every upload and stale objects removed after it, so
  a publish stopped half-way uploads the rest next time;
- each object gets a Content-Type from its name and a Cache-Control: LONG_CACHE_CONTROL for files
  whose name is their content (media, shared environments, versioned vendor scripts), else
  SHORT_CACHE_CONTROL.

Nothing of the URL or of the credentials is written to the bucket: the manifest names site files only.
"""
from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import posixpath
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from tracker.store_urls import without_credentials
from tracker.version import __version__

from .bucket import Bucket, ObjectHeaders
from .build import SITE_MARKER, BuildOptions, BuildReport, build
from .errors import SiteError
from .folder_stamps import STAMPS_FILE

SYNC_MANIFEST = ".tracker-site-manifest.json"
SYNC_MANIFEST_FORMAT = 1
UPLOAD_THREADS = 16  # uploads in flight: small files are latency-bound, not bandwidth-bound
HASH_CHUNK_BYTES = 1 << 20
LONG_CACHE_CONTROL = "public, max-age=31536000, immutable"  # a year: the name changes when the content does
SHORT_CACHE_CONTROL = "public, max-age=60"  # pages and data: a CDN or browser serves them stale a minute at most
# Site paths whose file name is a hash or a version of their content (docs/site.md, Layout).
CONTENT_ADDRESSED_PREFIXES = ("media/", "environments/", "assets/vendor/")
TEXT = "text/plain; charset=utf-8"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp", ".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
    ".flac": "audio/flac", ".mp4": "video/mp4", ".webm": "video/webm",
    ".gz": "application/gzip",  # metrics.csv.gz is a download: no Content-Encoding, the browser keeps it gzipped
    ".csv": "text/csv; charset=utf-8", ".patch": TEXT, ".diff": TEXT, ".txt": TEXT, ".md": TEXT, ".py": TEXT,
    ".toml": TEXT, ".yaml": TEXT, ".yml": TEXT, ".cfg": TEXT, ".ini": TEXT, ".lock": TEXT,
}
FILE_TYPES = {SITE_MARKER: "application/json", "Dockerfile": TEXT}  # names with no telling suffix
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# The times of this machine's run folders, for its next build: another build (a CI job without the
# cache) takes others, so published they would be sent again each time, and no page reads them.
LOCAL_STATE_FILES = frozenset({STAMPS_FILE})


class BucketNotASiteError(SiteError):
    """--out URL names a prefix that holds objects 'tracker build' did not publish."""

    def __init__(self, url: str, examples: list[str]):
        self.url, self.examples = url, examples
        super().__init__(f"--out {without_credentials(url)} holds objects that 'tracker build' did not publish "
                         f"(e.g. {', '.join(examples)}) and no {SYNC_MANIFEST}; choose an empty or new prefix")


@dataclass(frozen=True)
class SiteFile:
    """A file of the local site as the bucket's manifest records it."""
    sha256: str
    size: int
    content_type: str
    cache_control: str

    def entry(self) -> dict:
        return {"sha256": self.sha256, "size": self.size, "content_type": self.content_type,
                "cache_control": self.cache_control}

    @property
    def headers(self) -> ObjectHeaders:
        return ObjectHeaders(self.content_type, self.cache_control)


@dataclass
class SyncPlan:
    uploads: list[str]   # in upload order
    removals: list[str]
    unchanged: int


@dataclass
class PublishReport:
    url: str
    uploaded: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    bytes_uploaded: int = 0
    seconds: float = 0.0


def object_headers(relative: str) -> ObjectHeaders:
    """The Content-Type and Cache-Control of a site file, from its site-relative path."""
    name = posixpath.basename(relative)
    suffix = posixpath.splitext(name)[1].lower()
    content_type = (FILE_TYPES.get(name) or CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0]
                    or DEFAULT_CONTENT_TYPE)
    cache = LONG_CACHE_CONTROL if relative.startswith(CONTENT_ADDRESSED_PREFIXES) else SHORT_CACHE_CONTROL
    return ObjectHeaders(content_type, cache)


def local_site_files(folder: str) -> dict[str, SiteFile]:
    """Every file of a built site folder that the bucket gets, by site-relative path, with its hash
    and headers: all but the build's own state of this machine (LOCAL_STATE_FILES)."""
    found = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            relative = os.path.relpath(path, folder).replace(os.sep, "/")
            if relative in LOCAL_STATE_FILES:
                continue
            digest, size = _file_sha256(path)
            headers = object_headers(relative)
            found[relative] = SiteFile(digest, size, headers.content_type, headers.cache_control)
    return found


def plan_sync(local: dict[str, SiteFile], manifest: dict[str, dict], listed: set[str]) -> SyncPlan:
    """What to upload and remove so that the bucket (``listed`` objects, ``manifest`` entries) holds ``local``.

    An object counts as current only when it is listed and its manifest entry equals the local
    file's (content, size and headers): one deleted by hand, or one left by a publish stopped before
    its manifest, is uploaded again.
    """
    uploads = [relative for relative, file in local.items()
               if relative not in listed or manifest.get(relative) != file.entry()]
    uploads.sort(key=lambda relative: (relative.endswith(".html"), relative == "index.html", relative))
    removals = sorted(listed - set(local) - {SYNC_MANIFEST})
    return SyncPlan(uploads, removals, len(local) - len(uploads))


@dataclass
class BucketState:
    """What a publish found in the bucket before it built: the objects listed and the last manifest."""
    bucket: Bucket
    listed: set[str]
    manifest: dict[str, dict] | None


def bucket_state(url: str, storage_options: dict | None = None) -> BucketState:
    """Open ``url`` and read what it holds; refuses a prefix that holds anything but a published site.

    Called before the build, so a missing backend, a bucket that refuses the credentials or a prefix
    that is no site is one error line before minutes of building."""
    bucket = Bucket(url, storage_options)
    listed = bucket.list()
    manifest = read_sync_manifest(bucket) if SYNC_MANIFEST in listed else None
    if listed and manifest is None and SITE_MARKER not in listed:
        raise BucketNotASiteError(url, sorted(listed)[:3])
    return BucketState(bucket, listed, manifest)


def publish(folder: str, url: str, storage_options: dict | None = None, threads: int = UPLOAD_THREADS,
            state: BucketState | None = None) -> PublishReport:
    """Sync the built site in ``folder`` to the bucket prefix ``url`` (see the module docstring);
    ``state``: what bucket_state() found, when it was asked before the build."""
    started = time.monotonic()
    state = state or bucket_state(url, storage_options)
    local = local_site_files(folder)
    plan = plan_sync(local, state.manifest or {}, state.listed)
    report = PublishReport(url, plan.uploads, plan.removals, plan.unchanged)
    if plan.uploads or plan.removals or state.manifest is None:
        _upload_in_order(state.bucket, folder, local, plan.uploads, threads)
        state.bucket.write_text(SYNC_MANIFEST, sync_manifest_text(local),
                                ObjectHeaders("application/json", SHORT_CACHE_CONTROL))
        state.bucket.remove(plan.removals)
    report.bytes_uploaded = sum(local[relative].size for relative in plan.uploads)
    report.seconds = time.monotonic() - started
    return report


def build_and_publish(options: BuildOptions, cache: str | None = None, storage_options: dict | None = None,
                      progress=None) -> tuple[BuildReport, PublishReport]:
    """Build the site of ``options`` (whose ``out`` is a bucket URL) into ``cache``/site, or a
    temporary folder, and publish it there. The bucket is looked at first; nothing is uploaded
    when the build fails."""
    state = bucket_state(options.out, storage_options)
    if cache is None:
        with tempfile.TemporaryDirectory(prefix="tracker-site-") as scratch:
            return _build_and_publish(options, os.path.join(scratch, "site"), state, progress)
    return _build_and_publish(options, os.path.join(os.path.abspath(cache), "site"), state, progress)


def _build_and_publish(options: BuildOptions, folder: str, state: BucketState, progress):
    built = build(replace(options, out=folder), progress)
    return built, publish(folder, options.out, state=state)


def read_sync_manifest(bucket: Bucket) -> dict[str, dict] | None:
    """The files the last publish recorded; an unreadable manifest is warned about and means 'upload all'."""
    text = bucket.read_text(SYNC_MANIFEST)
    if text is None:
        return None
    try:
        data = json.loads(text)
        files = data["files"]
        if data.get("format") != SYNC_MANIFEST_FORMAT or not isinstance(files, dict):
            raise ValueError(f"format {data.get('format')!r}, expected {SYNC_MANIFEST_FORMAT}")
    except (ValueError, KeyError, TypeError) as exc:
        warnings.warn(f"tracker: {without_credentials(bucket.url)}/{SYNC_MANIFEST} is unreadable ({exc}); "
                      "uploading every file of the site again", stacklevel=2)
        return {}
    return files


def sync_manifest_text(local: dict[str, SiteFile]) -> str:
    return json.dumps({"format": SYNC_MANIFEST_FORMAT, "generator": f"tracker {__version__}",
                       "files": {relative: local[relative].entry() for relative in sorted(local)}},
                      separators=(",", ":")) + "\n"


def publish_line(report: PublishReport) -> str:
    """'published to s3://bucket/site: 3 uploaded (1.2 MB), 1 removed, 40 unchanged in 0.4s'."""
    return (f"published to {without_credentials(report.url)}: {len(report.uploaded)} uploaded "
            f"({report.bytes_uploaded / 1e6:.1f} MB), {len(report.removed)} removed, "
            f"{report.unchanged} unchanged in {report.seconds:.1f}s")


def _upload_in_order(bucket: Bucket, folder: str, local: dict[str, SiteFile], uploads: list[str],
                     threads: int) -> None:
    """Upload in three waves, each finished before the next: data and media, pages, the index page."""
    waves = [[relative for relative in uploads if not relative.endswith(".html")],
             [relative for relative in uploads if relative.endswith(".html") and relative != "index.html"],
             [relative for relative in uploads if relative == "index.html"]]
    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="tracker-upload") as pool:
        for wave in waves:
            for done in [pool.submit(bucket.upload, os.path.join(folder, *relative.split("/")), relative,
                                     local[relative].headers) for relative in wave]:
                done.result()  # the first failure stops the publish, naming its object


def _file_sha256(path: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size

