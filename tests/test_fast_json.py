"""msgspec on the read path gives exactly what json alone gives: for every case where the two
libraries differ (lone surrogates, ints beyond 64 bits, NaN, numbers beyond a double, deep
nesting, duplicate keys, a BOM, non-UTF-8 bytes), the records, line numbers and problems of a
file read through event_lines.record_chunks are those of a read with json only (a light install,
where msgspec is missing), both through the chunk parse and through the line-by-line one."""
from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tracker import fast_json
from tracker.event_lines import CHUNK_BYTES, record_chunks
from tracker.problems import Problems

ROOT = Path(__file__).resolve().parent.parent
GOOD = b'{"type":"metrics","step":1,"time":1790000000.5,"values":{"loss":0.25,"acc":"NaN"}}'
CORRUPT = b'{"type":"metrics","step":'  # forces the line-by-line parse of its chunk


def read(path: Path) -> tuple[str, list[int], list[str]]:
    """Everything record_chunks makes of ``path``: repr of the records (NaN compares equal), numbers, problems."""
    problems = Problems(warn=False)
    records, numbers = [], []
    for chunk, chunk_numbers in record_chunks(str(path), problems):
        records.extend(chunk)
        numbers.extend(chunk_numbers)
    return repr(records), numbers, list(problems)


def read_both_ways(path: Path, monkeypatch) -> tuple[tuple, tuple]:
    """``read(path)`` with msgspec, then as a light install reads it: decode_fast finds no
    msgspec and json decides. Both from the same stack depth, where json's nesting limit counts."""
    fast = read(path)
    with monkeypatch.context() as patch:
        patch.setattr(fast_json, "_decode", False)
        json_only = read(path)
    return fast, json_only


def nested(depth: int) -> bytes:
    return b'{"type":"notes","text":"x","deep":' + b"[" * depth + b"]" * depth + b"}"


