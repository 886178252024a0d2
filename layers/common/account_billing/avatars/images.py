"""The checks of an uploaded avatar's real bytes, and its re-encoding. Imports Pillow: only the
validator function imports this module (cold-start budget, DESIGN §10).

An upload is accepted only if all of these hold, in this order (the first that fails is the
reason given):

1. It starts with the JPEG or PNG signature. The declared content type is never trusted; a PNG
   sent as `image/jpeg` is a PNG, and published as one.
2. Its structure ends exactly where the file ends: the JPEG's segments and scans reach the
   end-of-image marker, the PNG's chunks reach `IEND`, and nothing follows. This is the rule
   against polyglots and smuggled data: a file that is also a ZIP, a script or a second image
   (appended after the picture, as in GIFAR-style files, MPO pairs or "motion photos") is
   refused rather than trimmed, and a truncated file is refused as damaged.
3. The work its decoding would take is bounded before anything is decoded (`too-complex`):
   a JPEG has at most `MAX_JPEG_SEGMENTS` segments and `MAX_SCANS` scans, and its scans
   together cover at most `MAX_SCAN_SAMPLES` samples (libjpeg walks every block of a
   component for every scan that names it, so a progressive JPEG repeating one scan costs
   minutes at a few hundred kilobytes); a PNG has at most `MAX_PNG_CHUNKS` chunks and
   `MAX_PNG_COMPRESSED_CHUNKS` compressed ancillary ones (each may inflate to
   `MAX_TEXT_CHUNK`), and its pixel stream is no larger than its pixels could need
   (`extra-data` otherwise).
4. Pillow identifies it as that same format, and its dimensions are bounded (at most
   `MAX_SIDE` pixels a side and `MAX_PIXELS` in all) before anything is decoded:
   decompression bombs and pixel floods stop at the header.
5. Pillow decodes all of it.

What is published is never the upload: it is a new image encoded from the decoded pixels
(EXIF orientation applied, converted to sRGB, scaled to fit `AVATAR_SIDE`), so no metadata
(EXIF, GPS location, comments, text chunks, ICC profiles) and nothing hidden inside the
file's segments survives.

The whole inspection also runs under a time budget (`validation.within_time_budget`): a check
between stages stops it once the budget is spent. The bounds above are the real defence (a
Pillow call cannot be interrupted); the budget is the backstop.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageCms, ImageFile, ImageOps, PngImagePlugin

from account_billing.avatars.validation import TOO_COMPLEX, Accepted, EncodedImage, Rejected, Verdict
from account_billing.core.observability import logger

MAX_SIDE = 10_000
MAX_PIXELS = 40_000_000
AVATAR_SIDE = 1024
THUMBNAIL_SIDE = 128
JPEG_QUALITY = 85
# zlib level 6 (zlib's default): a 40 MP PNG re-encodes in 75 ms instead of 675 ms at level 9
# (`optimize=True`), for 6% more bytes; the published avatar is at most 1024 px a side anyway.
PNG_COMPRESS_LEVEL = 6

# The bounds on decoding work (see the module's rule 3). Measured with Pillow 13 (libjpeg-turbo
# 3.2, no scan limit of its own): Pillow, libjpeg's `jpeg_simple_progression` and ImageMagick
# write 10 scans for a colour progressive JPEG, 6 for grey and 18 for CMYK; mozjpeg's optimised
# scripts fewer (7 and 3); cameras write one. A scan that names a component costs a walk of
# all its blocks, about 10 ms per 40 million samples even when the scan holds nothing, so the
# samples all scans cover are what is bounded: a 40 MP CMYK progressive JPEG covers 24 × 40 M,
# a colour one 14 × 40 M (4:4:4) or 7 × 40 M (4:2:0).
MAX_SCANS = 100
MAX_SCAN_SAMPLES = 40 * MAX_PIXELS
# Markers with a length (APPn, DQT, DHT, SOS, COM...): a photo has tens; 2,000 covers 20 MB of
# the largest (64 KB) segments many times over, and keeps the walk itself short.
MAX_JPEG_SEGMENTS = 2_000
# libpng writes 8 KB IDAT chunks: 2,560 for 20 MB. Pillow spends about 10 µs on each chunk in
# Python (1.7 million empty chunks: 16 to 26 s).
MAX_PNG_CHUNKS = 20_000
# zTXt, compressed iTXt and iCCP chunks each inflate up to MAX_TEXT_CHUNK (about 5 ms a MiB),
# and Pillow counts only keyed text against MAX_TEXT_MEMORY: 20,000 iCCP or keyless zTXt
# chunks inflate 20 GB (90 to 130 s). A PNG has one profile and a few text chunks.
MAX_PNG_COMPRESSED_CHUNKS = 32
# Pillow's limits, set here on purpose: 1 MiB of text per chunk (an XMP packet is far
# smaller), as much text in all as the compressed chunks above may hold, and never a
# half-decoded image (a truncated file is damaged).
PngImagePlugin.MAX_TEXT_CHUNK = 1024 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = MAX_PNG_COMPRESSED_CHUNKS * PngImagePlugin.MAX_TEXT_CHUNK
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Pillow warns above this many pixels and refuses twice as many; the warning is an error here.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

JPEG = "JPEG"
PNG = "PNG"
_SIGNATURES = {JPEG: b"\xff\xd8\xff", PNG: b"\x89PNG\r\n\x1a\n"}
_OUTPUT = {JPEG: ("image/jpeg", "jpg"), PNG: ("image/png", "png")}

NOT_AN_IMAGE = Rejected("unsupported-type", "The file is not a JPEG or PNG image.")
DAMAGED = Rejected(
    "damaged", "The image is damaged or incomplete. Open it, save it again as JPEG or PNG, and upload the new file."
)
EXTRA_DATA = Rejected(
    "extra-data",
    "The file holds other data after the picture (for example a motion photo or a second file). "
    "Save the picture as a plain JPEG or PNG and upload that.",
)
TOO_MANY_PIXELS = Rejected(
    "too-many-pixels",
    f"The image is too large: at most {MAX_SIDE:,} pixels wide or high and "
    f"{MAX_PIXELS // 1_000_000} megapixels in all. Choose a smaller image.",
)
TOO_MANY_SCANS = Rejected(
    TOO_COMPLEX.code,
    "The image is saved in too many progressive passes to be checked. "
    "Save it again as a standard (baseline) JPEG and upload that.",
)
TOO_MANY_PARTS = Rejected(
    TOO_COMPLEX.code,
    "The file is split into too many parts (segments or chunks) to be checked. "
    "Save the picture again as a plain JPEG or PNG and upload that.",
)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# JPEG markers without a length: TEM and the restart markers.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_SOI, _SOS, _EOI = 0xD8, 0xDA, 0xD9
# Start-of-frame markers (every coding process); C4 (DHT), C8 (reserved) and CC (DAC) are not.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Where a scan's entropy-coded data ends: a 0xFF followed by anything but a stuffed zero, a
# restart marker or a fill byte.
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# PNG chunks whose data Pillow inflates on its own: compressed text and the colour profile.
_COMPRESSED_ANCILLARY = frozenset({b"zTXt", b"iTXt", b"iCCP"})
# Samples per pixel of each PNG colour type, and the Adam7 passes (x, y, dx, dy).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def signature_format(data: bytes) -> str | None:
    return next((name for name, magic in _SIGNATURES.items() if data.startswith(magic)), None)


# ------------------------------------------------------------------ JPEG structure


@dataclass(frozen=True, slots=True)
class Segment:
    """One marker of a JPEG: its payload `data[start:stop]` (after the length field; for a scan,
    its header only) and where the next marker may start (`end`; a scan: after its data)."""

    marker: int
    start: int
    stop: int
    end: int


def _entropy_end(data: bytes, pos: int) -> int | None:
    """Where the entropy-coded data of a scan starting at `pos` ends (the next marker's 0xFF)."""
    found = _MARKER.search(data, pos)
    return found.start() if found else None


def jpeg_segments(data: bytes) -> Iterator[Segment]:
    """The JPEG's markers after the start of image, up to and including the end of image; it
    stops early at anything malformed (a cut-off length, a second start of image...)."""
    pos, size = 2, len(data)
    while pos < size and data[pos] == 0xFF:
        while pos < size and data[pos] == 0xFF:  # fill bytes may precede a marker
            pos += 1
        if pos >= size:
            return
        marker = data[pos]
        if marker == _EOI or marker in _STANDALONE:
            yield Segment(marker, pos + 1, pos + 1, pos + 1)
            if marker == _EOI:
                return
            pos += 1
            continue
        length = int.from_bytes(data[pos + 1 : pos + 3], "big")
        stop = pos + 1 + length
        if marker == _SOI or pos + 3 > size or length < 2 or stop > size:
            return
        end = _entropy_end(data, stop) if marker == _SOS else stop
        if end is None:
            return
        yield Segment(marker, pos + 3, stop, end)
        pos = end


def jpeg_end(data: bytes) -> int | None:
    """The offset just past the JPEG's end-of-image marker, or None if the segments do not get
    there (truncated or malformed)."""
    last = None
    for last in jpeg_segments(data):  # noqa: B007 -- the last one tells
        pass
    return last.end if last is not None and last.marker == _EOI else None


@dataclass(frozen=True, slots=True)
class Frame:
    """A JPEG frame header: the size, and each component's sampling factors by id."""

    width: int
    height: int
    sampling: dict[int, tuple[int, int]]

    def samples(self, component: int) -> int:
        """How many samples (pixels of that component) a scan naming `component` covers."""
        h, v = self.sampling[component]
        h_max = max(factor for factor, _ in self.sampling.values())
        v_max = max(factor for _, factor in self.sampling.values())
        return -(-self.width * h // h_max) * -(-self.height * v // v_max)


def _frame(payload: bytes) -> Frame | None:
    """The frame header (SOFn) `payload`, or None if it is malformed."""
    if len(payload) < 6:
        return None
    height, width, count = int.from_bytes(payload[1:3], "big"), int.from_bytes(payload[3:5], "big"), payload[5]
    if len(payload) != 6 + 3 * count or not count or not width or not height:
        return None
    sampling = {payload[i]: (payload[i + 1] >> 4, payload[i + 1] & 0x0F) for i in range(6, len(payload), 3)}
    if len(sampling) != count or not all(h and v for h, v in sampling.values()):
        return None
    return Frame(width, height, sampling)


def _scan_samples(frame: Frame | None, payload: bytes) -> int | None:
    """How many samples the scan whose header (SOS) is `payload` covers; None if the header is
    malformed or names a component the frame lacks (or comes before the frame)."""
    count = payload[0] if payload else 0
    if frame is None or not count or len(payload) != 4 + 2 * count:
        return None
    components = [payload[1 + 2 * i] for i in range(count)]
    if not set(components) <= frame.sampling.keys():
        return None
    return sum(frame.samples(component) for component in components)


def _jpeg_structure(data: bytes) -> Rejected | None:
    """Rules 2 and 3 for a JPEG: reaches its end of image, within the bounds on work."""
    frame: Frame | None = None
    segments = scans = samples = 0
    for segment in jpeg_segments(data):
        if segment.marker == _EOI:
            return None if segment.end == len(data) else EXTRA_DATA
        if segment.marker in _STANDALONE:
            continue
        verdict: Rejected | None = None
        payload = data[segment.start : segment.stop]
        if segment.marker in _SOF and frame is None:
            frame = _frame(payload)
            if frame is None:
                verdict = DAMAGED
            elif not _bounded(frame.width, frame.height):
                verdict = TOO_MANY_PIXELS
        elif segment.marker == _SOS:
            covered = _scan_samples(frame, payload)
            scans, samples = scans + 1, samples + (covered or 0)
            if covered is None:
                verdict = DAMAGED
            elif scans > MAX_SCANS or samples > MAX_SCAN_SAMPLES:
                verdict = TOO_MANY_SCANS
        segments += 1
        if verdict is None and segments > MAX_JPEG_SEGMENTS:
            verdict = TOO_MANY_PARTS
        if verdict is not None:
            return verdict
    return DAMAGED


# ------------------------------------------------------------------ PNG structure


@dataclass(frozen=True, slots=True)
class Chunk:
    kind: bytes
    start: int  # of its data
    length: int

    @property
    def end(self) -> int:
        return self.start + self.length + 4  # and its CRC


def png_chunks(data: bytes) -> Iterator[Chunk]:
    """The PNG's chunks up to and including `IEND`; it stops early where one does not fit."""
    pos, size = len(_SIGNATURES[PNG]), len(data)
    while pos + 12 <= size:
        length = int.from_bytes(data[pos : pos + 4], "big")
        chunk = Chunk(data[pos + 4 : pos + 8], pos + 8, length)
        if length > 0x7FFFFFFF or chunk.end > size:
            return
        yield chunk
        if chunk.kind == b"IEND":
            return
        pos = chunk.end


def png_end(data: bytes) -> int | None:
    """The offset just past the PNG's IEND chunk, or None if the chunks do not get there."""
    last = None
    for last in png_chunks(data):  # noqa: B007 -- the last one tells
        pass
    return last.end if last is not None and last.kind == b"IEND" else None


def png_pixel_bytes(header: bytes) -> int | None:
    """How many bytes the pixel stream of an IHDR `header` inflates to (a filter byte per row,
    Adam7's seven passes if interlaced), or None if the header is malformed."""
    if len(header) != 13:
        return None
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour, interlace = header[8], header[9], header[12]
    if colour not in _PNG_CHANNELS or interlace > 1:
        return None
    bits = depth * _PNG_CHANNELS[colour]
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    total = 0
    for x, y, dx, dy in passes:
        columns, rows = -(-max(width - x, 0) // dx), -(-max(height - y, 0) // dy)
        if columns and rows:
            total += rows * (1 + -(-columns * bits // 8))
    return total


def idat_bound(pixel_bytes: int) -> int:
    """The most compressed bytes any encoder needs for `pixel_bytes`: deflate's stored blocks
    add 5 bytes per 64 KiB and a fixed-Huffman encoder at most an eighth; a generous margin."""
    return pixel_bytes + pixel_bytes // 4 + 65_536


def _png_structure(data: bytes) -> Rejected | None:
    """Rules 2 and 3 for a PNG: reaches `IEND`, within the bounds on work, and its pixel
    stream no larger than its pixels could need."""
    compressed = idat = 0
    pixel_bytes: int | None = None
    for count, chunk in enumerate(png_chunks(data), start=1):
        if count > MAX_PNG_CHUNKS:
            return TOO_MANY_PARTS
        if chunk.kind == b"IHDR" and count == 1:
            pixel_bytes = png_pixel_bytes(data[chunk.start : chunk.start + chunk.length])
        elif chunk.kind == b"IDAT":
            idat += chunk.length
        elif chunk.kind in _COMPRESSED_ANCILLARY:
            compressed += 1
            if compressed > MAX_PNG_COMPRESSED_CHUNKS:
                return TOO_MANY_PARTS
        elif chunk.kind == b"IEND":
            if chunk.end != len(data):
                return EXTRA_DATA
            if pixel_bytes is None:
                return DAMAGED
            return EXTRA_DATA if idat > idat_bound(pixel_bytes) else None
    return DAMAGED


def structure(data: bytes, kind: str) -> Rejected | None:
    """Rules 2 and 3: where the file ends, and what decoding it would take (no decoding)."""
    return _jpeg_structure(data) if kind == JPEG else _png_structure(data)


def _bounded(width: int, height: int) -> bool:
    return 0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= MAX_PIXELS


def _open(data: bytes, kind: str) -> Image.Image | Rejected:
    """Identify the image as `kind` and check its dimensions, from its header only."""
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return TOO_MANY_PIXELS
    except Exception as exc:  # any failure to parse untrusted bytes is a verdict, not a crash
        logger.info("Avatar upload not identified", extra={"error": type(exc).__name__})
        return DAMAGED
    if image.format != kind:
        return NOT_AN_IMAGE
    if not _bounded(*image.size):
        return TOO_MANY_PIXELS
    return image


def decode(data: bytes, kind: str) -> Image.Image | Rejected:
    """Open and fully decode the image as `kind`, within the pixel bounds."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(data, kind)
        if isinstance(image, Rejected):
            return image
        if kind == JPEG:
            # Decode at the smallest DCT scale that still covers the avatar: the whole stream is
            # decoded (so damage is found) without a full-size bitmap in memory.
            image.draft(image.mode, (AVATAR_SIDE, AVATAR_SIDE))
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return TOO_MANY_PIXELS
        except Exception as exc:  # a decoder error on untrusted bytes: the image is damaged
            logger.info("Avatar upload not decoded", extra={"error": type(exc).__name__})
            return DAMAGED
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _to_srgb(image: Image.Image, kind: str) -> Image.Image:
    """The pixels in 8-bit sRGB (or grey), with alpha kept for PNG; the ICC profile, if any,
    is applied rather than dropped, so colours look the same."""
    if image.mode.startswith("I"):  # 16-bit or 32-bit grey: scale down, do not clip
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    alpha = kind == PNG and _has_alpha(image)
    if image.mode == "L" and not alpha:
        return image
    target = "RGBA" if alpha else "RGB"
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = target if image.mode != "CMYK" else "RGB"
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
            if converted is not None:
                return converted.convert(target)
        except (ImageCms.PyCMSError, OSError, ValueError) as exc:
            logger.info("Avatar colour profile not applied", extra={"error": type(exc).__name__})
    return image.convert(target)


def _without_metadata(image: Image.Image) -> Image.Image:
    """A new image holding only the pixels: no EXIF, text, comment, ICC profile or anything else."""
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _encoded(image: Image.Image, kind: str) -> EncodedImage:
    buffer = io.BytesIO()
    options: dict[str, Any] = (
        {"quality": JPEG_QUALITY, "optimize": True, "progressive": True}
        if kind == JPEG
        else {"compress_level": PNG_COMPRESS_LEVEL}
    )
    image.save(buffer, kind, **options)
    content_type, extension = _OUTPUT[kind]
    return EncodedImage(buffer.getvalue(), content_type, extension, image.width, image.height)


def render(image: Image.Image, kind: str) -> Accepted:
    """The avatar and thumbnail published for a decoded upload."""
    image.thumbnail((AVATAR_SIDE, AVATAR_SIDE), Image.Resampling.LANCZOS)
    upright = ImageOps.exif_transpose(image)  # the fit box is square: scaling first is the same
    avatar = _without_metadata(_to_srgb(upright, kind))
    thumbnail = avatar.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return Accepted(avatar=_encoded(avatar, kind), thumbnail=_encoded(_without_metadata(thumbnail), kind))


def _never() -> bool:
    return False


def inspect(data: bytes, *, expired: Callable[[], bool] = _never) -> Verdict:
    """The verdict on an upload's bytes (its size is already checked): accepted and
    re-encoded, or rejected with the first reason found. `expired` says when the time budget
    is spent: checked between stages, it turns the verdict into `too-complex`."""
    kind = signature_format(data)
    if kind is None:
        return NOT_AN_IMAGE
    if rejected := structure(data, kind):
        return rejected
    if expired():
        return TOO_COMPLEX
    decoded = decode(data, kind)
    if isinstance(decoded, Rejected):
        return decoded
    with decoded:
        if expired():
            return TOO_COMPLEX
        rendered = render(decoded, kind)
    return TOO_COMPLEX if expired() else rendered
