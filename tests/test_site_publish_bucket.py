"""`tracker build --out s3://bucket/site`: a site published to a real S3-compatible server (moto's server
mode on 127.0.0.1, as s3fs's own tests use), fetched back over HTTP; republishing uploads only what changed.
The same publish from runs in a store, on GCS (gcp-storage-emulator) and Azure Blob (Azurite)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

import tracker
from frameworks import require_framework
from s3_server import ACCESS_KEY_ID, SECRET_ACCESS_KEY, S3Server, s3_environment
from store_servers import BACKENDS, azure_server, backend_bucket, gcs_server, s3_server  # noqa: F401 (fixtures)
from test_site_support import append_record, log_run, run_cli

boto3 = require_framework("boto3", extra="dev")

from tracker.store_cache import StoreCache  # noqa: E402
from sitegen.publish import (LONG_CACHE_CONTROL, SHORT_CACHE_CONTROL, SYNC_MANIFEST, local_site_files,  # noqa: E402
                             object_headers, plan_sync, publish)

PUBLISHED = re.compile(r"published to (\S+): (\d+) uploaded \([\d.]+ MB\), (\d+) removed, (\d+) unchanged in \d+\.\ds$")


def object_puts(server: S3Server, bucket: str) -> list[str]:
    """The object keys of the PUT requests the server answered so far (multipart parts included)."""
    prefix = f"/{bucket}/"
    return sorted(path[len(prefix):] for method, path, _ in server.requests
                  if method == "PUT" and path.startswith(prefix))


def http_get(server: S3Server, bucket: str, key: str):
    """A plain HTTP GET of one object, as a browser asks for it: (status, headers, body)."""
    try:
        with urllib.request.urlopen(f"{server.endpoint}/{bucket}/{key}", timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def s3(s3_server, monkeypatch, request):
    """Dummy credentials and the endpoint in the environment, as a CI job sets them, and a new bucket."""
    s3_environment(monkeypatch, s3_server.endpoint)
    # The index page says the minute it was built: two builds either side of a minute's turn would
    # upload it again, where these tests count what a rebuild sends (CI saw 2 uploads for 1 once).
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    bucket = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:50].strip("-")
    client = boto3.client("s3", endpoint_url=s3_server.endpoint)
    client.create_bucket(Bucket=bucket)
    # What docs/site.md says to set up for a website bucket; moto keeps it but serves no website
    # endpoint, so the tests GET the objects through its REST API.
    client.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    s3_server.requests.clear()
    return bucket, client


def bucket_objects(client, bucket: str, prefix: str) -> dict[str, bytes]:
    keys = [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])]
    return {key[len(prefix):]: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def build_to(runs, url: str, *extra: str) -> tuple[int, int, int]:
    """``tracker build --out URL``: (uploaded, removed, unchanged) from its report line."""
    code, stdout, stderr = run_cli("build", "--runs", str(runs), "--out", url, *extra)
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert re.match(r"built \d+ runs?[ ;]", lines[0]), stdout
    found = PUBLISHED.match(lines[1])
    assert found and found.group(1) == url, stdout
    return int(found.group(2)), int(found.group(3)), int(found.group(4))


def test_published_site_is_served_over_http_with_its_types(tmp_path, s3_server, s3):
    bucket, client = s3
    runs = tmp_path / "runs"
    paths = [log_run(runs, f"lr-{n}", config={"lr": 0.1 * (n + 1)}, metrics=[{"loss": 1.0 / (s + 1)} for s in range(4)])
             for n in range(2)]
    slug = os.path.basename(paths[0])

    uploaded, removed, unchanged = build_to(runs, f"s3://{bucket}/experiments", "--cache", str(tmp_path / "cache"))

    local = local_site_files(str(tmp_path / "cache" / "site"))
    assert (uploaded, removed, unchanged) == (len(local), 0, 0)
    assert object_puts(s3_server, bucket) == sorted([f"experiments/{relative}" for relative in local]
                                           + [f"experiments/{SYNC_MANIFEST}"])  # one PUT per file, no more
    in_order = [path.split("/experiments/", 1)[1] for method, path, _ in s3_server.requests if method == "PUT"]
    assert in_order[-2:] == ["index.html", SYNC_MANIFEST]  # the index page last, then the manifest
    first_page = min(index for index, relative in enumerate(in_order) if relative.endswith(".html"))
    assert not any(relative.endswith(".js") for relative in in_order[first_page:])  # pages after their data
    status, headers, body = http_get(s3_server, bucket, "experiments/index.html")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == SHORT_CACHE_CONTROL
    assert b"<title>" in body and b"Experiments" in body
    status, headers, body = http_get(s3_server, bucket, f"experiments/runs/{slug}/index.html")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"lr-0" in body and f"data/runs/{slug}.js".encode() in body
    status, headers, body = http_get(s3_server, bucket, f"experiments/data/runs/{slug}.js")
    assert status == 200 and headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert body.startswith(b"window.TrackerData") or b"TrackerData" in body
    plotly = next(relative for relative in local if relative.startswith("assets/vendor/plotly-"))
    status, headers, _ = http_get(s3_server, bucket, f"experiments/{plotly}")
    assert status == 200 and headers["Cache-Control"] == LONG_CACHE_CONTROL
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    status, headers, _ = http_get(s3_server, bucket, "experiments/assets/css/site.css")
    assert headers["Content-Type"] == "text/css; charset=utf-8" and headers["Cache-Control"] == SHORT_CACHE_CONTROL

    objects = bucket_objects(client, bucket, "experiments/")
    for relative, file in local.items():  # the bucket holds the site byte for byte
        with open(tmp_path / "cache" / "site" / relative, "rb") as handle:
            assert objects[relative] == handle.read(), relative
    manifest = json.loads(objects[SYNC_MANIFEST])
    assert manifest["files"]["index.html"] == local["index.html"].entry()
    for relative, data in objects.items():  # credentials reach the server, never an object
        assert ACCESS_KEY_ID.encode() not in data and SECRET_ACCESS_KEY.encode() not in data, relative
        assert s3_server.endpoint.encode() not in data, relative


def test_republish_uploads_only_what_changed_and_removes_a_deleted_run(tmp_path, s3_server, s3):
    bucket, client = s3
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    paths = [log_run(runs, f"run-{n}", metrics=[{"loss": 1.0 / (s + 1)} for s in range(4)]) for n in range(3)]
    changed, removed_run, kept = (os.path.basename(path) for path in paths)
    url = f"s3://{bucket}/site"
    build_to(runs, url, "--cache", str(cache))
    before = {relative: file.sha256 for relative, file in local_site_files(str(cache / "site")).items()}
    s3_server.requests.clear()

    append_record(paths[0], {"type": "metrics", "time": 2e9, "step": 4, "values": {"loss": 0.01}})
    shutil.rmtree(paths[1])
    uploaded, removed, unchanged = build_to(runs, url, "--cache", str(cache))

    after = {relative: file.sha256 for relative, file in local_site_files(str(cache / "site")).items()}
    differs = sorted(relative for relative in after if before.get(relative) != after[relative])
    gone = sorted(set(before) - set(after))
    assert object_puts(s3_server, bucket) == sorted([f"site/{relative}" for relative in differs]
                                                    + [f"site/{SYNC_MANIFEST}"])
    assert (uploaded, removed, unchanged) == (len(differs), len(gone), len(after) - len(differs))
    assert f"runs/{changed}/index.html" in differs and f"data/runs/{changed}.js" in differs
    assert not any(kept in relative for relative in differs)  # the untouched run's page is not sent again
    assert len(differs) <= 8, differs  # the changed run and the pages of all runs, not the site
    assert f"runs/{removed_run}/index.html" in gone
    assert http_get(s3_server, bucket, f"site/runs/{removed_run}/index.html")[0] == 404
    assert http_get(s3_server, bucket, f"site/data/runs/{removed_run}.js")[0] == 404
    assert set(bucket_objects(client, bucket, "site/")) == set(after) | {SYNC_MANIFEST}

    # A fresh build in a temporary folder (no --cache, as a CI job without a restored cache)
    # compares against the bucket's manifest: nothing changed, nothing is sent.
    s3_server.requests.clear()
    assert build_to(runs, url) == (0, 0, len(after))
    assert object_puts(s3_server, bucket) == []


def test_object_deleted_by_hand_is_uploaded_again_and_strays_are_removed(tmp_path, s3_server, s3):
    bucket, client = s3
    runs = tmp_path / "runs"
    log_run(runs, "only", metrics=[{"loss": 1.0}])
    url = f"s3://{bucket}/site"
    build_to(runs, url)
    client.delete_object(Bucket=bucket, Key="site/compare.html")
    client.put_object(Bucket=bucket, Key="site/old/stray.html", Body=b"left by hand")
    s3_server.requests.clear()

    uploaded, removed, _ = build_to(runs, url)

    assert (uploaded, removed) == (1, 1)
    assert object_puts(s3_server, bucket) == ["site/.tracker-site-manifest.json", "site/compare.html"]
    assert http_get(s3_server, bucket, "site/compare.html")[0] == 200
    assert http_get(s3_server, bucket, "site/old/stray.html")[0] == 404


def test_runs_from_a_store_and_the_site_to_a_bucket_share_one_cache(tmp_path, monkeypatch, s3_server, s3):
    """The CI shape: runs logged to s3://.../runs, the site published to s3://.../site, one --cache DIR
    (DIR/store for the runs, DIR/site for the site) restored between jobs."""
    bucket, _ = s3
    monkeypatch.setenv("TRACKER_SPOOL", str(tmp_path / "spool"))
    for n in range(2):
        run = tracker.init(project="store", name=f"stored-{n}", dir=f"s3://{bucket}/runs", capture=False)
        run.log({"loss": 1.0 / (n + 1)}, step=0)
        run.finish()
    cache = tmp_path / "cache"
    uploaded, _, _ = build_to(f"s3://{bucket}/runs", f"s3://{bucket}/site", "--cache", str(cache))
    assert sorted(os.listdir(cache)) == ["site", "store"]
    assert uploaded == len(local_site_files(str(cache / "site")))
    status, _, body = http_get(s3_server, bucket, "site/index.html")
    assert status == 200
    status, _, body = http_get(s3_server, bucket, "site/data/index.js")
    assert status == 200 and b"stored-0" in body and b"stored-1" in body


def stored_headers(backend, path: str) -> tuple[str, str | None]:
    """(Content-Type, Cache-Control) of an object as its backend stores them."""
    info = backend.fs.info(path)
    if backend.protocol == "az":
        return info["content_settings"]["content_type"], info["content_settings"]["cache_control"]
    return info["contentType"], info.get("cacheControl")


def served(backend, key: str) -> tuple[int, str, bytes]:
    """A plain HTTP GET of an object, as a browser asks a public bucket: (status, Content-Type, body)."""
    try:
        with urllib.request.urlopen(f"{backend.http_base}/{key}", timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, "", b""


@pytest.mark.parametrize("backend_bucket", ["gs", "az"], indirect=True)
def test_a_site_from_runs_in_a_store_is_published_to_the_bucket_and_republished_by_its_changes(
        tmp_path, monkeypatch, backend_bucket):
    """The CI shape on GCS and Azure: runs logged to <bucket>/runs, the site built from them and
    published to <bucket>/site; a run added and one removed, then only what changed is sent."""
    store = backend_bucket
    for name, value in store.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TRACKER_SPOOL", str(tmp_path / "spool"))
    runs, site, cache = store.url("runs"), store.url("site"), tmp_path / "cache"

    def log(name: str) -> str:
        run = tracker.init(project="store", name=name, dir=runs, capture=False)
        run.log({"loss": 0.5}, step=0)
        run.finish()
        return run.id

    first = [log("stored-0"), log("stored-1")]
    assert build_to(runs, site, "--cache", str(cache))[1:] == (0, 0)
    before = local_site_files(str(cache / "site"))
    prefix = f"{store.bucket}/site/"
    store.fs.invalidate_cache()
    assert {path[len(prefix):] for path in store.fs.find(prefix)} == set(before) | {SYNC_MANIFEST}

    # What a browser gets, and the headers each object was given
    status, content_type, body = served(store, "site/index.html")
    assert status == 200 and b"Experiments" in body and body == (cache / "site" / "index.html").read_bytes()
    status, _, body = served(store, "site/data/index.js")
    assert status == 200 and b"stored-0" in body and b"stored-1" in body
    plotly = next(relative for relative in before if relative.startswith("assets/vendor/plotly-"))
    for relative in ("index.html", "data/index.js", "assets/css/site.css", plotly, SYNC_MANIFEST):
        expected = object_headers(relative)
        content_type, cache_control = stored_headers(store, prefix + relative)
        if store.protocol == "gs":  # the emulator keeps the media type only: 'text/html' of 'text/html; charset=utf-8'
            content_type = content_type + expected.content_type[len(content_type):]
        assert (content_type, cache_control) == (expected.content_type, expected.cache_control), relative
        if relative != SYNC_MANIFEST:
            assert served(store, f"site/{relative}")[1].split(";")[0] == expected.content_type.split(";")[0]

    # The store's listing gives each object a version that holds still: a second sync downloads nothing
    synced = StoreCache(runs, folder=str(tmp_path / "runs-cache"))
    run_objects = [path for path in store.fs.find(f"{store.bucket}/runs") if "/.changes/" not in path]
    assert synced.sync().downloaded == len(run_objects) > 0  # each run object; no journal entry
    assert (synced.sync().downloaded, synced.sync().removed) == (0, 0)

    added = log("stored-2")
    store.fs.rm(f"{store.bucket}/runs/{first[0]}", recursive=True)
    # A run removed by hand leaves no journal entry: readers drop it at their next whole listing,
    # which a person asks for now as docs/storage.md says.
    monkeypatch.setenv("TRACKER_STORE_FULL_LISTING_S", "0")
    report = synced.sync()
    assert report.downloaded == len(store.fs.find(f"{store.bucket}/runs/{added}")) and report.removed > 0
    uploaded, removed, unchanged = build_to(runs, site, "--cache", str(cache))

    after = local_site_files(str(cache / "site"))
    differs = sorted(relative for relative in after if before.get(relative) != after[relative])
    gone = sorted(set(before) - set(after))
    assert (uploaded, removed, unchanged) == (len(differs), len(gone), len(after) - len(differs))
    assert f"data/runs/{added}.js" in differs and f"runs/{first[0]}/index.html" in gone
    assert not any(first[1] in relative for relative in differs)  # the untouched run is not sent again
    store.fs.invalidate_cache()
    held = {path[len(prefix):]: store.fs.cat_file(path) for path in store.fs.find(prefix)}
    assert set(held) == set(after) | {SYNC_MANIFEST}
    assert served(store, f"site/runs/{first[0]}/index.html")[0] == 404
    assert served(store, f"site/runs/{added}/index.html")[0] == 200
    for relative, data in held.items():  # credentials reach the server, never an object
        assert not any(secret.encode() in data for secret in store.secrets), relative


@pytest.mark.parametrize("backend_bucket", BACKENDS, indirect=True)
def test_a_missing_bucket_of_each_backend_is_one_error_line(tmp_path, monkeypatch, backend_bucket):
    for name, value in backend_bucket.env.items():
        monkeypatch.setenv(name, value)
    log_run(tmp_path / "runs", "only", metrics=[{"loss": 1.0}])
    url = f"{backend_bucket.protocol}://no-such-bucket-here/site"
    code, stdout, stderr = run_cli("build", "--runs", str(tmp_path / "runs"), "--out", url, "--cache",
                                   str(tmp_path / "cache"))
    assert (code, stdout) == (1, "")
    assert stderr.startswith(f"tracker: error: {url}: listing the objects failed: FileNotFoundError: "), stderr
    assert not (tmp_path / "cache").exists()  # found before building
    runs = f"{backend_bucket.protocol}://no-such-bucket-here/runs"
    monkeypatch.setenv("TRACKER_CACHE_DIR", str(tmp_path / "store-cache"))
    assert run_cli("ls", "--runs", runs) == \
        (2, "", f"tracker: error: --runs {runs}: no such bucket or container\n")


def test_a_prefix_holding_other_objects_is_refused(tmp_path, s3):
    bucket, client = s3
    log_run(tmp_path / "runs", "only", metrics=[{"loss": 1.0}])
    client.put_object(Bucket=bucket, Key="docs/readme.txt", Body=b"not a site")

    code, stdout, stderr = run_cli("build", "--runs", str(tmp_path / "runs"), "--out", f"s3://{bucket}/docs")

    assert code == 2 and stdout == ""
    assert stderr == (f"tracker: error: --out s3://{bucket}/docs holds objects that 'tracker build' did not "
                      f"publish (e.g. readme.txt) and no {SYNC_MANIFEST}; choose an empty or new prefix\n")
    assert list(bucket_objects(client, bucket, "docs/")) == ["readme.txt"]


def test_without_fsspec_the_error_names_the_extra_before_any_build(tmp_path):
    log_run(tmp_path / "runs", "only", metrics=[{"loss": 1.0}])
    code = ("import sys\nsys.modules['fsspec'] = None  # as in an install without the [s3] extra\n"
            "from tracker.cli import main\n"
            f"sys.exit(main(['build', '--runs', {str(tmp_path / 'runs')!r}, '--out', 's3://team-site/site', "
            f"'--cache', {str(tmp_path / 'cache')!r}]))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("tracker: error: --out s3://team-site/site: publishing to s3:// needs an fsspec "
                             "backend, which is not installed: pip install 'serverless-ml-tracker[s3]'\n")
    assert not (tmp_path / "cache").exists()  # refused before building


def test_a_missing_bucket_is_one_error_line(tmp_path, s3):
    log_run(tmp_path / "runs", "only", metrics=[{"loss": 1.0}])
    code, stdout, stderr = run_cli("build", "--runs", str(tmp_path / "runs"), "--out", "s3://no-such-bucket-here/site")
    assert (code, stdout) == (1, "")  # found before building
    assert stderr == ("tracker: error: s3://no-such-bucket-here/site: listing the objects failed: "
                      "FileNotFoundError: The specified bucket does not exist\n")


def test_memory_url_and_the_python_api(tmp_path):
    """memory:// (fsspec's in-process store): the same sync, no headers to set."""
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    log_run(runs, "a", metrics=[{"loss": 1.0}])
    url = f"memory://tracker-test-{os.getpid()}/site"
    uploaded, _, _ = build_to(runs, url, "--cache", str(cache))
    assert uploaded == len(local_site_files(str(cache / "site")))
    report = publish(str(cache / "site"), url)
    assert (report.uploaded, report.removed) == ([], [])


