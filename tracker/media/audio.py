"""``Audio``: a sound at a step (a generated sample, a spoken prompt), as WAV or as the file given.

Arrays are written as 16-bit PCM WAV with the standard library's ``wave``; a WAV, MP3, Ogg or FLAC
file is stored as given, its format told by its magic bytes.
"""
from __future__ import annotations

import io
import wave

from .base import Encoded, Media, caption_text, is_path, read_media_file
from .file_kinds import AUDIO_FORMATS, EXTENSIONS, sniff_format
from ..errors import ArgumentTypeError, MediaFileError, MediaValueError

MAX_CHANNELS = 8  # 7.1 sound; more is almost surely a (channels, samples) array the wrong way round
MAX_SAMPLE_RATE = 768_000


class Audio(Media):
    """``Audio(data, sample_rate=None, caption=None)``.

    ``data`` is a NumPy array of samples, shape (samples,) or (samples, channels), floats in -1..1
    (clipped) or int16, with its ``sample_rate`` in Hz; or the path of a WAV, MP3, Ogg or FLAC file
    (its own rate is used). Arrays are stored as 16-bit PCM WAV.
    """

    kind = "audio"

    def __init__(self, data, sample_rate: int | None = None, caption: str | None = None):
        self.caption = caption_text("caption", caption)
        self._file = self._array = None
        if is_path(data):
            self._file, self.sample_rate, self.channels, self.duration_s = _read_audio_file(data)
            return
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int):
            raise ArgumentTypeError("sample_rate", sample_rate, "an int number of samples a second, e.g. 16000")
        if not 1 <= sample_rate <= MAX_SAMPLE_RATE:
            raise MediaValueError("sample_rate", f"is {sample_rate}", f"1 to {MAX_SAMPLE_RATE:,} Hz")
        self._array = _copied_samples(data)
        self.sample_rate = sample_rate
        self.channels = 1 if self._array.ndim == 1 else self._array.shape[1]
        self.duration_s = len(self._array) / sample_rate

    def encode(self) -> Encoded:
        if self._file is not None:
            kind, data = self._file
            return Encoded(data, EXTENSIONS[kind], self._fields(kind))
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(self.channels)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(_as_int16(self._array).tobytes())
        return Encoded(buffer.getvalue(), "wav", self._fields("wav"))

    def _fields(self, audio_format: str) -> dict:
        return {"kind": self.kind, "format": audio_format, "sample_rate": self.sample_rate,
                "channels": self.channels, "duration_s": self.duration_s, "caption": self.caption}


def _read_audio_file(path) -> tuple[tuple[str, bytes], int | None, int | None, float | None]:
    """The file, and its rate, channels and duration where the standard library can read them (WAV)."""
    shown, data = read_media_file("data", path)
    kind = sniff_format(data[:16])
    if kind not in AUDIO_FORMATS:
        raise MediaFileError("data", shown, f"not a WAV, MP3, Ogg or FLAC file (it starts with {data[:8]!r})")
    if kind != "wav":
        return (kind, data), None, None, None
    try:
        with wave.open(io.BytesIO(data)) as sound:
            rate, channels, frames = sound.getframerate(), sound.getnchannels(), sound.getnframes()
    except (wave.Error, EOFError):  # float or extensible WAVs: browsers play them, wave cannot read them
        return (kind, data), None, None, None
    return (kind, data), rate, channels, frames / rate if rate else None


def _copied_samples(data):
    import numpy as np  # the caller passed an array of samples

    try:
        array = np.array(data, copy=True)
    except Exception as exc:
        raise ArgumentTypeError("data", data, f"a NumPy array of samples or a file path ({exc})") from None
    if array.dtype.kind not in "fi" or (array.dtype.kind == "i" and array.dtype != np.int16):
        raise MediaValueError("data", f"has dtype {array.dtype}", "float samples in -1..1 or int16 samples")
    if array.ndim not in (1, 2) or array.shape[0] == 0:
        raise MediaValueError("data", f"has shape {array.shape}", "(samples,) or (samples, channels)")
    if array.ndim == 2 and not 1 <= array.shape[1] <= MAX_CHANNELS:
        hint = "; pass data.T" if array.shape[0] <= MAX_CHANNELS else ""
        raise MediaValueError("data", f"has shape {array.shape}",
                              f"(samples, channels) with 1 to {MAX_CHANNELS} channels{hint}")
    return array


def _as_int16(array):
    """Samples as little-endian int16, as WAV stores them: floats -1..1 clipped and scaled, NaN as 0."""
    import numpy as np

    if array.dtype.kind == "f":
        array = np.rint(np.clip(np.nan_to_num(array.astype(np.float64)), -1.0, 1.0) * 32767)
    return np.ascontiguousarray(array, dtype="<i2")
