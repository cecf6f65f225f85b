"""Reading an events file's ends (tracker/tail_reading.py): the usual head found without the
line loop ends where the loop ends it, a head longer than the first read is read on, a FIFO
named like an events file is never waited on, and a line with a ``\\u`` escape is told apart."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from tracker.tail_reading import HEAD_BYTES, _file_bytes, _has_escape, _head_by_lines, _usual_head

RUN = {"type": "run", "schema": 1, "id": "r1", "project": "p", "name": "n", "time": 1.0}
START = {"type": "start", "writer": "w0", "time": 1.0, "host": "h", "user": "u"}
END = {"type": "end", "writer": "w0", "time": 2.0, "status": "finished", "state": {"bytes": 0}}


def line(record) -> bytes:
    return (json.dumps(record, separators=(",", ":")) if isinstance(record, dict) else record).encode() + b"\n"


# Lines a head may begin with, as writers write them and as hands or other versions might
LINES = [RUN, START, {"type": "runner"}, {"type": "startle"}, {"type": "config", "values": {}},
         {"type": "metrics", "step": 0, "values": {"a": 1}}, '{"id":"r1","type":"run"}', '{ "type": "start" }',
         '{"type":"run","name":"' + "x" * HEAD_BYTES + '"}', "not json", "", "[1]", {"type": "tags", "add": ["t"]}]


def loop_head(file: str) -> bytes | None:
    """The head as the line loop finds it, from the same first read as _file_bytes makes."""
    data = Path(file).read_bytes()
    region = data.rstrip(b"\n").rfind(b"\n") + 1
    fd = os.open(file, os.O_RDONLY)
    try:
        return _head_by_lines(fd, region, data[:min(HEAD_BYTES, region)], file)
    finally:
        os.close(fd)


def test_the_usual_head_ends_where_the_line_loop_ends_it(tmp_path):
    rng = random.Random(3)
    file = str(tmp_path / "events.jsonl")
    usual = other = 0
    for attempt in range(600):
        head = [RUN, START] if attempt % 3 == 0 else []
        head += [rng.choice(LINES) for _ in range(rng.randrange(0, 5))]
        with open(file, "wb") as handle:
            handle.write(b"".join(map(line, head)) + line({"type": "metrics", "step": 1, "values": {}}) + line(END))
        found = _usual_head(Path(file).read_bytes()[:HEAD_BYTES])
        if found is not None:
            usual += 1
            assert found == loop_head(file), head
        else:
            other += 1
        read = _file_bytes(file)
        assert read is None or read[0] == loop_head(file), head  # what _file_bytes gives, either way
    assert usual > 80 and other > 300  # both ways were taken


def test_a_head_longer_than_the_first_read_is_read_on(tmp_path):
    file = tmp_path / "events.jsonl"
    run = RUN | {"name": "x" * (3 * HEAD_BYTES)}
    file.write_bytes(line(run) + line(START) + line({"type": "metrics", "step": 1, "values": {}}) + line(END))
    head, end, start = _file_bytes(str(file))
    assert head == line(run) + line(START) and end == line(END) and start == file.stat().st_size - len(line(END))


def test_a_file_of_its_head_and_its_end_record_only(tmp_path):
    file = tmp_path / "events.jsonl"
    file.write_bytes(line(RUN) + line(START) + line(END))
    assert _file_bytes(str(file)) == (line(RUN) + line(START), line(END), len(line(RUN) + line(START)))


@pytest.mark.parametrize("kind", ["fifo", "folder", "empty", "torn"])
def test_what_is_no_file_with_ends_gives_none_at_once(tmp_path, kind):
    path = tmp_path / "events.jsonl"
    if kind == "fifo":
        os.mkfifo(path)  # opened without blocking, and its size asked of it fails: never read
    elif kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(line(RUN) + line(START) + line(END)[:-3])
    assert _file_bytes(str(path)) is None


def test_a_line_with_a_unicode_escape_is_told_from_one_without():
    assert _has_escape(b'{"name":"caf\\u00e9"}') and _has_escape(b'{"a":"\\"","b":"\\ud800"}')
    assert not _has_escape(b'{"name":"plain"}') and not _has_escape(b'{"quote":"\\"u\\""}')
    assert _has_escape(b'{"path":"C:\\\\users"}')  # an escaped backslash before a u: taken as one, to be safe
