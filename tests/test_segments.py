"""tracker/segments.py: the names of segments, the plan a reader follows and the bytes it rebuilds,
checked against events files cut the way the uploader cuts them."""
from __future__ import annotations

import pytest

from tracker.segments import (SegmentGapError, assemble, closed_segment_name, cut_at_lines, events_file_of,
                              is_segmented, open_segment_name, parse_segment, plan_segments, segments_folder,
                              whole_lines)
from tracker.store_urls import is_store_url, without_credentials

EVENTS = b"".join(b'{"type":"metrics","step":%d,"time":1.0,"values":{"loss":0.5}}\n' % step for step in range(200))


def cut(data: bytes, max_bytes: int, open_from: int | None = None) -> dict[str, bytes]:
    """The objects of one events file's .segments folder: closed pieces, and the rest as the open segment."""
    closed_part = data if open_from is None else data[:open_from]
    objects = {closed_segment_name(offset): piece for offset, piece in cut_at_lines(0, closed_part, max_bytes)}
    if open_from is not None:
        objects[open_segment_name(open_from)] = data[open_from:]
    return objects


def segments_of(objects: dict[str, bytes]):
    return [parse_segment(name, len(data)) for name, data in objects.items()]


def rebuild(objects: dict[str, bytes], start: int = 0) -> bytes:
    plan = plan_segments(segments_of(objects), start)
    assert plan.problems == []
    pieces = [(segment, objects[segment.name]) for segment in plan.closed + ([plan.open] if plan.open else [])]
    return assemble(pieces, start)


def test_store_urls_are_told_from_local_folders():
    assert is_store_url("s3://bucket/prefix") and is_store_url("memory://runs") and is_store_url("file:///tmp/x")
    assert not is_store_url("tracker-runs") and not is_store_url("/tmp/runs") and not is_store_url(r"C:\\runs")
    assert not is_store_url(None)


def test_credentials_are_taken_out_of_a_url():
    assert without_credentials("s3://AKIA:secret@bucket/prefix") == "s3://bucket/prefix"
    assert without_credentials("s3://bucket/prefix") == "s3://bucket/prefix"
    # adlfs's container@account form names the container: kept, or tracker sync would upload elsewhere
    assert without_credentials("abfs://runs@team.dfs.core.windows.net/x") == "abfs://runs@team.dfs.core.windows.net/x"
    assert without_credentials("abfs://runs:secret@team.dfs.core.windows.net/x") == "abfs://team.dfs.core.windows.net/x"


def test_names_sort_in_offset_order_and_parse_back():
    assert closed_segment_name(4096) == "0000000000004096"
    assert open_segment_name(4096) == "0000000000004096.open"
    names = sorted(closed_segment_name(offset) for offset in (10**9, 7, 4096))
    assert [parse_segment(name, 1).offset for name in names] == [7, 4096, 10**9]
    assert parse_segment("run/events.jsonl.segments/0000000000004096.open", 5).open
    assert parse_segment("notes.txt", 5) is None and parse_segment("4096", 5) is None


def test_only_top_level_events_files_are_segmented():
    assert is_segmented("events.jsonl") and is_segmented("events-k3x9a2bq.jsonl")
    assert not is_segmented("console.log") and not is_segmented("artifacts/events.jsonl")
    assert events_file_of(segments_folder("events-k3x9a2bq.jsonl")) == "events-k3x9a2bq.jsonl"
    assert events_file_of("media") is None


def test_cuts_end_at_line_ends_and_rebuild_the_file_byte_for_byte():
    objects = cut(EVENTS, 1000)
    assert len(objects) > 5
    assert all(piece.endswith(b"\n") and len(piece) <= 1000 for piece in objects.values())
    assert rebuild(objects) == EVENTS


def test_a_line_longer_than_a_segment_is_one_segment():
    data = b"a\n" + b"x" * 50 + b"\nb\n"
    assert [piece for _, piece in cut_at_lines(0, data, 10)] == [b"a\n", b"x" * 50 + b"\n", b"b\n"]
    assert whole_lines(b'{"a":1}\n{"a":') == 8


def test_the_open_segment_follows_the_closed_chain_and_a_stale_one_is_ignored():
    objects = cut(EVENTS, 2000, open_from=whole_lines(EVENTS[:6000]))
    stale_offset = min(parse_segment(name, 0).offset for name in objects if name != closed_segment_name(0))
    objects[open_segment_name(stale_offset)] = EVENTS[stale_offset:stale_offset + 10]  # closed since
    assert rebuild(objects) == EVENTS


def test_a_reader_that_holds_a_prefix_fetches_only_what_follows():
    objects = cut(EVENTS, 1500)
    segments = sorted(segments_of(objects), key=lambda s: s.offset)
    held = segments[2].end
    plan = plan_segments(segments, start=held)
    assert [s.offset for s in plan.closed] == [s.offset for s in segments[3:]]
    assert EVENTS[:held] + rebuild(objects, start=held) == EVENTS


def test_a_missing_segment_is_a_problem_naming_the_object_after_it():
    objects = cut(EVENTS, 1000)
    names = sorted(objects)
    del objects[names[2]]
    plan = plan_segments(segments_of(objects), where="s3://b/run/events.jsonl.segments")
    assert plan.closed_end == parse_segment(names[2], 0).offset  # what can be placed is read
    assert len(plan.problems) == 1
    assert plan.problems[0].startswith(f"s3://b/run/events.jsonl.segments/{names[3]}: starts at byte ")
    assert "a segment is missing" in plan.problems[0]
    assert plan.open is None


def test_assemble_refuses_pieces_that_do_not_follow_each_other():
    first, second = parse_segment(closed_segment_name(0), 4), parse_segment(closed_segment_name(6), 4)
    with pytest.raises(SegmentGapError, match=r"^0000000000000006: starts at byte 6, expected 4: a segment"):
        assemble([(first, b"abc\n"), (second, b"def\n")])
