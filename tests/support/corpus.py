"""The upload corpus, generated with Pillow: valid images carrying metadata, and every kind of
file the validator must refuse."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from functools import cache
from typing import Any

from PIL import ExifTags, Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from account_billing.avatars.policy import MAX_BYTES

LEFT, RIGHT = (220, 20, 20), (20, 20, 220)  # red and blue halves, to see which way is up
GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (51.0, 30.0, 26.0),
    ExifTags.GPS.GPSLongitudeRef: "W",
    ExifTags.GPS.GPSLongitude: (0.0, 7.0, 39.0),
}


def halves(size: tuple[int, int] = (60, 40), mode: str = "RGB") -> Image.Image:
    """An image whose left half is red and right half blue."""
    image = Image.new("RGB", size, LEFT)
    image.paste(RIGHT, (size[0] // 2, 0, size[0], size[1]))
    return image.convert(mode)


def camera_exif(orientation: int = 6) -> Image.Exif:
    """EXIF as a phone writes it: an orientation, the camera, and where the photo was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "ExampleCam"
    exif[ExifTags.Base.Model] = "Model 1"
    exif[ExifTags.IFD.GPSInfo] = GPS
    return exif


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo_jpeg(size: tuple[int, int] = (60, 40), orientation: int = 6, **options: Any) -> bytes:
    """A JPEG taken with the camera turned (EXIF orientation 6: display rotated 90° clockwise),
    with GPS tags, a comment and an sRGB colour profile."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(
        halves(size),
        "JPEG",
        exif=camera_exif(orientation),
        comment=b"taken at home",
        icc_profile=srgb,
        quality=95,
        **options,
    )


def photo_png(size: tuple[int, int] = (60, 40), mode: str = "RGBA") -> bytes:
    """A PNG with EXIF (orientation and GPS) and text chunks."""
    text = PngInfo()
    text.add_text("Author", "Ada Lovelace")
    text.add_itxt("Location", "51.5074 N, 0.1278 W")
    return encode(halves(size, mode), "PNG", exif=camera_exif(orientation=6), pnginfo=text)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int, *, rows: int = 1) -> bytes:
    """A well-formed PNG (correct CRCs) claiming `width` × `height` greyscale pixels, whose
    compressed data is tiny: the classic pixel flood or decompression bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress((b"\x00" + b"\x00" * width) * rows, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small valid JPEG whose frame header is patched to claim other dimensions."""
    data = bytearray(encode(halves((16, 16)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(document.cookie)</script>")
    return buffer.getvalue()


@cache
def invalid_uploads() -> dict[str, tuple[bytes, str, str]]:
    """name → (bytes, declared content type, the rejection code expected)."""
    jpeg = photo_jpeg()
    png = photo_png()
    return {
        "text file sent as an image": (b"hello, this is not an image\n", "image/jpeg", "unsupported-type"),
        "GIF": (encode(halves(), "GIF"), "image/png", "unsupported-type"),
        "SVG": (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
            "image/png",
            "unsupported-type",
        ),
        "HTML page": (b"<!DOCTYPE html><html><body>hi</body></html>", "image/jpeg", "unsupported-type"),
        "WebP": (encode(halves(), "WEBP"), "image/jpeg", "unsupported-type"),
        "truncated JPEG": (jpeg[: len(jpeg) * 2 // 3], "image/jpeg", "damaged"),
        "truncated PNG": (png[: len(png) - 30], "image/png", "damaged"),
        "JPEG signature, then garbage": (
            b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x13" * 200,
            "image/jpeg",
            "damaged",
        ),
        "PNG with a corrupt pixel stream": (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", b"not zlib data at all")
            + _chunk(b"IEND", b""),
            "image/png",
            "damaged",
        ),
        "polyglot: JPEG + ZIP": (jpeg + zip_archive(), "image/jpeg", "extra-data"),
        "polyglot: PNG + HTML": (png + b"<html><script>alert(1)</script></html>", "image/png", "extra-data"),
        "two JPEGs in one file": (jpeg + jpeg, "image/jpeg", "extra-data"),
        "pixel flood (PNG, 6400 × 6400)": (png_header_only(6400, 6400, rows=6400), "image/png", "too-many-pixels"),
        "decompression bomb (PNG header, 50000 × 50000)": (
            png_header_only(50000, 50000),
            "image/png",
            "too-many-pixels",
        ),
        "too wide (PNG, 12000 × 1)": (png_header_only(12000, 1), "image/png", "too-many-pixels"),
        "pixel flood (JPEG header, 60000 × 60000)": (jpeg_claiming(60000, 60000), "image/jpeg", "too-many-pixels"),
        "empty file": (b"", "image/jpeg", "empty"),
        "over 20 MB": (b"\xff\xd8\xff\xe0" + b"\x00" * (MAX_BYTES - 3), "image/jpeg", "too-large"),
    }
