"""The avatar validator's worst-case work on the adversarial corpus (tests/support/corpus.py):
for each file, the time and the peak memory of the validator's inspection (structure, bounds,
decode, re-encode, under its time budget), each as a ratio to decoding a plain photo of the
same pixel count with Pillow, measured side by side in this run.

A file the validator refuses before decoding costs a small fraction of that decode; a valid
file costs the decode plus scaling and re-encoding. The plain photo has the file's format and
dimensions, capped at the validator's pixel limit (a file claiming more pixels is refused at
its header, and no photo that large is ever decoded). Peak memory is the process's resident
high-water mark (reset through /proc/self/clear_refs) above what it held before.
"""

from __future__ import annotations

import gc
import io
import statistics
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from account_billing.avatars import images
from account_billing.avatars.validation import INSPECTION_SECONDS, Accepted, size_verdict, within_time_budget
from bench import uploads
from tests.support import corpus

ROUNDS = 5
MEASURABLE = 0.5  # MiB: below this a resident-set difference is noise
LONG_ENOUGH = 0.3  # seconds: a run this long is timed once
# Files claiming more pixels than the limit are compared with a photo of the limit's size.
LARGEST = (8000, 5000)
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _kib(field: str) -> int:
    line = next(line for line in STATUS.read_text().splitlines() if line.startswith(field))
    return int(line.split()[1])


