"""tracker.atomic_file: the one way the tracker rewrites a file that others may be reading."""
from __future__ import annotations

import os
import threading

import pytest

from tracker.atomic_file import replace_file, replacing


def test_replace_file_writes_text_as_utf8_and_bytes_as_they_are(tmp_path):
    path = tmp_path / "state.json"
    replace_file(str(path), "héllo\n")
    assert path.read_bytes() == "héllo\n".encode()
    replace_file(str(path), b"\x00\xff")
    assert path.read_bytes() == b"\x00\xff"
    assert os.listdir(tmp_path) == ["state.json"]


def test_a_failed_replace_leaves_no_temporary_file_and_raises(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(IsADirectoryError):
        replace_file(str(target), "new")
    assert os.listdir(tmp_path) == ["taken"]


def test_a_streamed_write_that_raises_keeps_the_old_file_and_no_temporary_file(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk pulled"):
        with replacing(str(path)) as temporary, open(temporary, "wb") as handle:
            handle.write(b"half of the new")
            raise RuntimeError("disk pulled")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["weights.bin"]


def test_a_reader_sees_the_old_content_or_the_new_never_a_part(tmp_path):
    path = str(tmp_path / "page.html")
    contents = ["a" * 200_000, "b" * 300_000]
    replace_file(path, contents[0])
    done = threading.Event()
    seen = set()

    def read_while_replacing():
        while not done.is_set():
            with open(path) as handle:
                seen.add(handle.read())

    reader = threading.Thread(target=read_while_replacing)
    reader.start()
    try:
        for round_number in range(300):
            replace_file(path, contents[round_number % 2])
    finally:
        done.set()
        reader.join()
    assert seen <= set(contents) and seen
