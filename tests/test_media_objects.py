"""Media objects other than images (tracker/media/): what each stores, read back as a reader would
(the standard library's wave for audio, json for tables and histograms, Pillow for image cells)."""
import io
import json
import re
import subprocess
import sys
import threading
import wave

import numpy as np
import pytest
from PIL import Image as PILImage

from tracker.errors import ArgumentTypeError, MediaFileError, MediaValueError, UsageError
from tracker.media import Audio, Figure, Histogram, Image, Table, Text, Video
from tracker.media.table import MAX_TABLE_COLUMNS, MAX_TABLE_ROWS
from tracker.media.text import MAX_TEXT_CHARS

RNG = np.random.default_rng(7)


def saved(tmp_path, name: str, image, **options):
    path = tmp_path / name
    image.save(path, **options)
    return path


# --- Table ---

def test_a_table_keeps_typed_cells_and_its_image_cells_become_files_it_references():
    thumb = Image(np.full((2, 3), 9, dtype=np.uint8), caption="a 9")
    table = Table(rows=[[1, 2.5, "cat", True, None, thumb], [np.int64(3), np.float32(0.5), "<b>dog</b>", False,
                                                               float("nan"), thumb]],
                  columns=["id", "score", "label", "ok", "note", "input"])
    encoded = table.encode()
    document = json.loads(encoded.data)
    assert document["columns"] == ["id", "score", "label", "ok", "note", "input"]
    assert document["column_types"] == ["number", "number", "text", "bool", "number", "image"]
    [image] = encoded.attachments  # one image in two cells: one file
    assert document["rows"][0][:5] == [1, 2.5, "cat", True, None]
    assert document["rows"][1][:5] == [3, 0.5, "<b>dog</b>", False, {"number": "NaN"}]
    assert document["rows"][0][5] == {"image": image.file_name, "width": 3, "height": 2, "caption": "a 9"}
    assert np.asarray(PILImage.open(io.BytesIO(image.data))).tolist() == [[9, 9, 9], [9, 9, 9]]
    assert encoded.fields == {"kind": "table", "rows": 2, "columns": 6, "dropped_rows": 0, "dropped_columns": 0}
    equal_images = Table(rows=[[Image(np.zeros((2, 2)))], [Image(np.zeros((2, 2)))]]).encode()
    assert len(equal_images.attachments) == 1


def test_a_table_past_the_caps_keeps_the_first_rows_and_columns_says_how_many_were_dropped_and_warns():
    with pytest.warns(UserWarning, match=r"Table of 20,000 rows x 150 columns: kept the first 10,000 rows and 100"):
        table = Table(rows=[list(range(row, row + 150)) for row in range(20_000)])
    encoded = table.encode()
    document = json.loads(encoded.data)
    assert len(document["rows"]) == MAX_TABLE_ROWS and len(document["columns"]) == MAX_TABLE_COLUMNS
    assert document["rows"][-1][:2] == [9_999, 10_000] and document["columns"][0] == "column 1"
    assert encoded.fields["dropped_rows"] == 10_000 and encoded.fields["dropped_columns"] == 50


def test_a_table_is_copied_at_the_call():
    rows = [[1, "a"], [2, "b"]]
    table = Table(rows=rows, columns=["n", "s"])
    rows[0][1] = "changed"
    rows.append([3, "c"])
    assert json.loads(table.encode().data)["rows"] == [[1, "a"], [2, "b"]]


def test_a_bad_cell_or_a_ragged_row_is_refused_naming_its_place():
    with pytest.raises(ArgumentTypeError, match=r"^rows\[1\]\[2\] is dict \(\{'a': 1\}\), expected a number, str"):
        Table(rows=[[1, 2, 3], [1, 2, {"a": 1}]])
    with pytest.raises(MediaValueError, match=r"^rows\[1\] has 2 cells, expected 3, one per column"):
        Table(rows=[[1, 2, 3], [1, 2]], columns=["a", "b", "c"])
    with pytest.raises(MediaValueError, match="either a dataframe or rows and columns"):
        Table(rows=[[1]], dataframe=object())
    with pytest.raises(ArgumentTypeError, match=r"^rows\[0\]\[0\] is ndarray \(array\(\[1, 2\]\)\), expected a number"):
        Table(rows=[[np.array([1, 2])]])
    with pytest.raises(ArgumentTypeError, match=r"^rows\[0\] is dict"):
        Table(rows=[{"a": 1}], columns=["a"])
    with pytest.raises(ArgumentTypeError, match="^rows is str"):
        Table(rows="abc")


