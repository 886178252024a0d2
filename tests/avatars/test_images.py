"""The checks of an upload's real bytes and the re-encoding of valid images (Pillow, no AWS)."""

from __future__ import annotations

import io
from typing import cast

import pytest
from PIL import ExifTags, Image

from account_billing.avatars import images
from account_billing.avatars.validation import Accepted, Rejected
from tests.support import corpus


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def accepted(data: bytes) -> Accepted:
    verdict = images.inspect(data)
    assert isinstance(verdict, Accepted), verdict
    return verdict


def assert_no_metadata(data: bytes) -> None:
    image = opened(data)
    exif = image.getexif()
    assert dict(exif) == {}
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert not {"exif", "icc_profile", "comment", "Author", "Location", "XML:com.adobe.xmp"} & set(image.info)
    assert b"ExampleCam" not in data
    assert b"Ada Lovelace" not in data
    assert b"taken at home" not in data


def test_a_phone_jpeg_is_turned_upright_and_loses_its_metadata() -> None:
    # Given a 60 × 40 photo taken with the camera turned (orientation 6), GPS tags and a comment
    original = corpus.photo_jpeg()
    assert opened(original).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the corpus carries a location

    # When it is checked
    verdict = accepted(original)

    # Then the published JPEG stands upright (the left half is now on top) with no metadata
    avatar = opened(verdict.avatar.data)
    assert avatar.format == "JPEG"
    assert verdict.avatar.content_type == "image/jpeg"
    assert avatar.size == (40, 60) == (verdict.avatar.width, verdict.avatar.height)
    top, bottom = cast(tuple[int, ...], avatar.getpixel((20, 5))), cast(tuple[int, ...], avatar.getpixel((20, 55)))
    assert top[0] > 150
    assert top[2] < 100
    assert bottom[2] > 150
    assert bottom[0] < 100
    assert_no_metadata(verdict.avatar.data)
    assert_no_metadata(verdict.thumbnail.data)


def test_a_png_keeps_its_transparency_and_loses_exif_and_text_chunks() -> None:
    verdict = accepted(corpus.photo_png(mode="RGBA"))
    avatar = opened(verdict.avatar.data)
    assert avatar.format == "PNG"
    assert verdict.avatar.content_type == "image/png"
    assert avatar.mode == "RGBA"
    assert avatar.size == (40, 60)  # orientation applied from the PNG's eXIf chunk
    assert_no_metadata(verdict.avatar.data)
    assert_no_metadata(verdict.thumbnail.data)


def test_a_png_sent_as_jpeg_is_judged_by_its_bytes_and_published_as_png() -> None:
    verdict = accepted(corpus.encode(corpus.halves(), "PNG"))
    assert verdict.avatar.content_type == "image/png"
    assert verdict.avatar.extension == "png"
    assert opened(verdict.avatar.data).format == "PNG"


def test_large_images_are_scaled_to_the_avatar_size_with_a_small_thumbnail() -> None:
    verdict = accepted(corpus.encode(corpus.halves((3000, 2000)), "JPEG", quality=70))
    assert (verdict.avatar.width, verdict.avatar.height) == (images.AVATAR_SIDE, 683)
    assert opened(verdict.avatar.data).size == (images.AVATAR_SIDE, 683)
    assert max(opened(verdict.thumbnail.data).size) == images.THUMBNAIL_SIDE
    assert len(verdict.thumbnail.data) < len(verdict.avatar.data)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("progressive JPEG", corpus.encode(corpus.halves(), "JPEG", progressive=True)),
        ("JPEG with restart markers", corpus.encode(corpus.halves((64, 64)), "JPEG", restart_marker_blocks=1)),
        (
            "JPEG whose comment holds an end-of-image marker",
            corpus.encode(corpus.halves(), "JPEG", comment=b"\xff\xd9"),
        ),
        ("greyscale JPEG", corpus.encode(corpus.halves(mode="L"), "JPEG")),
        ("CMYK JPEG", corpus.encode(corpus.halves(mode="CMYK"), "JPEG")),
        ("palette PNG with transparency", corpus.encode(corpus.halves(mode="P"), "PNG", transparency=0)),
        ("greyscale PNG", corpus.encode(corpus.halves(mode="L"), "PNG")),
        ("1 × 1 PNG", corpus.encode(Image.new("RGB", (1, 1)), "PNG")),
    ],
)
def test_every_valid_variant_of_jpeg_and_png_is_accepted(name: str, data: bytes) -> None:
    verdict = accepted(data)
    assert opened(verdict.avatar.data).format in ("JPEG", "PNG"), name


def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped() -> None:
    verdict = accepted(corpus.encode(Image.new("I;16", (8, 8), 0x8000), "PNG"))
    assert opened(verdict.avatar.data).getpixel((4, 4)) == 128


def test_a_colour_profile_is_applied_then_dropped() -> None:
    verdict = accepted(corpus.photo_jpeg())
    assert "icc_profile" not in opened(verdict.avatar.data).info


@pytest.mark.parametrize(
    "name", [name for name, (_, _, code) in corpus.invalid_uploads().items() if code not in ("empty", "too-large")]
)
def test_invalid_files_are_rejected_with_the_expected_reason(name: str) -> None:
    data, _, code = corpus.invalid_uploads()[name]
    verdict = images.inspect(data)
    assert isinstance(verdict, Rejected)
    assert verdict.code == code
    assert verdict.reason
    assert "." in verdict.reason


def test_the_structure_rule_finds_the_exact_end_of_each_format() -> None:
    jpeg, png = corpus.photo_jpeg(), corpus.photo_png()
    assert images.jpeg_end(jpeg) == len(jpeg)
    assert images.png_end(png) == len(png)
    assert images.jpeg_end(jpeg + b"\x00") == len(jpeg)  # what follows is someone else's
    assert images.jpeg_end(jpeg[:-2]) is None  # no end-of-image marker: truncated
    assert images.png_end(png[:-12]) is None


def test_even_one_byte_after_the_picture_is_refused() -> None:
    verdict = images.inspect(corpus.photo_png() + b"\n")
    assert verdict == images.EXTRA_DATA


def test_pillow_must_decode_what_the_structure_check_lets_through() -> None:
    # Given a JPEG whose segments are intact but whose first Huffman table is zeroed
    data = bytearray(corpus.encode(corpus.halves(), "JPEG"))
    dht = data.index(b"\xff\xc4")
    length = int.from_bytes(data[dht + 2 : dht + 4], "big")
    data[dht + 5 : dht + 2 + length] = bytes(length - 3)
    assert images.jpeg_end(bytes(data)) == len(data)  # the structure is fine
    # Then decoding fails, and the upload is refused as damaged
    assert images.inspect(bytes(data)) == images.DAMAGED


def test_a_png_whose_header_checksum_is_wrong_is_damaged() -> None:
    data = bytearray(corpus.encode(corpus.halves(), "PNG"))
    data[29] ^= 0xFF  # a byte of IHDR's CRC
    assert images.inspect(bytes(data)) == images.DAMAGED


def test_pillow_refuses_more_pixels_than_the_limit_even_before_our_own_check() -> None:
    assert Image.MAX_IMAGE_PIXELS == images.MAX_PIXELS
    decoded = images.decode(corpus.png_header_only(6400, 6400, rows=1), images.PNG)
    assert decoded == images.TOO_MANY_PIXELS
