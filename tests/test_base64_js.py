"""base64.js in headless Chromium: the bytes of a base64 text, the same through the browser's native
Uint8Array.fromBase64 and through the atob fallback an older browser takes; and the floats that
index-data.js and run-data.js unpack from them."""
import base64
import struct
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent.parent / "themes" / "default" / "static" / "js"
TEXTS = ["", "AA==", base64.b64encode(bytes(range(256))).decode(), base64.b64encode(b"\xff" * 17).decode()]


@pytest.mark.parametrize("native", [True, False], ids=["fromBase64", "atob"])
def test_bytes_of_a_base64_text(page, tmp_path, native):
    html = tmp_path / "base64.html"
    hide = "" if native else "<script>delete Uint8Array.fromBase64;</script>"
    html.write_text(f'<!doctype html><meta charset="utf-8">{hide}<script src="{(JS / "base64.js").as_uri()}"></script>')
    page.goto(html.as_uri())
    assert page.evaluate("typeof Uint8Array.fromBase64 === 'function'") is native
    found = page.evaluate("(texts) => texts.map((text) => Array.from(window.TrackerBase64.bytesOf(text)))", TEXTS)
    assert page.errors == []
    assert found == [list(base64.b64decode(text)) for text in TEXTS]


def test_index_floats_read_one_by_one_and_whole_agree(page, tmp_path):
    """A column of doubles: each run's value read alone (the first page's rows) and the column decoded."""
    values = [0.1, -2.5e-300, None, 1e308, 3.0, None, 7.25, -0.0, 123456.789]
    packed = base64.b64encode(b"".join(struct.pack("<d", float("nan") if value is None else value)
                                       for value in values)).decode()
    data = {"format": 2, "count": len(values), "columns": {"id": [f"r{at}" for at in range(len(values))],
                                                           "created": {"f64": packed}}}
    html = tmp_path / "index.html"
    html.write_text('<!doctype html><meta charset="utf-8">'
                    + "".join(f'<script src="{(JS / name).as_uri()}"></script>' for name in ("base64.js", "index-data.js")))
    page.goto(html.as_uri())
    alone, whole = page.evaluate("""(data) => {
      window.TrackerData = { index: data };
      const index = window.TrackerIndex.load();
      const alone = Array.from({ length: index.count }, (_, run) => index.row(run).created);
      const column = index.column("created");
      return [alone, Array.from({ length: index.count }, (_, run) => window.TrackerIndex.valueAt(column, run))];
    }""", data)
    assert page.errors == []
    assert alone == whole == values