CASES = {
    "lone surrogate escape": b'{"type":"notes","text":"caf\\udce9.csv"}',
    "lone high surrogate then text": b'{"type":"notes","text":"\\ud800x"}',
    "surrogate pair": b'{"type":"notes","text":"\\ud83d\\ude00"}',
    "raw UTF-8 surrogate bytes": b'{"type":"notes","text":"caf\xed\xb3\xa9"}',
    "int of 2**64": b'{"type":"summary","values":{"n":18446744073709551616}}',
    "int below -2**63": b'{"type":"summary","values":{"n":-9223372036854775809}}',
    "int of 100 digits": b'{"type":"summary","values":{"n":' + b"7" * 100 + b"}}",
    "int of 4300 digits": b'{"type":"summary","values":{"n":' + b"7" * 4300 + b"}}",
    "int of 4301 digits": b'{"type":"summary","values":{"n":-' + b"7" * 4301 + b"}}",
    "NaN as a string": b'{"type":"metrics","step":2,"time":1.0,"values":{"a":"NaN","b":"Infinity","c":"-Infinity"}}',
    "bare NaN and Infinity": b'{"type":"metrics","step":2,"time":1.0,"values":{"a":NaN,"b":Infinity,"c":-Infinity}}',
    "number beyond a double": b'{"type":"metrics","step":2,"time":1.0,"values":{"a":1e400,"b":-1.8e308}}',
    "number below the least double": b'{"type":"metrics","step":2,"time":1.0,"values":{"a":2e-324,"b":5e-324}}',
    "float of many digits": b'{"type":"metrics","step":2,"time":1.0,"values":{"a":0.1000000000000000055511151231257827021181583404541015625}}',
    "negative zero": b'{"type":"metrics","step":2,"time":-0.0,"values":{"a":-0,"b":-0.0}}',
    "duplicate keys": b'{"type":"metrics","step":2,"type":"notes","text":"a","text":"b"}',
    "BOM": b'\xef\xbb\xbf{"type":"notes","text":"x"}',
    "BOM inside a string": b'{"type":"notes","text":"\xef\xbb\xbfx"}',
    "byte 0xff": b'{"type":"notes","text":"\xff"}',
    "overlong UTF-8": b'{"type":"notes","text":"\xc0\xaf"}',
    "code point beyond U+10FFFF": b'{"type":"notes","text":"\xf4\x90\x80\x80"}',
    "UTF-8 cut short": b'{"type":"notes","text":"\xe2\x82"}',
    "Latin-1 text": b'{"type":"notes","text":"caf\xe9"}',
    "NUL escape": b'{"type":"notes","text":"a\\u0000b"}',
    "raw control character": b'{"type":"notes","text":"a\x01b"}',
    "CRLF line end": b'{"type":"notes","text":"x"}\r',
    "two values on a line": b'{"type":"notes","text":"x"},{"type":"notes","text":"y"}',
    "null": b"null",
    "array": b'[{"type":"notes","text":"x"}]',
    "blank": b"   ",
    "nested 50 deep": nested(50),
    "nested 5000 deep": nested(5000),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("neighbour", ["good lines", "a corrupt line"])
def test_each_case_reads_as_json_alone_reads_it(tmp_path, monkeypatch, name, neighbour):
    assert fast_json.decode_fast(b"[" + GOOD + b"]") is not None, "msgspec is not installed: nothing is tested"
    lines = [GOOD, CASES[name], GOOD] + ([CORRUPT, GOOD] if neighbour == "a corrupt line" else [])
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    fast, json_only = read_both_ways(path, monkeypatch)
    assert fast == json_only


@pytest.mark.parametrize("name", ["BOM", "bare NaN and Infinity", "lone surrogate escape", "int of 4301 digits"])
def test_a_case_on_a_torn_last_line_reads_as_json_alone_reads_it(tmp_path, monkeypatch, name):
    path = tmp_path / "events.jsonl"
    path.write_bytes(GOOD + b"\n" + CASES[name])  # no newline at the end
    fast, json_only = read_both_ways(path, monkeypatch)
    assert fast == json_only


def json_depth_limit(tmp_path: Path, monkeypatch) -> int:
    """The least nesting json alone reports as too deep in a file read from here (found by bisection:
    it depends on the interpreter's recursion limit and on the stack depth of the reader)."""
    low, high = 1, 50_000  # json reads ``low`` levels; it refuses ``high``
    while high - low > 1:
        middle = (low + high) // 2
        path = tmp_path / "probe.jsonl"
        path.write_bytes(nested(middle) + b"\n")
        problems = read_both_ways(path, monkeypatch)[1][2]
        low, high = (middle, high) if not problems else (low, middle)
    return high


def test_nesting_at_the_recursion_limit_reads_as_json_alone_reads_it(tmp_path, monkeypatch):
    # Every depth around the edge of what json reads must come out the same: a record, or the same
    # "nested too deep", whether the chunk parse or the line-by-line one meets it.
    limit = json_depth_limit(tmp_path, monkeypatch)
    outcomes = set()
    for depth in range(limit - 30, limit + 10):
        for neighbour in ([GOOD], [CORRUPT]):
            path = tmp_path / f"deep-{depth}-{len(neighbour[0])}.jsonl"
            path.write_bytes(b"\n".join([GOOD, nested(depth)] + neighbour) + b"\n")
            fast, json_only = read_both_ways(path, monkeypatch)
            assert fast == json_only, f"depth {depth}"
            outcomes.add(any("nested too deep" in problem for problem in fast[2]))
    assert outcomes == {True, False}, "the depths tried never crossed json's limit"


def test_random_numbers_read_as_json_alone_reads_them(tmp_path, monkeypatch):
    rng = random.Random(20261129)
    texts = []
    for _ in range(20_000):
        kind = rng.randrange(4)
        if kind == 0:  # any double, as Python writes it
            number = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
            texts.append(json.dumps(number))
        elif kind == 1:  # decimal text with more digits than a double holds
            texts.append(f"{rng.choice(['', '-'])}{rng.randrange(10**rng.randint(1, 30))}."
                         f"{rng.randrange(10**rng.randint(1, 30))}e{rng.randint(-340, 320)}")
        elif kind == 2:  # ints around the 64-bit edges
            edge = rng.choice([2**63, 2**64, 10**19, 10**20])
            texts.append(str(rng.choice([1, -1]) * (edge + rng.randint(-3, 3))))
        else:
            texts.append(f"{rng.randint(-9, 9)}.{rng.randrange(10**17)}E{rng.choice(['', '+', '-'])}{rng.randint(0, 330)}")
    lines = [b'{"type":"metrics","step":%d,"time":1.0,"values":{"x":%s}}' % (step, text.encode())
             for step, text in enumerate(texts)]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert len(path.read_bytes()) > CHUNK_BYTES, "the file should span chunks"
    fast, json_only = read_both_ways(path, monkeypatch)
    assert fast == json_only


@pytest.mark.parametrize("lines", [
    [GOOD, b"", GOOD + GOOD, GOOD],  # a blank line, then two values on a line: the count adds up
    [GOOD, b"   ", GOOD + b" " + GOOD],
    [GOOD, GOOD + GOOD],
    [b" " + GOOD, GOOD + b"\r", b"\t" + GOOD],
])
def test_blank_lines_and_lines_of_two_values_read_as_json_alone_reads_them(tmp_path, monkeypatch, lines):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    fast, json_only = read_both_ways(path, monkeypatch)
    assert fast == json_only


def test_a_chunk_of_ordinary_records_is_decoded_by_msgspec():
    array = b"[" + b",".join([GOOD, CASES["int of 2**64"], CASES["duplicate keys"]]) + b"]"
    assert fast_json.decode_fast(array) == json.loads(array)


@pytest.mark.parametrize("name", ["lone surrogate escape", "raw UTF-8 surrogate bytes", "bare NaN and Infinity",
                                  "number beyond a double", "int of 4301 digits", "nested 5000 deep", "BOM"])
def test_what_msgspec_refuses_is_left_to_json(name):
    assert fast_json.decode_fast(b"[" + CASES[name] + b"]") is None


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_without_msgspec_the_reader_reads_the_same_records(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join([GOOD, CASES["lone surrogate escape"], CORRUPT, CASES["int of 2**64"]]) + b"\n")
    reading = ("from tracker.event_lines import record_chunks\nfrom tracker.problems import Problems\n"
               "problems = Problems(warn=False)\n"
               f"chunks = [(repr(r), list(n)) for r, n in record_chunks({str(path)!r}, problems)]\n"
               "print(repr((chunks, list(problems))))\n")
    light = run_python("import sys\nsys.modules['msgspec'] = None  # as if not installed\n" + reading
                       + "assert 'msgspec.json' not in sys.modules\n")
    assert light == run_python(reading + "import sys\nassert 'msgspec.json' in sys.modules\n")


def test_logging_a_run_does_not_import_msgspec(tmp_path):
    loaded = run_python(
        "import sys, tracker\n"
        f"run = tracker.init(project='p', dir={str(tmp_path)!r}, capture=False)\n"
        "for step in range(3):\n    tracker.log({'loss': 0.5})\n"
        "tracker.finish()\n"
        "print(sorted(m for m in sys.modules if m.startswith('msgspec')))\n")
    assert loaded == "[]"