def test_a_long_cell_is_cut_and_marked_but_its_text_kept_as_given():
    [[cell]] = json.loads(Table(rows=[["<script>" + "y" * 20_000]]).encode().data)["rows"]
    assert cell.startswith("<script>yy") and cell.endswith("…") and len(cell) == 10_000


def test_a_dataframe_becomes_a_table_with_its_column_names_typed_cells_and_missing_values_empty():
    import pandas as pd

    frame = pd.DataFrame({"n": [1, 2], "x": [0.5, np.nan], "s": ["a", None], 7: [True, False],
                          "t": pd.to_datetime(["2026-01-02", None])})
    with pytest.raises(ArgumentTypeError, match=r"pass a DataFrame as Table\(dataframe=\.\.\.\)"):
        Table(rows=frame)
    document = json.loads(Table(dataframe=frame).encode().data)
    assert document["columns"] == ["n", "x", "s", "7", "t"]
    assert document["rows"] == [[1, 0.5, "a", True, "2026-01-02T00:00:00"], [2, None, None, False, None]]


# --- Figure ---

def test_a_plotly_figure_is_stored_as_its_json_as_it_was_when_logged():
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[4, 5, 6], name="<b onmouseover=alert(1)>train</b>"))
    fig.update_layout(title="<a href='javascript:alert(1)'>loss</a>")
    figure = Figure(fig)
    fig.update_layout(title="changed")
    encoded = figure.encode()
    document = json.loads(encoded.data)
    assert document["layout"]["title"]["text"] == "<a href='javascript:alert(1)'>loss</a>"
    assert document["data"][0]["name"] == "<b onmouseover=alert(1)>train</b>"
    assert encoded.extension == "plotly.json"
    assert encoded.fields == {"kind": "figure", "format": "plotly", "title": "<a href='javascript:alert(1)'>loss</a>"}


def test_a_matplotlib_figure_is_stored_as_svg_as_it_was_when_logged_without_a_new_pyplot_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots()
    axes.plot([0, 1, 2], [2, 1, 3])
    axes.set_title("validation loss")
    try:
        figure = Figure(fig)
        axes.set_title("drawn on after logging")
        before = plt.get_fignums()
        encoded = figure.encode()
        assert plt.get_fignums() == before
    finally:
        plt.close(fig)
    assert encoded.extension == "svg" and encoded.data.lstrip().startswith(b"<?xml") and b"<svg" in encoded.data
    assert b"drawn on after logging" not in encoded.data
    assert encoded.fields == {"kind": "figure", "format": "svg", "title": "validation loss"}


def test_a_matplotlib_figure_that_cannot_be_pickled_is_rendered_at_the_call():
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.ticker import FuncFormatter

    fig = MplFigure()
    axes = fig.add_subplot()
    axes.plot([1, 2], [1, 2])
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"epoch {value:g}"))
    figure = Figure(fig)
    axes.set_title("after")
    svg = figure.encode().data
    assert b"<svg" in svg and b"after" not in svg


def test_anything_else_is_not_a_figure():
    with pytest.raises(ArgumentTypeError, match=r"^fig is dict \(\{\}\), expected a plotly or matplotlib figure"):
        Figure({})


# --- Histogram ---

def test_a_histogram_of_values_bins_them_as_numpy_does_and_counts_non_finite_values_apart():
    values = RNG.normal(size=(100, 10))
    spoiled = values.copy()
    spoiled[0, :3] = [np.nan, np.inf, -np.inf]
    histogram = Histogram(spoiled, bins=20)
    spoiled[:] = 0  # copied at the call
    encoded = histogram.encode()
    counts, edges = np.histogram(values.ravel()[3:], bins=20)
    document = json.loads(encoded.data)
    assert document == {"counts": counts.tolist(), "edges": edges.tolist(), "non_finite": 3}
    assert encoded.fields == {"kind": "histogram", "bins": 20, "count": 997, "min": edges[0], "max": edges[-1],
                              "non_finite": 3}


