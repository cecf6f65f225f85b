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
