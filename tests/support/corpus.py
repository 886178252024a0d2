"""The upload corpus, generated with Pillow: valid images carrying metadata, and every kind of
file the validator must refuse."""

from __future__ import annotations

import io
import random
import re
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


def progressive_photo(size: tuple[int, int] = (2400, 1600), mode: str = "RGB") -> bytes:
    """A progressive JPEG of a photo-like picture (smooth shapes from upscaled noise), as
    Pillow, libjpeg and ImageMagick write it: 10 scans in colour, 6 grey, 18 CMYK."""
    noise = random.Random(7)
    small = (max(1, size[0] // 40), max(1, size[1] // 40))
    pixels = bytes(noise.getrandbits(8) for _ in range(small[0] * small[1] * 3))
    picture = Image.frombytes("RGB", small, pixels).resize(size, Image.Resampling.BICUBIC).convert(mode)
    return encode(picture, "JPEG", progressive=True, optimize=True, quality=90, exif=camera_exif(orientation=1))


def jpeg_markers(data: bytes, marker: bytes) -> list[int]:
    """Where each `marker` (e.g. b"\xda", a scan) starts. Entropy-coded data stuffs every 0xFF
    with a zero, so 0xFF then a marker byte is always a marker."""
    return [found.start() for found in re.finditer(re.escape(b"\xff" + marker), data)]


def scan_count(data: bytes) -> int:
    return len(jpeg_markers(data, b"\xda"))


def with_size(data: bytes, width: int, height: int) -> bytes:
    """The JPEG with its frame header (SOF0/SOF2) claiming `width` × `height`."""
    patched = bytearray(data)
    sof = min(at for marker in (b"\xc0", b"\xc2") for at in jpeg_markers(data, marker))
    struct.pack_into(">HH", patched, sof + 5, height, width)
    return bytes(patched)


@cache
def _flat_progressive_grey(size: tuple[int, int]) -> bytes:
    return encode(Image.new("L", size, 128), "JPEG", progressive=True)


def progressive_scan_bomb(scans: int = 2_000, size: tuple[int, int] = (8000, 5000)) -> bytes:
    """The progressive-JPEG scan bomb: a grey `size` frame whose first AC scan (one end-of-band
    run over all 625,000 blocks: about 60 bytes) repeats `scans` times. libjpeg walks every
    block for every scan: 2,000 scans (130 KB) decode in 5 to 30 s, 36,000 in over a minute."""
    picture = _flat_progressive_grey(size)
    first_scan, ac_scan, next_table = jpeg_markers(picture, b"\xda")[0], *jpeg_markers(picture, b"\xc4")[1:3]
    # the frame and the DC scan's table; the AC scan's table; the AC scan itself
    header, ac_table = picture[:first_scan], picture[ac_scan : jpeg_markers(picture, b"\xda")[1]]
    scan = picture[jpeg_markers(picture, b"\xda")[1] : next_table]
    return header + ac_table + scan * scans + b"\xff\xd9"


def jpeg_with_comments(count: int) -> bytes:
    """A small valid JPEG carrying `count` comment segments."""
    jpeg = encode(halves((16, 16)), "JPEG")
    return jpeg[:2] + b"\xff\xfe\x00\x03x" * count + jpeg[2:]


def png_with_chunks(*chunks: tuple[bytes, bytes], pixels: tuple[int, int] = (16, 16)) -> bytes:
    """A valid grey PNG with `chunks` ((type, data) pairs) between its header and its pixels."""
    width, height = pixels
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress((b"\x00" + b"\x80" * width) * height)
    extra = b"".join(_chunk(kind, data) for kind, data in chunks)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + extra + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@cache
def png_idat_bomb(megabytes: int = 256) -> bytes:
    """A 64 × 64 grey PNG whose pixel stream goes on to inflate to `megabytes` MiB of zeros
    after the picture's 4,160 bytes: a quarter of a megabyte that could cost a decoder
    gigabytes of inflating, or hide anything after the picture. A valid zlib stream, built
    from one deflate block of a MiB of zeros repeated (a full flush makes each block alone)."""
    picture, zeros = (b"\x00" + b"\x80" * 64) * 64, bytes(1024 * 1024)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: the zlib wrapper is added below
    head = deflate.compress(picture) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    checksum = zlib.adler32(picture)
    for _ in range(megabytes):
        checksum = zlib.adler32(zeros, checksum)
    stream = b"\x78\xda" + head + block * megabytes + deflate.flush() + struct.pack(">I", checksum)
    ihdr = struct.pack(">IIBBBBB", 64, 64, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")


def ztxt_inflating_to(size: int, keyword: bytes = b"Comment") -> tuple[bytes, bytes]:
    """A zTXt chunk's (type, data) whose text inflates to `size` bytes."""
    return b"zTXt", keyword + b"\x00\x00" + zlib.compress(b"a" * size, 9)


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
        "progressive-JPEG scan bomb (8000 × 5000, 2,000 scans)": (
            progressive_scan_bomb(),
            "image/jpeg",
            "too-complex",
        ),
        "progressive JPEG with 101 scans (16 × 16)": (
            progressive_scan_bomb(101, (16, 16)),
            "image/jpeg",
            "too-complex",
        ),
        "progressive JPEG covering 41 × 40 MP in 41 scans": (
            progressive_scan_bomb(41),
            "image/jpeg",
            "too-complex",
        ),
        "JPEG with 2,001 comment segments": (jpeg_with_comments(2_001), "image/jpeg", "too-complex"),
        "PNG with 20,001 chunks": (png_with_chunks(*[(b"prIv", b"")] * 20_001), "image/png", "too-complex"),
        "PNG with 33 keyless zTXt chunks of 1 MiB each": (
            png_with_chunks(*[ztxt_inflating_to(1024 * 1024 - 1, keyword=b"")] * 33),
            "image/png",
            "too-complex",
        ),
        "PNG with 33 colour profiles of 1 MiB each": (
            png_with_chunks(*[(b"iCCP", b"p\x00\x00" + zlib.compress(bytes(1024 * 1024 - 1), 9))] * 33),
            "image/png",
            "too-complex",
        ),
        "PNG whose zTXt inflates past 1 MiB": (
            png_with_chunks(ztxt_inflating_to(2 * 1024 * 1024)),
            "image/png",
            "damaged",
        ),
        "PNG bomb via IDAT (64 × 64, pixel stream inflating to 256 MiB)": (
            png_idat_bomb(),
            "image/png",
            "extra-data",
        ),
        "empty file": (b"", "image/jpeg", "empty"),
        "over 20 MB": (b"\xff\xd8\xff\xe0" + b"\x00" * (MAX_BYTES - 3), "image/jpeg", "too-large"),
    }