def test_a_histogram_of_given_counts_and_edges_is_stored_as_given():
    document = json.loads(Histogram(counts=[1, 0, 5], edges=[0, 1, 2, 4]).encode().data)
    assert document == {"counts": [1, 0, 5], "edges": [0.0, 1.0, 2.0, 4.0], "non_finite": 0}


@pytest.mark.parametrize("arguments,message", [
    ({"values": [1], "bins": 0}, r"^bins is 0, expected 1 to 512"),
    ({"values": [1], "bins": 2.0}, r"^bins is float"),
    ({"counts": [1, 2], "edges": [0, 1]}, r"^edges has 2 values for 2 counts, expected one more edge than counts"),
    ({"counts": [1, -2], "edges": [0, 1, 2]}, r"^counts hold NaN, infinite or negative values"),
    ({"counts": [1, 2], "edges": [0, 2, 1]}, r"^edges are not finite and increasing"),
    ({"values": ["a", "b"]}, r"^values is list"),
    ({}, r"was given no data"),
])
def test_bad_histograms_are_refused_at_the_call(arguments, message):
    with pytest.raises(UsageError, match=message):
        Histogram(**arguments)


# --- Text ---

def test_text_is_stored_as_given_and_cut_past_its_bound():
    payload = "<script>alert(1)</script>\n\n  indented, trailing space  "
    encoded = Text(payload).encode()
    assert encoded.data.decode() == payload and encoded.extension == "txt"
    assert encoded.fields == {"kind": "text", "chars": len(payload), "truncated": False}
    long = Text("é" * (MAX_TEXT_CHARS + 10)).encode()
    assert len(long.data.decode()) == MAX_TEXT_CHARS and long.fields["truncated"] is True
    with pytest.raises(ArgumentTypeError, match=r"^text is bytes"):
        Text(b"raw")


# --- Audio ---

def read_wav(data: bytes):
    with wave.open(io.BytesIO(data)) as sound:
        return (sound.getframerate(), sound.getnchannels(), sound.getsampwidth(),
                np.frombuffer(sound.readframes(sound.getnframes()), "<i2"))


def test_float_samples_become_a_16_bit_wav_that_reads_back_with_wave():
    samples = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, np.nan])
    encoded = Audio(samples, sample_rate=8000, caption="a beep").encode()
    rate, channels, width, frames = read_wav(encoded.data)
    assert (rate, channels, width) == (8000, 1, 2)
    assert frames.tolist() == [0, 16384, -16384, 32767, -32767, 32767, 0]
    assert encoded.fields == {"kind": "audio", "format": "wav", "sample_rate": 8000, "channels": 1,
                              "duration_s": 7 / 8000, "caption": "a beep"}


def test_stereo_int16_samples_are_stored_interleaved_as_given():
    samples = RNG.integers(-32768, 32768, (1000, 2)).astype(np.int16)
    rate, channels, _, frames = read_wav(Audio(samples, 44_100).encode().data)
    assert (rate, channels) == (44_100, 2) and np.array_equal(frames.reshape(-1, 2), samples)


def test_an_audio_file_is_stored_as_given_and_a_wav_files_rate_is_read(tmp_path):
    path = tmp_path / "clip.bin"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(22_050)
        out.writeframes(b"\x00\x01" * 22_050)
    encoded = Audio(path).encode()
    assert encoded.data == path.read_bytes() and encoded.extension == "wav"
    assert (encoded.fields["sample_rate"], encoded.fields["duration_s"]) == (22_050, 1.0)
    mp3 = tmp_path / "clip.wav"
    mp3.write_bytes(b"ID3\x04\x00" + b"\x00" * 100)
    assert Audio(mp3).encode().fields["format"] == "mp3"


