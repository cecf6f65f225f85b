"""An empty bucket on each object store the tests start a real server for: S3 (moto), GCS
(gcp-storage-emulator) and Azure Blob (Azurite), behind one fixture, ``backend_bucket``.

A test runs on S3 alone, or on each backend with
``@pytest.mark.parametrize("backend_bucket", BACKENDS, indirect=True)``; its module imports the
fixtures it may use: ``from store_servers import BACKENDS, azure_server, backend_bucket,
gcs_server, s3_server``. Each server starts once per module, and only when a test asks for its
backend. Under CI=true a missing backend or emulator fails the test (tests/frameworks.py).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pytest

from azure_server import ACCOUNT_KEY, azure_server  # noqa: F401 (a fixture)
from gcs_server import gcs_server  # noqa: F401 (a fixture)
from s3_server import ACCESS_KEY_ID, SECRET_ACCESS_KEY, s3_server  # noqa: F401 (a fixture)

BACKENDS = ("s3", "gs", "az")
SERVER_FIXTURES = {"s3": "s3_server", "gs": "gcs_server", "az": "azure_server"}


@dataclass
class BackendBucket:
    """A new bucket (an Azure container) of one backend's server."""
    protocol: str                 # s3, gs or az: the URL scheme
    bucket: str
    fs: object                    # an fsspec filesystem of the test's own
    env: dict[str, str]           # what a job sets to reach the server: endpoint, credentials
    http_base: str                # a plain HTTP GET of f"{http_base}/{key}" answers the object
    secrets: tuple[str, ...]      # credentials that no record, spool file, object or site may hold

    def url(self, prefix: str) -> str:
        return f"{self.protocol}://{self.bucket}/{prefix}"


@pytest.fixture
def backend_bucket(request) -> BackendBucket:
    """A new bucket on the backend the test is parametrized with (S3 when it is not)."""
    protocol = getattr(request, "param", "s3")
    server = request.getfixturevalue(SERVER_FIXTURES[protocol])
    # Names all three accept: lower-case letters, digits and single hyphens, 3 to 63 characters.
    name = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", request.node.name.lower()))[5:45].strip("-")
    if protocol == "s3":
        import s3fs

        env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": server.endpoint}
        fs = s3fs.S3FileSystem(key=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY, endpoint_url=server.endpoint,
                               skip_instance_cache=True)
        fs.mkdir(name)
        return BackendBucket(protocol, name, fs, env, f"{server.endpoint}/{name}", (ACCESS_KEY_ID, SECRET_ACCESS_KEY))
    if protocol == "gs":
        fs = server.filesystem()
        fs.mkdir(name)
        return BackendBucket(protocol, name, fs, server.environment(), f"{server.endpoint}/{name}", ())
    server.make_public_container(name)
    return BackendBucket(protocol, name, server.filesystem(), server.environment(), f"{server.blob_endpoint}/{name}",
                         (ACCOUNT_KEY, server.connection_string))


def job_environment(backend: BackendBucket, **settings: str) -> dict[str, str]:
    """This process's environment with the backend's settings and ``settings``, for a training job."""
    env = dict(os.environ, **backend.env, **settings)
    for name in ("AWS_PROFILE", "GOOGLE_APPLICATION_CREDENTIALS"):
        env.pop(name, None)
    return env
