"""Decoding JSON with msgspec where it gives exactly what json.loads gives; None where json must decide.

msgspec decodes this project's records about 4x faster than the standard library's json
(bench/bench_cold_read.py). Where it accepts a text it returns what ``json.loads`` returns: the
same floats (both round correctly), ints of any length, the last of duplicate keys, the same
dicts, lists and strings. What json accepts and msgspec refuses, ``decode_fast`` returns None
for, and the caller asks json: lone surrogates (the logger writes ``\\udcXX`` for text that was
not UTF-8; json.loads of bytes also takes them raw, as it decodes with surrogatepass), the bare
tokens NaN and Infinity, numbers beyond a double (json: inf), ints of thousands of digits.

Nesting could go the other way: both refuse nesting that reaches the interpreter's recursion
limit, and json.loads spends a few frames (loads, decode, raw_decode) before it starts, so
msgspec called from the same place would accept a few levels more than json. msgspec is called
DEPTH_MARGIN frames deeper than its caller, so it refuses first and json decides those texts.

msgspec is imported on the first decode, never by ``import tracker`` or ``log()``; a light
install without it gets None for every text, which leaves every decode to json.
"""
from __future__ import annotations

# json.loads reaches its scanner 4 frames deeper than where it is called (Python 3.11); twice
# that leaves room for another interpreter's few frames, and costs a microsecond per decode.
DEPTH_MARGIN = 8

_decode = None  # msgspec's JSON decoder once imported; False when msgspec is not installed


def decode_fast(data: bytes) -> object:
    """``json.loads(data)`` decoded by msgspec, or None when msgspec is not installed, refuses
    ``data`` or nests too deep to be sure of json's answer: then ``json.loads`` decides (a text
    that is JSON's null also comes back None; deciding it again costs nothing)."""
    decode = _decode if _decode is not None else _load_decoder()
    if decode is False:
        return None
    try:
        return _decode_deeper(DEPTH_MARGIN, decode, data)
    except (ValueError, RecursionError):  # msgspec.DecodeError is a ValueError
        return None


def _decode_deeper(frames: int, decode, data: bytes) -> object:
    if frames:
        return _decode_deeper(frames - 1, decode, data)
    return decode(data)


def _load_decoder():
    global _decode
    try:
        # Imported here: only readers decode, and a training script must not pay for the import.
        from msgspec.json import Decoder
    except ImportError:
        _decode = False
    else:
        _decode = Decoder().decode
    return _decode


def encode_json(value: object) -> bytes:
    """``json.dumps(value)`` as UTF-8 bytes, by msgspec where it is installed (a store cache's
    state of 100,000 runs: 0.3 s with json, a tenth of that with msgspec); the same JSON text
    either way for plain dicts, lists, strings and numbers."""
    try:
        import msgspec  # optional: not part of the light install
    except ImportError:
        import json

        return json.dumps(value).encode("utf-8")
    return msgspec.json.encode(value)
