"""Media objects (tracker/media/): what each stores, decoded back with the libraries a reader would
use (Pillow for images, the standard library's wave for audio, json for tables and charts)."""
import io
import json
import re
import struct
import subprocess
import sys
import time
import wave
import zlib

import numpy as np
import pytest
from PIL import Image as PILImage

from tracker.errors import ArgumentTypeError, MediaFileError, MediaValueError, UsageError
from tracker.media import Audio, Figure, Histogram, Image, Table, Text, Video, media_file_name
from tracker.media.base import MAX_CAPTION_CHARS
from tracker.media.file_kinds import sniff_format
from tracker.media.table import MAX_TABLE_COLUMNS, MAX_TABLE_ROWS
from tracker.media.text import MAX_TEXT_CHARS

RNG = np.random.default_rng(7)


def decoded(encoded) -> np.ndarray:
    return np.asarray(PILImage.open(io.BytesIO(encoded.data)))


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG file, each CRC checked: a reader independent of Pillow."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length:at + 12 + length])[0] == zlib.crc32(kind + body)
        chunks.append((kind, body))
        at += 12 + length
    return chunks


# --- Image: arrays to PNG ---

@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1), (5, 7, 3), (5, 7, 4), (1, 1), (300, 2, 3)])
def test_a_uint8_array_is_stored_as_a_png_of_the_same_pixels(shape):
    pixels = RNG.integers(0, 256, shape, dtype=np.uint8)
    encoded = Image(pixels, caption="3 → 8").encode()
    assert encoded.extension == "png" and sniff_format(encoded.data) == "png"
    assert np.array_equal(decoded(encoded), pixels.reshape(shape[:2] + shape[3:] if len(shape) == 3 and shape[2] == 1
                                                           else shape))
    assert encoded.fields == {"kind": "image", "format": "png", "width": shape[1], "height": shape[0],
                              "caption": "3 → 8"}


