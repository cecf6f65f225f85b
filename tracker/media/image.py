"""``Image``: a NumPy array, a PIL image or an image file, shown with an optional caption.

Arrays and PIL images are stored as PNG, written with zlib alone (png.py); a file is stored as
given, its format told by its magic bytes. NumPy and Pillow are never imported here: an array is
recognised by its interface, a PIL image by its type's module.
"""
from __future__ import annotations

from .base import Encoded, Media, caption_text, is_path, module_of, read_media_file
from .file_kinds import EXTENSIONS, IMAGE_FORMATS, image_size, sniff_format
from .png import encode_png
from ..errors import ArgumentTypeError, MediaFileError, MediaValueError

MAX_IMAGE_SIDE = 16_384  # pixels: past this browsers refuse or crawl, and one PNG is hundreds of MB
ARRAY_SHAPES = "an HxW, HxWx1, HxWx3 or HxWx4 array"
# PIL modes stored as they are (channels), and what other modes become first.
PIL_CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
PIL_CONVERSIONS = {"1": "L", "I": "L", "I;16": "L", "F": "L", "PA": "RGBA", "La": "LA", "RGBa": "RGBA"}
EXPECTED = "a NumPy array (HxW, HxWx3 or HxWx4; uint8 or float 0-1), a PIL image, or a path to a PNG, " \
           "JPEG, WebP or GIF file"


class Image(Media):
    """An image to log: ``Image(x, caption=None)``.

    ``x`` is a NumPy array (HxW grayscale, HxWx3 RGB or HxWx4 RGBA; uint8 0-255, bool, other ints
    clipped to 0-255, or floats 0-1, clipped, NaN as 0), a PIL image, or the path of a PNG, JPEG,
    WebP or GIF file. The array is copied, the file read, at the call; PNG encoding waits for
    ``encode()``.
    """

    kind = "image"

    def __init__(self, x, caption: str | None = None):
        self.caption = caption_text("caption", caption)
        self._array = None  # a copied NumPy array
        self._raw = None  # a PIL image's pixels, as bytes
        self._file = None  # (format, bytes) of an image file, stored as given
        if is_path(x):
            self._file, self.width, self.height = _read_image_file(x)
        elif module_of(x) == "PIL" and hasattr(x, "tobytes") and hasattr(x, "mode"):
            self._raw, self.width, self.height, self.channels = _pil_pixels(x)
        elif hasattr(x, "__array__") or module_of(x) == "numpy":
            self._array = _copied_array(x)
            self.height, self.width = self._array.shape[:2]
            self.channels = self._array.shape[2] if self._array.ndim == 3 else 1
        else:
            raise ArgumentTypeError("x", x, EXPECTED)

    def encode(self) -> Encoded:
        if self._file is not None:
            kind, data = self._file
            return Encoded(data, EXTENSIONS[kind], self._fields(kind))
        pixels = self._raw if self._raw is not None else _as_uint8(self._array).tobytes()
        return Encoded(encode_png(pixels, self.width, self.height, self.channels), "png", self._fields("png"))

    def _fields(self, image_format: str) -> dict:
        return {"kind": self.kind, "format": image_format, "width": self.width, "height": self.height,
                "caption": self.caption}


def _read_image_file(path) -> tuple[tuple[str, bytes], int, int]:
    shown, data = read_media_file("x", path)
    kind = sniff_format(data[:16])
    if kind not in IMAGE_FORMATS:
        raise MediaFileError("x", shown, f"not a PNG, JPEG, WebP or GIF file (it starts with {data[:8]!r})")
    size = image_size(data, kind)
    if size is None or 0 in size:
        raise MediaFileError("x", shown, f"a {kind.upper()} file whose header gives no size; is it cut short?")
    return (kind, data), size[0], size[1]


def _copied_array(x):
    """A private copy of an image array, its shape and dtype checked (no pass over the values)."""
    import numpy as np  # the caller passed an array, so NumPy is there

    try:
        array = np.array(x, copy=True)
    except Exception as exc:  # a GPU tensor, say: its __array__ refuses
        raise ArgumentTypeError("x", x, f"{EXPECTED} ({type(exc).__name__}: {exc})") from None
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        channels_first = array.ndim == 3 and array.shape[0] in (1, 3, 4)
        hint = "; for a CxHxW tensor pass x.permute(1, 2, 0) or x.transpose(1, 2, 0)" if channels_first else ""
        raise MediaValueError("x", f"has shape {array.shape}", ARRAY_SHAPES + hint)
    if not (array.dtype.kind in "biuf"):
        raise MediaValueError("x", f"has dtype {array.dtype}", "uint8, bool, int or float pixels")
    height, width = array.shape[:2]
    if not (0 < height <= MAX_IMAGE_SIDE and 0 < width <= MAX_IMAGE_SIDE):
        raise MediaValueError("x", f"is {width}x{height} pixels", f"1 to {MAX_IMAGE_SIDE:,} pixels a side")
    return array


def _as_uint8(array):
    """Pixels as uint8: floats are 0-1 (clipped; NaN is 0), other ints are clipped to 0-255."""
    import numpy as np

    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype.kind == "b":
        return array.astype(np.uint8) * 255
    if array.dtype.kind == "f":
        scaled = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        return np.rint(np.clip(scaled, 0.0, 1.0) * 255).astype(np.uint8)
    return np.clip(array, 0, 255).astype(np.uint8)


def _pil_pixels(image) -> tuple[bytes, int, int, int]:
    """A PIL image's pixels as raw bytes (a copy) with its width, height and channels."""
    mode = PIL_CONVERSIONS.get(image.mode, image.mode)
    if image.mode == "P":
        mode = "RGBA" if "transparency" in image.info else "RGB"
    elif mode not in PIL_CHANNELS:
        mode = "RGB"  # CMYK, YCbCr, LAB, HSV...: shown as RGB
    if mode != image.mode:
        image = image.convert(mode)
    width, height = image.size
    if not (0 < height <= MAX_IMAGE_SIDE and 0 < width <= MAX_IMAGE_SIDE):
        raise MediaValueError("x", f"is {width}x{height} pixels", f"1 to {MAX_IMAGE_SIDE:,} pixels a side")
    return image.tobytes(), width, height, PIL_CHANNELS[mode]
