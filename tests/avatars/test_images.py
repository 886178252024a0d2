"""The checks of an upload's real bytes and the re-encoding of valid images (Pillow, no AWS)."""

from __future__ import annotations

import io
import random
import struct
import threading
import zlib
from collections.abc import Callable
from typing import Any, cast

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, PngImagePlugin

from account_billing.avatars import images, validation
from account_billing.avatars.validation import Accepted, Rejected, Verdict
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


# ------------------------------------------------------------------ bounded work


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records (and fails) every decode of a file's pixels: each goes through Pillow's `load`.
    Images made in memory (the corpus being encoded) load as usual."""
    calls: list[str] = []
    loads: dict[type[Image.Image], Callable[[Any], Any]] = {
        Image.Image: Image.Image.load,
        ImageFile.ImageFile: ImageFile.ImageFile.load,
    }

    def guarded(cls: type[Image.Image]) -> Callable[[Image.Image], Any]:
        def load(self: Image.Image) -> Any:
            if self.format is None:
                return loads[cls](self)
            calls.append(self.format)
            raise AssertionError(f"{self.format} image decoded")

        return load

    for cls in loads:
        monkeypatch.setattr(cls, "load", guarded(cls))
    return calls


def test_the_decode_guard_sees_a_decode(decodes: list[str]) -> None:
    images.inspect(corpus.photo_png())
    assert decodes == ["PNG"]


@pytest.mark.parametrize(
    "name",
    [
        name
        for name, (_, _, code) in corpus.invalid_uploads().items()
        if code == "too-complex" or name.startswith(("PNG bomb", "PNG whose zTXt"))
    ],
)
def test_files_that_would_cost_too_much_to_decode_are_refused_before_decoding(name: str, decodes: list[str]) -> None:
    data, _, code = corpus.invalid_uploads()[name]
    verdict = images.inspect(data)
    assert isinstance(verdict, Rejected)
    assert verdict.code == code
    assert decodes == []


def test_the_scan_bomb_is_refused_for_its_scans_and_says_how_to_fix_it() -> None:
    bomb = corpus.progressive_scan_bomb()
    assert corpus.scan_count(bomb) == 2_000
    assert len(bomb) < 200_000  # a small file: the cost is in the scans, not the bytes
    verdict = images.inspect(bomb)
    assert verdict == images.TOO_MANY_SCANS
    assert verdict.code == "too-complex"
    assert "baseline" in verdict.reason


def test_a_progressive_photo_as_encoders_write_it_is_accepted() -> None:
    # Given a 2400 × 1600 progressive JPEG in libjpeg's standard 10 scans
    photo = corpus.progressive_photo()
    assert corpus.scan_count(photo) == 10
    # Then it is decoded and published
    verdict = accepted(photo)
    assert (verdict.avatar.width, verdict.avatar.height) == (images.AVATAR_SIDE, 683)


@pytest.mark.parametrize(("mode", "scans"), [("RGB", 10), ("L", 6), ("CMYK", 18)])
def test_every_standard_progressive_script_passes_at_the_largest_size_allowed(mode: str, scans: int) -> None:
    # Given the progressive JPEG an encoder writes, claiming 8000 × 5000 pixels (the 40 MP
    # limit): CMYK's 18 scans cover 24 times the pixels, the most a common encoder writes
    small = corpus.encode(corpus.halves((64, 64), mode), "JPEG", progressive=True, subsampling=0)
    assert corpus.scan_count(small) == scans
    # Then the bounds on scans leave it room (the structure only: the patched file holds 64 × 64 pixels' data)
    assert images.structure(corpus.with_size(small, 8000, 5000), images.JPEG) is None


def test_scans_are_bounded_by_the_pixels_they_cover_as_well_as_by_their_number() -> None:
    # 40 repeated scans of 8000 × 5000 cover exactly the budget; one more is too many
    assert images.structure(corpus.progressive_scan_bomb(40), images.JPEG) is None
    assert images.structure(corpus.progressive_scan_bomb(41), images.JPEG) == images.TOO_MANY_SCANS
    # a small image may take more scans, up to the count
    assert images.structure(corpus.progressive_scan_bomb(images.MAX_SCANS, (16, 16)), images.JPEG) is None
    assert images.structure(corpus.progressive_scan_bomb(images.MAX_SCANS + 1, (16, 16)), images.JPEG) == (
        images.TOO_MANY_SCANS
    )


def test_the_segment_and_chunk_counts_are_bounded_exactly_at_their_limits() -> None:
    # a JPEG's own segments (APP0, DQT, SOF, DHT x2, SOS) plus comments
    own = len([s for s in images.jpeg_segments(corpus.jpeg_with_comments(0)) if s.marker != 0xD9])
    assert images.structure(corpus.jpeg_with_comments(images.MAX_JPEG_SEGMENTS - own), images.JPEG) is None
    assert images.structure(corpus.jpeg_with_comments(images.MAX_JPEG_SEGMENTS - own + 1), images.JPEG) == (
        images.TOO_MANY_PARTS
    )
    # a PNG's IHDR, IDAT and IEND plus private chunks
    fits = corpus.png_with_chunks(*[(b"prIv", b"")] * (images.MAX_PNG_CHUNKS - 3))
    assert images.structure(fits, images.PNG) is None
    assert images.structure(corpus.png_with_chunks(*[(b"prIv", b"")] * (images.MAX_PNG_CHUNKS - 2)), images.PNG) == (
        images.TOO_MANY_PARTS
    )


def test_a_png_may_carry_a_profile_and_a_few_compressed_text_chunks() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    texts = [
        corpus.ztxt_inflating_to(10_000, keyword=f"k{i}".encode()) for i in range(images.MAX_PNG_COMPRESSED_CHUNKS - 1)
    ]
    data = corpus.png_with_chunks((b"iCCP", b"sRGB\x00\x00" + zlib.compress(srgb)), *texts)
    accepted(data)


def test_the_idat_bound_leaves_room_for_incompressible_pixels_and_interlacing() -> None:
    # Given noise, which deflate cannot shrink, stored with the least compression, interlaced
    noise = Image.frombytes("RGBA", (300, 200), random.Random(3).randbytes(300 * 200 * 4))
    for options in ({"compress_level": 0}, {"compress_level": 0, "interlace": 1}, {"compress_level": 9}):
        data = corpus.encode(noise, "PNG", **options)
        assert images.structure(data, images.PNG) is None, options
    # and the raw size of a 16-bit interlaced image is counted pass by pass
    header = struct.pack(">IIBBBBB", 9, 9, 16, 6, 0, 0, 1)
    passes = [(2, 2), (1, 2), (3, 1), (2, 3), (5, 2), (4, 5), (9, 4)]  # Adam7 on 9 × 9
    assert images.png_pixel_bytes(header) == sum(rows * (1 + columns * 8) for columns, rows in passes)


def test_pillow_is_told_to_keep_its_text_limits_and_never_to_decode_a_truncated_image() -> None:
    assert PngImagePlugin.MAX_TEXT_CHUNK == 1024 * 1024
    assert PngImagePlugin.MAX_TEXT_MEMORY == images.MAX_PNG_COMPRESSED_CHUNKS * PngImagePlugin.MAX_TEXT_CHUNK
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_a_published_png_is_compressed_at_zlib_level_6() -> None:
    verdict = accepted(corpus.photo_png(size=(300, 200)))
    idat = verdict.avatar.data.index(b"IDAT") + 4
    assert verdict.avatar.data[idat : idat + 2] == b"\x78\x9c"  # the zlib header of level 6 (level 9: 78 DA)


# ------------------------------------------------------------------ the time budget


def test_an_inspection_that_runs_out_of_time_is_too_complex_and_stops_at_its_next_stage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a decoder that cannot be interrupted and takes longer than the budget
    release, rendered = threading.Event(), threading.Event()
    real_decode = images.decode

    def slow_decode(data: bytes, kind: str) -> Image.Image | Rejected:
        release.wait(timeout=60)
        return real_decode(data, kind)

    def render(image: Image.Image, kind: str) -> Accepted:
        rendered.set()
        raise AssertionError("rendered after the budget was spent")

    monkeypatch.setattr(images, "decode", slow_decode)
    monkeypatch.setattr(images, "render", render)

    # When it is inspected under a budget of a few milliseconds
    verdict = validation.within_time_budget(images.inspect, corpus.photo_jpeg(), 0.01)

    # Then the verdict is too-complex, without waiting for the decoder
    assert verdict == validation.TOO_COMPLEX
    assert verdict.reason
    # And once the decoder returns, the inspection stops before rendering anything
    (worker,) = [thread for thread in threading.enumerate() if thread.name == "avatar-inspection"]
    release.set()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert not rendered.is_set()


def test_an_inspection_within_its_budget_gives_its_own_verdict() -> None:
    photo = corpus.photo_jpeg()
    assert isinstance(validation.within_time_budget(images.inspect, photo, 60), Accepted)
    assert validation.within_time_budget(images.inspect, b"not an image", 60) == images.NOT_AN_IMAGE


def test_an_error_inside_the_inspection_is_raised_to_the_caller() -> None:
    def broken(data: bytes, *, expired: Callable[[], bool] = lambda: False) -> Verdict:
        raise MemoryError("out of memory")

    with pytest.raises(MemoryError):
        validation.within_time_budget(broken, b"", 60)
