"""log_artifact: big files copied in the background and kept sparse, small ones a snapshot, names redacted."""
import hashlib
import os
import pathlib

import tracker
from tracker.reader import load_run

GIB = 1 << 30


def sha256_of_sparse(size: int, data_at: int, data: bytes) -> str:
    """The sha256 of a file of ``size`` zero bytes but for ``data`` at ``data_at``, computed the obvious way."""
    zeros = bytes(1 << 20)
    digest = hashlib.sha256()
    position = 0
    while position < data_at:
        step = min(len(zeros), data_at - position)
        digest.update(zeros[:step])
        position += step
    digest.update(data)
    position += len(data)
    while position < size:
        step = min(len(zeros), size - position)
        digest.update(zeros[:step])
        position += step
    return digest.hexdigest()


def test_a_2gb_sparse_file_is_copied_in_the_background_and_stays_sparse(tmp_path):
    source = tmp_path / "model.ckpt"
    with open(source, "wb") as handle:
        handle.truncate(2 * GIB)  # what `truncate -s 2G` makes: no data blocks
        handle.seek(GIB)
        handle.write(b"weights in the middle")
    run = tracker.init(dir=tmp_path / "runs", capture=False)
    stored = run.log_artifact(source)
    # Returned before the copy is done: neither the stored file nor its record exists yet.
    assert not os.path.exists(stored)
    assert load_run(run.path).artifacts == []
    run.finish()
    [record] = load_run(run.path).artifacts
    assert (record["name"], record["kind"], record["size_bytes"]) == ("model.ckpt", "file", 2 * GIB)
    assert record["sha256"] == sha256_of_sparse(2 * GIB, GIB, b"weights in the middle")
    copy = os.stat(stored)
    assert copy.st_size == 2 * GIB and copy.st_blocks * 512 <= 1 << 20  # holes stayed holes
    with open(stored, "rb") as handle:
        handle.seek(GIB)
        assert handle.read(21) == b"weights in the middle"
    assert [name for name in os.listdir(os.path.dirname(stored))] == ["model.ckpt"]  # no temporary left


def test_a_small_file_is_a_snapshot_of_the_call(tmp_path):
    source = tmp_path / "predictions.csv"
    source.write_text("epoch 1\n")
    with tracker.init(dir=tmp_path / "runs", capture=False) as run:
        stored = run.log_artifact(source)
        source.write_text("epoch 2, written right after the call\n")
    assert pathlib.Path(stored).read_text() == "epoch 1\n"
    [record] = load_run(run.path).artifacts
    assert record["sha256"] == hashlib.sha256(b"epoch 1\n").hexdigest()


def test_large_artifacts_are_recorded_in_call_order_and_finish_waits_for_them(tmp_path):
    sources = []
    for index in range(3):
        source = tmp_path / f"part{index}.bin"
        source.write_bytes(os.urandom(5 << 20))  # over the copy-at-call size: copied in the background
        sources.append(source)
    with tracker.init(dir=tmp_path / "runs", capture=False) as run:
        stored = [run.log_artifact(source) for source in sources]
    records = load_run(run.path).artifacts
    assert [record["name"] for record in records] == ["part0.bin", "part1.bin", "part2.bin"]
    for source, path, record in zip(sources, stored, records):
        assert pathlib.Path(path).read_bytes() == source.read_bytes()
        assert record["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()


AWS_KEY = "AKIAABCDEFGHIJKLMNOP"


def test_artifact_names_are_redacted_in_the_record_and_the_run_folder(tmp_path):
    secret_file = tmp_path / f"{AWS_KEY}.txt"
    secret_file.write_text("notes")
    folder = tmp_path / "checkpoint"
    (folder / AWS_KEY).mkdir(parents=True)
    (folder / AWS_KEY / "weights.bin").write_bytes(b"w")
    (folder / f"{AWS_KEY}.json").write_text("{}")
    with tracker.init(dir=tmp_path / "runs", capture=False) as run:
        run.log_artifact(secret_file)
        run.log_artifact(secret_file, name=f"keys/{AWS_KEY}.txt")
        run.log_artifact(folder)
    records = load_run(run.path).artifacts
    assert [record["name"] for record in records] == ["[REDACTED].txt", "keys/[REDACTED].txt", "checkpoint"]
    assert records[-1]["files"] == 2
    stored = sorted(str(path.relative_to(run.path)) for path in pathlib.Path(run.path, "artifacts").rglob("*"))
    assert stored == ["artifacts/[REDACTED].txt", "artifacts/checkpoint", "artifacts/checkpoint/[REDACTED]",
                      "artifacts/checkpoint/[REDACTED].json", "artifacts/checkpoint/[REDACTED]/weights.bin",
                      "artifacts/keys", "artifacts/keys/[REDACTED].txt"]
    for events in pathlib.Path(run.path).glob("events*.jsonl"):
        assert AWS_KEY not in events.read_text()
    assert pathlib.Path(run.path, "artifacts/keys/[REDACTED].txt").read_text() == "notes"
