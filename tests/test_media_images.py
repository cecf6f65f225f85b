"""Image (tracker/media/image.py, png.py, file_kinds.py): arrays and PIL images stored as PNG
that Pillow and a plain zlib reader decode to the same pixels, files stored as given and told by
their magic bytes, content-addressed names."""
import io
import re
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image as PILImage

from tracker.errors import ArgumentTypeError, MediaFileError, MediaValueError, UsageError
from tracker.media import Image, media_file_name
from tracker.media.base import MAX_CAPTION_CHARS
from tracker.media.file_kinds import sniff_format

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
