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
3. Pillow identifies it as that same format, and its dimensions are bounded (at most
   `MAX_SIDE` pixels a side and `MAX_PIXELS` in all) before anything is decoded:
   decompression bombs and pixel floods stop at the header.
4. Pillow decodes all of it.

What is published is never the upload: it is a new image encoded from the decoded pixels
(EXIF orientation applied, converted to sRGB, scaled to fit `AVATAR_SIDE`), so no metadata
(EXIF, GPS location, comments, text chunks, ICC profiles) and nothing hidden inside the
file's segments survives.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from PIL import Image, ImageCms, ImageOps

from account_billing.avatars.validation import Accepted, EncodedImage, Rejected, Verdict
from account_billing.core.observability import logger

MAX_SIDE = 10_000
MAX_PIXELS = 40_000_000
AVATAR_SIDE = 1024
THUMBNAIL_SIDE = 128
JPEG_QUALITY = 85

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

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# JPEG markers without a length: TEM and the restart markers.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_SOS, _EOI = 0xDA, 0xD9


def signature_format(data: bytes) -> str | None:
    return next((name for name, magic in _SIGNATURES.items() if data.startswith(magic)), None)


def _entropy_end(data: bytes, pos: int) -> int | None:
    """Where the entropy-coded data of a scan starting at `pos` ends: at the next marker
    (0xFF followed by anything but a stuffed zero, a restart marker or a fill byte)."""
    while True:
        at = data.find(b"\xff", pos)
        if at < 0 or at + 1 >= len(data):
            return None
        following = data[at + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos = at + (1 if following == 0xFF else 2)
            continue
        return at


def _segment_end(data: bytes, marker: int, pos: int) -> int | None:
    """Where the segment of `marker`, whose length field starts at `pos`, ends (a scan: with
    its entropy-coded data); None if it does not fit in the file."""
    if marker == 0xD8 or pos + 2 > len(data):  # a second start of image, or a cut-off length
        return None
    length = int.from_bytes(data[pos : pos + 2], "big")
    if length < 2 or pos + length > len(data):
        return None
    return _entropy_end(data, pos + length) if marker == _SOS else pos + length


def jpeg_end(data: bytes) -> int | None:
    """The offset just past the JPEG's end-of-image marker, or None if the segments do not get
    there (truncated or malformed)."""
    pos: int | None = 2
    size = len(data)
    while pos is not None and pos < size and data[pos] == 0xFF:
        while pos < size and data[pos] == 0xFF:  # fill bytes may precede a marker
            pos += 1
        if pos >= size:
            break
        marker = data[pos]
        if marker == _EOI:
            return pos + 1
        pos = pos + 1 if marker in _STANDALONE else _segment_end(data, marker, pos + 1)
    return None


def png_end(data: bytes) -> int | None:
    """The offset just past the PNG's IEND chunk, or None if the chunks do not get there."""
    pos, size = len(_SIGNATURES[PNG]), len(data)
    while pos + 12 <= size:
        length = int.from_bytes(data[pos : pos + 4], "big")
        end = pos + 12 + length  # length, type, data, CRC
        if length > 0x7FFFFFFF or end > size:
            return None
        if data[pos + 4 : pos + 8] == b"IEND":
            return end
        pos = end
    return None


def _structure(data: bytes, kind: str) -> Rejected | None:
    end = jpeg_end(data) if kind == JPEG else png_end(data)
    if end is None:
        return DAMAGED
    if end != len(data):
        return EXTRA_DATA
    return None


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
        {"quality": JPEG_QUALITY, "optimize": True, "progressive": True} if kind == JPEG else {"optimize": True}
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


def inspect(data: bytes) -> Verdict:
    """The verdict on an upload's bytes (its size is already checked): accepted and
    re-encoded, or rejected with the first reason found."""
    kind = signature_format(data)
    if kind is None:
        return NOT_AN_IMAGE
    if rejected := _structure(data, kind):
        return rejected
    decoded = decode(data, kind)
    if isinstance(decoded, Rejected):
        return decoded
    with decoded:
        return render(decoded, kind)
