"""The large uploads the benchmarks give the avatar validator, generated the same way every time
(a seeded generator, Pillow's encoders): a 40-megapixel camera-like JPEG just under the 20 MB
upload limit, and a 40-megapixel PNG (an illustration: flat bands of colour)."""

from __future__ import annotations

import hashlib
import io
import random
from functools import cache

from PIL import Image, ImageChops, ImageOps

from account_billing.avatars.policy import MAX_BYTES

WIDTH, HEIGHT = 8000, 5000  # 40 MP: the most pixels the validator decodes
SEED = 13


def _smooth(rng: random.Random, scale: int) -> Image.Image:
    """Random colours `scale` pixels apart, blended: shapes without edges, as in a photo."""
    width, height = WIDTH // scale, HEIGHT // scale
    small = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    return small.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)


@cache
def camera_jpeg() -> bytes:
    """A 40 MP photo as a camera saves it (baseline JPEG, quality 92), with sensor-like grain:
    19.6 MB, just under the upload limit."""
    rng = random.Random(SEED)
    base = _smooth(rng, 32)
    amplitude = 40
    grain = Image.frombytes("L", (WIDTH, HEIGHT), rng.randbytes(WIDTH * HEIGHT)).point(
        lambda value: value * amplitude // 255
    )
    picture = ImageChops.add(base, Image.merge("RGB", (grain, grain, grain)), 1, -amplitude // 2)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=92)
    return _within_upload_limit(out.getvalue())


@cache
def illustration_png() -> bytes:
    """A 40 MP PNG of flat colour bands (32 levels a channel), as a drawing program saves one
    quickly (zlib level 1): about 13 MB."""
    picture = ImageOps.posterize(_smooth(random.Random(SEED), 128), 5)
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=1)
    return _within_upload_limit(out.getvalue())


def _within_upload_limit(data: bytes) -> bytes:
    """An upload the presigned POST accepts (its content-length-range)."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"{len(data):,} bytes: over the {MAX_BYTES:,}-byte upload limit")
    return data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
