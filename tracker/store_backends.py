"""Which fsspec backend a store URL needs, the pip command that installs it, and a client of its own (fsspec imported on use only)."""
from __future__ import annotations

import importlib.util

from .version import DISTRIBUTION

# The module of each protocol's fsspec backend where it is not fsspec itself (file://, memory://).
BACKEND_MODULES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs",
                   "abfss": "adlfs"}
BACKEND_EXTRAS = {"s3fs": "s3", "gcsfs": "gcs", "adlfs": "azure"}  # pyproject.toml's extras


def protocol_of(url: str) -> str:
    return url.split("://", 1)[0].lower()


def install_hint(protocol: str) -> str:
    """The pip command that installs the backend of ``protocol`` (with fsspec)."""
    module = BACKEND_MODULES.get(protocol)
    if module in BACKEND_EXTRAS:
        return f"pip install '{DISTRIBUTION}[{BACKEND_EXTRAS[module]}]'"
    return f"pip install fsspec {module}" if module else "pip install fsspec"


def own_filesystem(url: str, storage_options: dict | None = None):
    """(fsspec filesystem, root path) of ``url``, an instance of its own: fsspec shares one per
    backend and options, made with the endpoint and credentials of its time, with its listings
    cache, and a later run or build of this process would use it after they changed. Raises what
    fsspec raises: ImportError for a missing backend, ValueError for an unknown protocol."""
    import fsspec.core  # optional (the store extras): loaded only for a store, and slow to import

    return fsspec.core.url_to_fs(url, skip_instance_cache=True, **(storage_options or {}))


def list_files(fs, root: str) -> dict[str, dict]:
    """Every file under ``root`` with its info (size, ETag or times), by path: one recursive
    listing. Raises what the backend raises (FileNotFoundError for a missing bucket on S3).

    On S3 this is s3fs's flat listing (ListObjectsV2 pages of 1,000 keys, no delimiter), the
    requests its ``find`` makes, without what find does next: file each object under every
    folder above it in its directory cache, where each new folder is looked for in its parent's
    list, so that 100,000 run folders under one prefix cost minutes of CPU (quadratic in them)."""
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    if "s3" in protocols and hasattr(fs, "_lsdir"):
        from fsspec.asyn import sync  # fsspec is loaded: fs is one of its filesystems

        return {entry["name"]: entry for entry in sync(fs.loop, fs._lsdir, root, delimiter="")
                if entry.get("type") == "file"}
    return fs.find(root, withdirs=False, detail=True)


def list_after(fs, folder: str, after: str) -> dict[str, dict]:
    """The files under ``folder`` whose paths sort after ``after``, with their info, by path. On S3
    one ListObjectsV2 with StartAfter (paged), so that only the keys past ``after`` are listed;
    elsewhere the folder is listed whole and filtered here."""
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    if "s3" in protocols and hasattr(fs, "_list_pages") and not getattr(fs, "version_aware", False):
        from fsspec.asyn import sync  # fsspec is loaded: fs is one of its filesystems

        bucket, key, _ = fs.split_path(folder)
        after_key = fs.split_path(after)[1]

        async def pages() -> dict[str, dict]:
            found = {}
            async for page in fs._list_pages("list_objects_v2", Bucket=bucket, Prefix=key.rstrip("/") + "/",
                                             StartAfter=after_key, **fs.req_kw):
                for item in page.get("Contents", []):
                    path = f"{bucket}/{item['Key']}"
                    found[path] = {**item, "name": path, "size": item.get("Size", 0), "type": "file"}
            return found

        return sync(fs.loop, pages)
    return {path: info for path, info in fs.find(folder, withdirs=False, detail=True).items() if path > after}


def fetch_all(fs, paths: list[str]) -> dict[str, bytes | Exception]:
    """Each path's bytes, or the exception its fetch raised (FileNotFoundError when it is gone),
    fetched together (s3fs fetches them concurrently)."""
    if not paths:
        return {}
    answers = fs.cat(paths, on_error="return")
    if len(paths) == 1 and not isinstance(answers, dict):  # cat() of one path answers its bytes
        answers = {paths[0]: answers}
    return {path: answers.get(path, FileNotFoundError(path)) for path in paths}


def missing_backend(url: str) -> str | None:
    """What to install for ``url`` (fsspec and, for s3://, s3fs...), found without importing them
    (fsspec alone takes about half a second to import), or None when it is installed."""
    protocol = protocol_of(url)
    for name in ("fsspec", BACKEND_MODULES.get(protocol)):
        if name and importlib.util.find_spec(name) is None:
            return f"{name}, which is not installed: {install_hint(protocol)}"
    return None


def missing_bucket(url: str, fs, root: str) -> str | None:
    """The bucket (or Azure container) of ``root`` when it does not exist, else None. Asked after a
    listing came back empty: adlfs lists a missing container as empty, where s3fs and gcsfs raise
    FileNotFoundError, and a publish or sync would otherwise go on as if into an empty prefix."""
    if protocol_of(url) not in BACKEND_MODULES:
        return None  # file://, memory://: no buckets
    bucket = root.strip("/").split("/", 1)[0]
    return None if fs.exists(bucket) else bucket
