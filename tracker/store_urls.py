"""Store URLs: whether a runs location is an fsspec URL, and a URL as messages and files may show it.

Its own module, free of the segment format, so that ``tracker.init()`` asks these two questions
without importing what only the store's uploader and readers need.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# A scheme of two characters or more, so that a Windows drive (C:\runs) is never taken for one.
_STORE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
_ACCOUNT_HOST_SCHEMES = {"abfs", "abfss", "az"}  # adlfs: <container>@<account host> is no credential


def is_store_url(location) -> bool:
    """Whether a runs location (``dir=``, ``$TRACKER_DIR``, ``--runs``) is an fsspec URL such as
    ``s3://bucket/prefix``, rather than a local folder."""
    return isinstance(location, str) and bool(_STORE_URL.match(location))


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` removed: for messages and the files a spool or cache keeps.
    Azure's ``abfs://container@account.dfs.core.windows.net/path`` keeps its ``container@``: it
    names the container, and without it ``tracker sync`` would upload to another one."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    if parts.scheme.lower() in _ACCOUNT_HOST_SCHEMES and ":" not in userinfo:
        return url
    return urlunsplit(parts._replace(netloc=host))
