"""Media records read back (tracker/media_reading.py): per key its kind, steps and items; a record
naming a file the format does not name is a problem at its line, never followed."""
from __future__ import annotations

import json
import os
import warnings

import numpy as np

import tracker
from tracker.reader import load_run

SHA = "ab" + "0" * 62


def logged_run(tmp_path):
    run = tracker.init(project="media", dir=str(tmp_path), capture=False)
    for step in range(3):
        run.log({"loss": 1.0 / (step + 1),
                 "samples": [tracker.Image(np.full((4, 4, 3), 40 * step + index, np.uint8), caption=f"s{step}i{index}")
                             for index in range(2)]}, step=step)
    run.log_confusion_matrix("val/cm", [0, 1, 1, 0], [0, 1, 0, 0], step=2)
    run.finish()
    return run.path


def test_media_records_fold_into_keys_steps_and_items(tmp_path):
    loaded = load_run(logged_run(tmp_path))
    assert sorted(loaded.media) == ["samples", "val/cm"]
    samples = loaded.media["samples"]
    assert samples.kind == "image" and samples.steps == [0, 1, 2] and samples.last_step == 2
    assert [item.fields["caption"] for item in samples.items[1]] == ["s1i0", "s1i1"]
    assert [item.index for item in samples.items[1]] == [0, 1]
    item = samples.items[2][0]
    assert item.fields["width"] == 4 and item.file.startswith("media/") and item.file.endswith(".png")
    assert os.path.isfile(os.path.join(loaded.path, item.file))
    matrix = loaded.media["val/cm"].items[2][0]
    assert loaded.media["val/cm"].kind == "confusion_matrix" and matrix.fields["samples"] == 4
    assert loaded.warnings == []


def test_unknown_extension_and_second_kind_are_problems_naming_the_line(tmp_path):
    path = logged_run(tmp_path)
    events = f"{path}/events.jsonl"
    lines = open(events, encoding="utf-8").read().splitlines()
    bad = [{"type": "media", "key": "evil", "step": 0, "kind": "image", "file": f"media/ab/{SHA}.html"},
           {"type": "media", "key": "evil", "step": 0, "kind": "image", "file": "media/ab/../../../etc/passwd"},
           {"type": "media", "key": "samples", "step": 9, "kind": "table", "file": f"media/ab/{SHA}.json"},
           {"type": "media", "key": "t", "step": 0, "kind": "table", "file": f"media/ab/{SHA}.json",
            "attachments": [f"media/ab/{SHA}.exe"]}]
    # before the end record, so that the run reads as it did
    lines[-1:-1] = [json.dumps(record) for record in bad]
    with open(events, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = load_run(path)
    first = len(lines) - len(bad)  # 1-based line of the first bad record
    assert "evil" not in loaded.media and "t" not in loaded.media and 9 not in loaded.media["samples"].items
    messages = "\n".join(loaded.warnings)
    assert f"events.jsonl:{first}: media.file 'media/ab/{SHA}.html' is not media/<aa>/<sha256>.<ext>" in messages
    assert f"events.jsonl:{first + 1}: " in messages  # the schema's own check of the path
    assert f"events.jsonl:{first + 2}: media key 'samples' is table, but was logged as image before" in messages
    assert f"events.jsonl:{first + 3}: media.attachments" in messages