def test_the_png_is_valid_without_pillow_ihdr_idat_iend_with_their_crcs():
    pixels = RNG.integers(0, 256, (4, 3, 3), dtype=np.uint8)
    chunks = png_chunks(Image(pixels).encode().data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBBBBB", chunks[0][1]) == (3, 4, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    rows = zlib.decompress(chunks[1][1])
    assert [rows[row * 10] for row in range(4)] == [0, 0, 0, 0]  # filter type None on every row
    assert np.array_equal(np.frombuffer(rows, np.uint8).reshape(4, 10)[:, 1:].reshape(4, 3, 3), pixels)


def test_float_pixels_are_0_to_1_clipped_with_nan_as_0_and_other_types_are_clipped_to_0_255():
    floats = np.array([[0.0, 0.5, 1.0, 1.5, -0.2, np.nan]])
    assert decoded(Image(floats).encode()).tolist() == [[0, 128, 255, 255, 0, 0]]
    assert decoded(Image(np.array([[-5, 7, 300]], dtype=np.int64)).encode()).tolist() == [[0, 7, 255]]
    assert decoded(Image(np.array([[True, False]])).encode()).tolist() == [[255, 0]]
    assert decoded(Image(np.full((2, 2, 3), 0.25, dtype=np.float16)).encode())[0, 0].tolist() == [64, 64, 64]


def test_the_array_is_copied_at_the_call_so_a_later_change_is_not_logged():
    pixels = np.zeros((8, 8, 3), dtype=np.uint8)
    image = Image(pixels)
    pixels[:] = 255
    assert decoded(image.encode()).max() == 0


def test_bad_arrays_are_refused_at_the_call_naming_the_argument_and_what_it_takes():
    with pytest.raises(MediaValueError, match=r"^x has shape \(3, 4, 5\), expected an HxW, HxWx1, HxWx3 or HxWx4 array"):
        Image(np.zeros((3, 4, 5)))
    with pytest.raises(MediaValueError, match=r"HxWx4 array; for a CxHxW tensor pass x\.permute\(1, 2, 0\)"):
        Image(np.zeros((3, 32, 32)))
    with pytest.raises(MediaValueError, match=r"^x has shape \(4,\)"):
        Image(np.zeros(4))
    with pytest.raises(MediaValueError, match=r"^x has dtype <U1, expected uint8, bool, int or float pixels"):
        Image(np.array([["a"]]))
    with pytest.raises(MediaValueError, match=r"^x is 0x3 pixels, expected 1 to 16,384 pixels a side"):
        Image(np.zeros((3, 0)))
    with pytest.raises(ArgumentTypeError, match=r"^x is int \(5\), expected a NumPy array"):
        Image(5)
    with pytest.raises(ArgumentTypeError, match=r"^caption is int \(3\), expected a str or None"):
        Image(np.zeros((2, 2)), caption=3)
    assert issubclass(MediaValueError, UsageError) and issubclass(MediaFileError, UsageError)


def test_a_caption_is_kept_as_given_markup_included_and_bounded_in_length():
    payload = '<img src=x onerror="alert(1)"> <script>alert(2)</script>\n  two lines  '
    assert Image(np.zeros((1, 1)), caption=payload).encode().fields["caption"] == payload
    long = Image(np.zeros((1, 1)), caption="x" * 5000).caption
    assert len(long) == MAX_CAPTION_CHARS and long.endswith("…")
    assert Image(np.zeros((1, 1)), caption="caf\udce9").caption == "caf\\udce9"  # a lone surrogate, escaped


# --- Image: PIL images and files ---

@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_a_pil_image_is_stored_as_a_png_of_its_pixels(mode):
    source = PILImage.fromarray(RNG.integers(0, 256, (6, 9, 4), dtype=np.uint8), "RGBA").convert(mode)
    encoded = Image(source).encode()
    assert (encoded.fields["width"], encoded.fields["height"]) == (9, 6)
    assert np.array_equal(decoded(encoded), np.asarray(source))


def test_pil_modes_a_png_cannot_hold_are_converted_palette_with_transparency_to_rgba():
    palette = PILImage.new("P", (4, 4))
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.putpixel((1, 1), 1)
    palette.info["transparency"] = 0
    assert decoded(Image(palette).encode()).shape == (4, 4, 4)
    assert np.array_equal(decoded(Image(palette).encode()), np.asarray(palette.convert("RGBA")))
    cmyk = PILImage.new("CMYK", (3, 2), (0, 255, 0, 0))
    assert np.array_equal(decoded(Image(cmyk).encode()), np.asarray(cmyk.convert("RGB")))


def saved(tmp_path, name: str, image, **options):
    path = tmp_path / name
    image.save(path, **options)
    return path


@pytest.mark.parametrize("pil_format,options,expected", [
    ("PNG", {}, "png"), ("JPEG", {}, "jpeg"), ("JPEG", {"progressive": True}, "jpeg"),
    ("WEBP", {"lossless": False}, "webp"), ("WEBP", {"lossless": True}, "webp"), ("GIF", {}, "gif"),
])
def test_an_image_file_is_stored_as_given_its_format_told_by_its_bytes_not_its_name(tmp_path, pil_format, options,
                                                                                     expected):
    source = PILImage.fromarray(RNG.integers(0, 256, (21, 34, 3), dtype=np.uint8))
    path = saved(tmp_path, "picture.bin", source, format=pil_format, **options)
    encoded = Image(path).encode()
    assert encoded.data == path.read_bytes()
    assert encoded.fields["format"] == expected and encoded.extension == {"jpeg": "jpg"}.get(expected, expected)
    assert (encoded.fields["width"], encoded.fields["height"]) == (34, 21)


def test_a_webp_with_alpha_uses_the_extended_header_and_its_size_is_read(tmp_path):
    source = PILImage.fromarray(RNG.integers(0, 256, (300, 5000, 4), dtype=np.uint8), "RGBA")
    path = saved(tmp_path, "alpha.webp", source, format="WEBP", lossless=False)
    assert path.read_bytes()[12:16] == b"VP8X"
    assert (Image(str(path)).width, Image(str(path)).height) == (5000, 300)


def test_a_jpeg_named_png_is_a_jpeg(tmp_path):
    path = saved(tmp_path, "cat.png", PILImage.new("RGB", (3, 2)), format="JPEG")
    assert Image(path).encode().extension == "jpg"


def test_a_file_that_is_not_an_image_a_missing_one_and_a_cut_one_are_refused_naming_the_path(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("hello, not an image")
    with pytest.raises(MediaFileError, match=r"^x: .*notes\.png: not a PNG, JPEG, WebP or GIF file \(it starts with "
                                             r"b'hello, n'\)"):
        Image(text)
    with pytest.raises(MediaFileError, match=r"^x: .*missing\.png: No such file or directory"):
        Image(tmp_path / "missing.png")
    cut = tmp_path / "cut.png"
    cut.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(MediaFileError, match="whose header gives no size"):
        Image(cut)


def test_the_file_is_read_at_the_call_so_rewriting_it_next_epoch_does_not_change_what_was_logged(tmp_path):
    path = saved(tmp_path, "sample.png", PILImage.new("L", (2, 2), 10))
    image = Image(path)
    saved(tmp_path, "sample.png", PILImage.new("L", (2, 2), 200))
    assert decoded(image.encode()).tolist() == [[10, 10], [10, 10]]


# --- content addressing ---

def test_the_same_bytes_get_the_same_content_addressed_name_so_they_are_stored_once():
    pixels = RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    names = {Image(pixels, caption=f"epoch {epoch}").encode().file_name for epoch in range(100)}
    [name] = names
    assert re.fullmatch(r"media/([0-9a-f]{2})/\1[0-9a-f]{62}\.png", name)
    assert name == media_file_name(Image(pixels).encode().data, "png")
    assert Image(pixels + 1).encode().file_name != name


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

def test_every_kinds_fields_are_json_for_a_record(tmp_path):
    import plotly.graph_objects as go

    objects = [Image(np.zeros((2, 2))), Table(rows=[[1]]), Figure(go.Figure()), Histogram([1, 2, 3]), Text("t"),
               Audio(np.zeros(4), 8000)]
    for media in objects:
        encoded = media.encode()
        assert json.loads(json.dumps(encoded.fields, allow_nan=False))["kind"] == media.kind
        assert isinstance(encoded.data, bytes) and re.fullmatch(r"[a-z.]+", encoded.extension)


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


def test_construction_costs_a_copy_and_encoding_costs_the_png():
    """Not a timed assert (see bench/): the numbers say what the loop pays against the writer thread."""
    pixels = RNG.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    repeats = 50
    started = time.perf_counter()
    images = [Image(pixels) for _ in range(repeats)]
    construct_s = (time.perf_counter() - started) / repeats
    started = time.perf_counter()
    for image in images:
        image.encode()
    encode_s = (time.perf_counter() - started) / repeats
    print(f"\n256x256x3 Image: construction {construct_s * 1e6:.0f} µs, encode {encode_s * 1e6:.0f} µs "
          f"({encode_s / construct_s:.0f}x)")
    assert len({image.encode().file_name for image in images[:2]}) == 1
