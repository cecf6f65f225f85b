"""A real Azure Blob emulator for tests: Azurite's blob service on 127.0.0.1 (a node process), read through adlfs.

Azurite (``npm install -g azurite``) serves the well-known development account devstoreaccount1;
adlfs and a training job find it through AZURE_STORAGE_CONNECTION_STRING, as they would a real
account (``environment``). It keeps its blobs in memory (--inMemoryPersistence) and is started once
per test module. Under CI=true a missing azurite or adlfs fails the test; elsewhere it is skipped.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest

from frameworks import require_framework

ACCOUNT_NAME = "devstoreaccount1"
# Azurite's published development key (docs: "Authorization for tools and SDKs"): every Azurite has it.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AzuriteServer:
    """Azurite's blob service on a free port; ``blob_endpoint`` is the account's URL."""

    def __init__(self, folder: str):
        require_framework("adlfs", extra="azure")
        command = shutil.which("azurite-blob")
        if command is None:
            message = "azurite is not installed: npm install -g azurite"
            if os.environ.get("CI") == "true":
                pytest.fail(f"{message} (.ci/run must install it)", pytrace=False)
            pytest.skip(message)
        self.port = free_port()
        self.blob_endpoint = f"http://127.0.0.1:{self.port}/{ACCOUNT_NAME}"
        self.connection_string = (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};"
                                  f"AccountKey={ACCOUNT_KEY};BlobEndpoint={self.blob_endpoint};")
        # --skipApiVersionCheck: azure-storage-blob may be newer than the API versions Azurite knows.
        self.log = os.path.join(folder, "azurite.log")
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [command, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--inMemoryPersistence", "--silent",
                 "--skipApiVersionCheck", "--disableTelemetry"],
                cwd=folder, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    with open(self.log) as log:
                        raise RuntimeError(f"azurite did not start on port {self.port}: {log.read()}")
                time.sleep(0.1)

    def environment(self) -> dict[str, str]:
        """What a job logging to az:// on this emulator sets."""
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string}

    def filesystem(self):
        """An adlfs client of the test's own, to make containers and read back what was stored."""
        import adlfs

        return adlfs.AzureBlobFileSystem(connection_string=self.connection_string, skip_instance_cache=True)

    def make_public_container(self, name: str) -> None:
        """A container whose blobs anyone may GET, as a static site's container is."""
        from azure.storage.blob import BlobServiceClient

        BlobServiceClient.from_connection_string(self.connection_string).create_container(name, public_access="blob")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def azure_server(tmp_path_factory):
    """One Azurite for a test module (import this fixture into it)."""
    server = AzuriteServer(str(tmp_path_factory.mktemp("azurite")))
    yield server
    server.stop()
