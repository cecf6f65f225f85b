"""A site's bucket through fsspec: list a prefix, upload a file with its Content-Type and Cache-Control, remove objects.

fsspec and its backend (s3fs, gcsfs, adlfs) are optional extras, imported when a bucket is opened,
so `import tracker` and a local build never load them. Each backend names the object headers its
own way (s3fs: ContentType and CacheControl; gcsfs: content_type and fixed_key_metadata; adlfs:
content_settings); any other fsspec backend (memory://, file://) stores the bytes only. Credentials
are the backend's business (environment, profiles, fsspec's config): nothing here reads or keeps them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.store_urls import without_credentials
from tracker.store_backends import install_hint, missing_bucket, own_filesystem

from .errors import SiteError

S3_PROTOCOLS = {"s3", "s3a"}
GCS_PROTOCOLS = {"gs", "gcs"}
AZURE_PROTOCOLS = {"az", "abfs", "abfss"}
class BucketBackendMissing(SiteError):
    """--out names a URL whose fsspec backend (or fsspec itself) is not installed."""

    def __init__(self, url: str, protocol: str, module: str | None):
        self.url, self.protocol, self.module = url, protocol, module
        what = module or "an fsspec backend"
        super().__init__(f"--out {without_credentials(url)}: publishing to {protocol}:// needs {what}, "
                         f"which is not installed: {install_hint(protocol)}")


class UnknownBucketProtocol(SiteError):
    """--out names a URL whose protocol no fsspec backend registers."""

    def __init__(self, url: str, protocol: str):
        self.url, self.protocol = url, protocol
        super().__init__(f"--out {without_credentials(url)}: no fsspec backend knows {protocol}://; use s3://, "
                         "gs://, az:// or another protocol fsspec lists (fsspec.available_protocols()), or a folder")


class BucketError(OSError):
    """A call to the object store failed: names the object and keeps the backend's message."""

    def __init__(self, url: str, action: str, problem: BaseException):
        self.url, self.action, self.problem = url, action, problem
        super().__init__(f"{without_credentials(url)}: {action} failed: {type(problem).__name__}: {problem}")


@dataclass(frozen=True)
class ObjectHeaders:
    content_type: str
    cache_control: str


class Bucket:
    """The objects under one URL prefix, named by their path relative to it ('runs/x/index.html')."""

    def __init__(self, url: str, storage_options: dict | None = None):
        self.url = url.rstrip("/")
        protocol = self.url.split("://", 1)[0].lower()
        try:
            # Optional: the [s3], [gcs] and [azure] extras. Tried first to tell a missing fsspec
            # from a missing backend (own_filesystem imports it again, from the module cache).
            import fsspec.core  # noqa: F401
        except ImportError:
            raise BucketBackendMissing(url, protocol, None) from None
        try:
            self.fs, root = own_filesystem(self.url, storage_options)
        except ImportError as exc:  # fsspec knows the protocol; its package is missing
            raise BucketBackendMissing(url, protocol, exc.name or _module_named_in(str(exc))) from None
        except ValueError as exc:  # "Protocol not known"
            raise UnknownBucketProtocol(url, protocol) from exc
        self.root = root.rstrip("/")
        protocols = self.fs.protocol
        self.protocols = {protocols} if isinstance(protocols, str) else set(protocols)

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def list(self) -> set[str]:
        """Every object under the prefix: one paged listing (1,000 names a request on S3), no reads."""
        self.fs.invalidate_cache(self.root)  # another process may have changed it since this one looked
        try:  # a prefix with no objects lists as empty; FileNotFoundError is a bucket that does not exist
            found = self.fs.find(self.root)
            missing = None if found else missing_bucket(self.url, self.fs, self.root)
        except Exception as exc:
            raise BucketError(self.url, "listing the objects", exc) from exc
        if missing:
            raise BucketError(self.url, "listing the objects", FileNotFoundError(f"no such bucket or container: {missing}"))
        prefix = self.root + "/"
        return {path[len(prefix):] for path in found if path.startswith(prefix) and not path.endswith("/")}

    def read_text(self, relative: str) -> str | None:
        """One small object's text, or None when it is not there."""
        try:
            return self.fs.cat_file(self.path(relative)).decode("utf-8")
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise BucketError(self.url, f"reading {relative}", exc) from exc

    def upload(self, local_path: str, relative: str, headers: ObjectHeaders) -> None:
        try:
            self.fs.put_file(local_path, self.path(relative), **self._header_arguments(headers))
        except Exception as exc:
            raise BucketError(self.url, f"uploading {relative}", exc) from exc

    def write_text(self, relative: str, text: str, headers: ObjectHeaders) -> None:
        try:
            self.fs.pipe_file(self.path(relative), text.encode("utf-8"), **self._header_arguments(headers))
        except Exception as exc:
            raise BucketError(self.url, f"writing {relative}", exc) from exc

    def remove(self, relatives: list[str]) -> None:
        """Remove objects (S3 takes up to 1,000 in one request); ones already gone are fine."""
        if not relatives:
            return
        try:
            self.fs.rm([self.path(relative) for relative in relatives])
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise BucketError(self.url, f"removing {len(relatives)} stale object(s)", exc) from exc

    def _header_arguments(self, headers: ObjectHeaders) -> dict:
        """The keyword arguments through which this backend sets an object's headers."""
        if self.protocols & S3_PROTOCOLS:
            return {"ContentType": headers.content_type, "CacheControl": headers.cache_control}
        if self.protocols & GCS_PROTOCOLS:
            return {"content_type": headers.content_type,
                    "fixed_key_metadata": {"cache_control": headers.cache_control}}
        if self.protocols & AZURE_PROTOCOLS:
            # adlfs hands this to azure-storage-blob's upload_blob; the SDK comes with adlfs.
            from azure.storage.blob import ContentSettings
            return {"content_settings": ContentSettings(content_type=headers.content_type,
                                                        cache_control=headers.cache_control)}
        return {}


def _module_named_in(message: str) -> str | None:
    """fsspec's 'Install s3fs to access S3' -> 's3fs'."""
    found = re.search(r"[Ii]nstall (\S+)", message)
    return found.group(1) if found else None