def test_bad_audio_is_refused_with_the_fix():
    with pytest.raises(MediaValueError, match=r"^data has shape \(2, 1000\), expected \(samples, channels\) with 1 to 8 "
                                              r"channels; pass data\.T"):
        Audio(np.zeros((2, 1000)), 16_000)
    with pytest.raises(ArgumentTypeError, match=r"^sample_rate is NoneType"):
        Audio(np.zeros(10))
    with pytest.raises(MediaValueError, match=r"^data has dtype int64, expected float samples in -1\.\.1 or int16"):
        Audio(np.zeros(10, dtype=np.int64), 16_000)


# --- Video ---

def test_a_video_file_is_stored_as_given_told_by_its_magic_bytes(tmp_path):
    mp4 = tmp_path / "clip.webm"
    mp4.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64)
    webm = tmp_path / "clip.mp4"
    webm.write_bytes(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + b"\x00" * 64)
    gif = saved(tmp_path, "clip.video", PILImage.new("RGB", (12, 7)), format="GIF")
    assert (Video(mp4).encode().extension, Video(webm).encode().extension) == ("mp4", "webm")
    encoded = Video(gif, caption="rollout").encode()
    assert encoded.data == gif.read_bytes()
    assert encoded.fields == {"kind": "video", "format": "gif", "caption": "rollout", "width": 12, "height": 7}


def test_a_video_that_is_not_one_or_that_changed_before_it_was_copied_is_refused(tmp_path):
    png = saved(tmp_path, "clip.mp4", PILImage.new("RGB", (2, 2)), format="PNG")
    with pytest.raises(MediaFileError, match=r"clip\.mp4: not an MP4, WebM or GIF file"):
        Video(png)
    path = tmp_path / "rollout.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)
    video = Video(path)
    path.write_bytes(b"not a video any more")
    with pytest.raises(MediaFileError, match="is no longer the mp4 file it was when logged"):
        video.encode()


# --- every kind ---

def test_every_kind_encodes_on_another_thread_as_the_writer_will_with_fields_that_are_json(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import plotly.graph_objects as go

    fig, axes = plt.subplots()
    axes.plot([1, 2, 3])
    objects = [Image(np.zeros((2, 2))), Table(rows=[[1, Image(np.ones((1, 1)))]]), Figure(go.Figure()), Figure(fig),
               Histogram([1, 2, 3]), Text("t"), Audio(np.zeros(4), 8000),
               Video(saved(tmp_path, "v.gif", PILImage.new("L", (2, 2)), format="GIF"))]
    plt.close(fig)
    results = {}
    worker = threading.Thread(target=lambda: results.update({id(media): media.encode() for media in objects}))
    worker.start()
    worker.join(timeout=60)
    for media in objects:
        encoded = results[id(media)]
        assert json.loads(json.dumps(encoded.fields, allow_nan=False))["kind"] == media.kind
        assert isinstance(encoded.data, bytes) and re.fullmatch(r"[a-z.]+", encoded.extension)
        assert encoded.file_name.endswith("." + encoded.extension)


def test_the_media_package_exports_these_names_each_of_which_resolves():
    import tracker.media

    assert tracker.media.__all__ == ["Audio", "ConfusionMatrix", "Encoded", "FeatureImportance", "Figure", "Histogram",
                                     "Image", "Media", "PrCurve", "RocCurve", "Table", "Text", "Video", "media_file_name"]
    assert sorted(tracker.media.__all__) == sorted(tracker.media._LAZY_NAMES)
    assert all(getattr(tracker.media, name).__name__ == name for name in tracker.media.__all__)
    with pytest.raises(AttributeError, match="module 'tracker.media' has no attribute 'Imagee'"):
        tracker.media.Imagee


def test_importing_tracker_media_and_making_an_image_of_a_file_loads_no_optional_library(tmp_path):
    path = saved(tmp_path, "x.png", PILImage.new("RGB", (2, 2)))
    script = (f"import sys, tracker.media as m\nm.Image({str(path)!r}).encode(); m.Text('t').encode()\n"
              "print(sorted({n.split('.')[0] for n in sys.modules} & {'numpy', 'PIL', 'matplotlib', 'plotly', 'pandas'}))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
