"""A real GCS emulator for tests: gcp-storage-emulator's HTTP server on 127.0.0.1, in this process, read through gcsfs.

gcsfs talks to it as to Google's JSON API when STORAGE_EMULATOR_HOST names it (``gcs_environment``
sets what a CI job sets). Two settings make gcsfs usable against an emulator: anonymous access
(``FSSPEC_GS_TOKEN=anon``: fsspec's config for gs://; otherwise gcsfs looks for Google credentials
and the metadata server first), and GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false (gcsfs asks Google's
gRPC storage-control API whether a bucket is hierarchical, which no emulator answers: every call
then hangs in retries). The emulator keeps its objects in memory; a fixture serves one test module.
"""
from __future__ import annotations

import os

import pytest

from frameworks import require_framework

# Read by gcsfs when it is imported: set before any test imports it.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")


class GCSServer:
    """gcp-storage-emulator on a free port of 127.0.0.1; ``endpoint`` is what STORAGE_EMULATOR_HOST takes."""

    def __init__(self):
        require_framework("gcsfs", extra="gcs")
        emulator = require_framework("gcp_storage_emulator.server", extra="dev")
        self.server = emulator.create_server("127.0.0.1", 0, in_memory=True)
        self.server.start()
        self.port = self.server._api._httpd.server_port  # port 0 asked for a free one: read back which
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """What a job logging to gs:// on this emulator sets."""
        return {"STORAGE_EMULATOR_HOST": self.endpoint, "FSSPEC_GS_TOKEN": "anon",
                "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}

    def filesystem(self):
        """A gcsfs client of the test's own, to make buckets and read back what was stored."""
        import gcsfs

        return gcsfs.GCSFileSystem(token="anon", endpoint_url=self.endpoint, skip_instance_cache=True)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def gcs_server():
    """One emulator for a test module (import this fixture into it)."""
    server = GCSServer()
    yield server
    server.stop()