def test_plan_and_headers_need_no_bucket():
    site = {"index.html": object_headers("index.html"), "media/ab/ab12.png": object_headers("media/ab/ab12.png"),
            "runs/x/metrics.csv.gz": object_headers("runs/x/metrics.csv.gz")}
    assert site["index.html"].content_type == "text/html; charset=utf-8"
    assert site["media/ab/ab12.png"] == object_headers("media/ab/ab12.png")
    assert site["media/ab/ab12.png"].content_type == "image/png"
    assert site["media/ab/ab12.png"].cache_control == LONG_CACHE_CONTROL
    assert site["runs/x/metrics.csv.gz"].content_type == "application/gzip"
    assert object_headers("environments/0a1b/requirements.txt").cache_control == LONG_CACHE_CONTROL
    assert object_headers("data/index.js").cache_control == SHORT_CACHE_CONTROL
    assert object_headers("runs/x/env/Dockerfile").content_type == "text/plain; charset=utf-8"


def test_upload_order_pages_after_their_data_and_the_index_last():
    from sitegen.publish import SiteFile
    local = {name: SiteFile(name, 1, "t", "c") for name in
             ("index.html", "runs/a/index.html", "data/runs/a.js", "data/index.js", "media/aa/aa.png")}
    plan = plan_sync(local, {}, {"gone.html"})
    assert plan.uploads == ["data/index.js", "data/runs/a.js", "media/aa/aa.png", "runs/a/index.html", "index.html"]
    assert plan.removals == ["gone.html"]
    same = plan_sync(local, {name: file.entry() for name, file in local.items()}, set(local))
    assert (same.uploads, same.removals, same.unchanged) == ([], [], 5)


def test_a_local_build_and_import_tracker_never_load_fsspec(tmp_path):
    log_run(tmp_path / "runs", "only", metrics=[{"loss": 1.0}])
    code = ("import sys\nfrom tracker.cli import main\n"
            f"assert main(['build', '--runs', {str(tmp_path / 'runs')!r}, '--out', {str(tmp_path / 'site')!r}]) == 0\n"
            "import tracker\n"
            "loaded = sorted(name for name in sys.modules if name.split('.')[0] in ('fsspec', 's3fs', 'botocore'))\n"
            "assert not loaded, loaded\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
