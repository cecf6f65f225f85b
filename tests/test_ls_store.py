"""tracker ls of a store (--runs s3://bucket/prefix, or $TRACKER_DIR naming one) speaks of the store, not
of the local cache it reads (tracker/store_cache.py), through a real S3-compatible server (moto)."""
from __future__ import annotations

import re

import pytest

from s3_server import s3_environment, s3_server  # noqa: F401 (a fixture)
from test_site_support import run_cli

import fsspec  # noqa: E402  (s3_server skips this module without s3fs, which brings fsspec)


@pytest.fixture
def bucket(s3_server, monkeypatch, request, tmp_path):
    """A new, empty bucket, the endpoint and dummy credentials in the environment, and a cache folder."""
    s3_environment(monkeypatch, s3_server.endpoint)
    monkeypatch.setenv("TRACKER_CACHE_DIR", str(tmp_path / "user-cache"))
    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-")
    fsspec.filesystem("s3", skip_instance_cache=True).mkdir(name)
    return name


def test_an_empty_store_is_named_by_its_url(bucket, tmp_path):
    store = f"s3://{bucket}/empty"
    code, stdout, stderr = run_cli("ls", "--runs", store)
    assert (code, stdout) == (0, f"no runs in {store}\n"), stderr
    assert "user-cache" not in stdout

    code, stdout, _ = run_cli("ls", "--runs", store, "--runs", str(tmp_path / "none-here"))
    assert (code, stdout) == (0, f"no runs in {store}, {tmp_path / 'none-here'}\n")


def test_an_empty_store_named_by_tracker_dir_is_named_by_its_url(bucket, monkeypatch):
    store = f"s3://{bucket}/team/runs"
    monkeypatch.setenv("TRACKER_DIR", store)
    code, stdout, stderr = run_cli("ls")
    assert (code, stdout) == (0, f"no runs in {store}\n"), stderr
    code, stdout, _ = run_cli("ls", "--group-by", "optimizer")
    assert (code, stdout) == (0, f"no runs in {store}\n")