def _measure(run: Callable[[], object]) -> tuple[float, float | None]:
    """Seconds `run` takes (median of up to ROUNDS runs; one if it is long enough to time), and
    MiB the process's resident set grew to during the first (None where Linux cannot tell)."""
    try:
        CLEAR_REFS.write_text("5")  # resets VmHWM to the current resident set
        before: int | None = _kib("VmRSS:")
    except OSError:
        before = None
    times: list[float] = []
    peak: float | None = None
    for _ in range(ROUNDS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
        if len(times) == 1 and before is not None:
            peak = (_kib("VmHWM:") - before) / 1024
        if sum(times) > LONG_ENOUGH:
            break
    return statistics.median(times), peak


def _dimensions(data: bytes) -> tuple[str, int, int] | None:
    """The format and the dimensions a file claims in its header, as the validator reads them."""
    kind = images.signature_format(data)
    if kind == images.PNG and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return kind, width, height
    if kind == images.JPEG:
        frame = next((s for s in images.jpeg_segments(data) if s.marker in (0xC0, 0xC1, 0xC2)), None)
        if frame is not None:
            height, width = struct.unpack(">HH", data[frame.start + 1 : frame.start + 5])
            return kind, width, height
    return None


def _capped(width: int, height: int) -> tuple[int, int]:
    """The dimensions, or the largest the validator decodes if they claim more."""
    return (width, height) if width * height <= images.MAX_PIXELS else LARGEST


_photos: dict[tuple[str, int, int], bytes] = {}


def _png(picture: Image.Image) -> bytes:
    """An RGB PNG as a fast encoder writes it (no per-row filter search, zlib level 1)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = picture.width * 3
    raw = picture.tobytes()
    rows = b"".join(b"\x00" + raw[at : at + row] for at in range(0, len(raw), row))
    header = struct.pack(">IIBBBBB", picture.width, picture.height, 8, 2, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b"")


def plain_photo(kind: str, width: int, height: int) -> bytes:
    """A photo-like picture of that size (smooth shapes), as a camera saves it (baseline JPEG)
    or as a PNG."""
    if (kind, width, height) not in _photos:
        small = Image.effect_noise((max(1, width // 32), max(1, height // 32)), 64).convert("RGB")
        picture = small.resize((width, height), Image.Resampling.BILINEAR)
        if kind == images.PNG:
            _photos[(kind, width, height)] = _png(picture)
        else:
            buffer = io.BytesIO()
            picture.save(buffer, kind, quality=90)
            _photos[(kind, width, height)] = buffer.getvalue()
    return _photos[(kind, width, height)]


def pillow_decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


_references: dict[tuple[str, int, int], tuple[float, float | None]] = {}


def reference(kind: str, width: int, height: int) -> tuple[float, float | None]:
    """Seconds and peak MiB of Pillow decoding a plain photo of that format and size."""
    if (kind, width, height) not in _references:
        photo = plain_photo(kind, width, height)
        _references[(kind, width, height)] = _measure(lambda: pillow_decode(photo))
    return _references[(kind, width, height)]


def validator(data: bytes) -> str:
    """What the validator does with an upload's bytes; its verdict."""
    verdict = size_verdict(len(data)) or within_time_budget(images.inspect, data, INSPECTION_SECONDS)
    return "accepted" if isinstance(verdict, Accepted) else verdict.code


def corpus_files() -> dict[str, bytes]:
    files = {
        "valid: phone JPEG (60 × 40, EXIF)": corpus.photo_jpeg(),
        "valid: PNG with text chunks (60 × 40)": corpus.photo_png(),
        "valid: progressive JPEG (2400 × 1600, 10 scans)": corpus.progressive_photo(),
        "valid: progressive JPEG, 40 scans of 8000 × 5000 (the budget)": corpus.progressive_scan_bomb(40),
    }
    files.update({name: data for name, (data, _, _) in corpus.invalid_uploads().items()})
    return files


def _ratio(value: float | None, reference: float | None) -> str:
    if value is None or reference is None or reference <= 0:
        return "n/a"
    return f"{value / reference:.2f}x"


def main() -> None:
    started = time.perf_counter()
    gc.collect()
    print("Avatar validator on the corpus: its work as a ratio to Pillow decoding a plain photo of the same pixels")
    print(f"(time: median of up to {ROUNDS} runs; memory: peak resident growth; n/a: nothing to compare)")
    header = f"{'file':66} {'bytes':>10} {'verdict':>16} {'ms':>8} {'time':>8} {'MiB':>7} {'memory':>8}"
    print(header)
    print("-" * len(header))
    for name, data in corpus_files().items():
        verdict = validator(data)
        seconds, memory = _measure(lambda data=data: validator(data))  # type: ignore[misc]
        reference_seconds: float | None = None
        reference_memory: float | None = None
        claimed = _dimensions(data)
        if claimed is not None and verdict != "too-large":
            kind, width, height = claimed
            reference_seconds, reference_memory = reference(kind, *_capped(width, height))
            if reference_memory is not None and reference_memory < MEASURABLE:
                reference_memory = None
        memory_text = "n/a" if memory is None else f"{memory:.1f}"
        print(
            f"{name[:66]:66} {len(data):>10,} {verdict:>16} {seconds * 1000:>8.1f} "
            f"{_ratio(seconds, reference_seconds):>8} {memory_text:>7} {_ratio(memory, reference_memory):>8}"
        )
    print()
    largest_uploads()
    print(f"({time.perf_counter() - started:.1f} s)")


def largest_uploads() -> None:
    """The largest uploads the validator accepts, against Pillow decoding the same bytes alone:
    runs alternate (decode, validator, decode, ...), medians of CPU time (this process's, the
    validator's inspection thread included: a busy machine inflates it far less than wall time;
    budget: 1.5x)."""
    print("The largest uploads: the validator against Pillow's decode of the same file alone (budget 1.5x)")
    print(f"{'upload':36} {'bytes':>12} {'decode cpu ms':>14} {'validator cpu ms':>17} {'ratio':>7}")
    for name, data in (("camera JPEG, 40 MP", uploads.camera_jpeg()), ("PNG, 40 MP", uploads.illustration_png())):
        if validator(data) != "accepted":
            raise RuntimeError(f"{name}: the validator does not accept it")
        decodes, validations = [], []
        for _ in range(3):
            start = time.process_time()
            with Image.open(io.BytesIO(data)) as picture:
                picture.load()
            decodes.append(time.process_time() - start)
            start = time.process_time()
            validator(data)
            validations.append(time.process_time() - start)
        decode, validation = statistics.median(decodes), statistics.median(validations)
        print(
            f"{name:36} {len(data):>12,} {decode * 1000:>14.0f} {validation * 1000:>17.0f} {validation / decode:>6.2f}x"
        )


if __name__ == "__main__":
    main()
