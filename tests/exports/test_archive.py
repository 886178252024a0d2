"""The streamed ZIP (no AWS): what it writes is a ZIP any reader opens, and a writer made from the
state at any part boundary goes on to write the same bytes."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from account_billing.exports import archive as archive_module
from account_billing.exports.archive import ArchiveState, ArchiveTooLarge, ArchiveWriter

MODIFIED = datetime(2026, 12, 1, 10, 30, 4, tzinfo=UTC)


def content(rnd: random.Random, n: int) -> bytes:
    """Half random, half repetitive: compressible in places, like JSON beside PDFs."""
    return rnd.randbytes(n // 2) + b'{"kind": "profile.updated"}' * (n // 54)


def write(writer: ArchiveWriter, *, resume_at: int | None = None) -> None:
    """The same sequence of writes every time; `resume_at`: skip the steps before that one."""
    rnd = random.Random(7)
    steps: list[Callable[[], None]] = [
        partial(writer.add, "profile.json", b'{"user_id": "ada"}'),
        partial(writer.open, "activity.json"),
    ]
    steps += [partial(writer.write, content(rnd, 3000)) for _ in range(60)]
    steps.append(writer.close)
    steps += [partial(writer.add, f"statements/{n:03d}.pdf", content(rnd, 1500)) for n in range(40)]
    for index, step in enumerate(steps):
        if resume_at is None or index >= resume_at:
            step()
            writer.boundary()
    writer.finish()


class Parts:
    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.states: list[dict[str, Any]] = []

    def __call__(self, part: bytes, state: ArchiveState) -> None:
        self.parts.append(part)
        self.states.append(state.to_json())


def test_the_archive_opens_with_every_entry_intact() -> None:
    parts = Parts()
    write(ArchiveWriter(parts, part_size=4096, modified=MODIFIED))

    zipped = zipfile.ZipFile(io.BytesIO(b"".join(parts.parts)))

    assert zipped.testzip() is None
    assert zipped.read("profile.json") == b'{"user_id": "ada"}'
    assert len(zipped.namelist()) == 42
    assert zipped.getinfo("activity.json").file_size == 60 * len(content(random.Random(0), 3000))
    assert zipped.getinfo("profile.json").date_time == (2026, 12, 1, 10, 30, 4)
    assert len(parts.parts) > 10


def test_the_buffer_holds_at_most_a_part_a_step_and_what_zlib_hands_out_at_once() -> None:
    parts = Parts()
    writer = ArchiveWriter(parts, part_size=4096, modified=MODIFIED)
    write(writer)

    assert all(len(part) >= 4096 for part in parts.parts[:-1])
    assert writer.peak < 4096 + 3100 + 64 * 1024  # zlib releases its output in blocks of up to 64 KB


@pytest.mark.parametrize("boundary", [0, 3, 7, -1])
def test_a_writer_resumed_at_a_part_boundary_writes_the_same_archive(boundary: int) -> None:
    whole = Parts()
    write(ArchiveWriter(whole, part_size=4096, modified=MODIFIED))
    # which step each part boundary came after, found by replaying with a step counter
    steps_done: list[int] = []
    counting = Parts()
    writer = ArchiveWriter(counting, part_size=4096, modified=MODIFIED)
    original = writer.boundary
    calls = 0

    def counted_boundary() -> bool:
        nonlocal calls
        calls += 1
        emitted = original()
        if emitted:
            steps_done.append(calls)
        return emitted

    writer.boundary = counted_boundary  # type: ignore[method-assign]
    write(writer)
    at = boundary if boundary >= 0 else len(steps_done) - 1

    resumed = Parts()
    state = ArchiveState.from_json(whole.states[at])
    write(ArchiveWriter(resumed, part_size=4096, modified=MODIFIED, state=state), resume_at=steps_done[at])

    assert b"".join(whole.parts[: at + 1] + resumed.parts) == b"".join(whole.parts)


def test_an_archive_past_zip_limits_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_module, "MAX_ENTRIES", 3)
    writer = ArchiveWriter(Parts(), part_size=4096, modified=MODIFIED)
    for n in range(3):
        writer.add(f"{n}.txt", b"x")

    with pytest.raises(ArchiveTooLarge):
        writer.add("3.txt", b"x")


def test_writes_out_of_order_are_refused() -> None:
    writer = ArchiveWriter(Parts(), part_size=4096, modified=MODIFIED)
    with pytest.raises(RuntimeError):
        writer.write(b"no entry is open")
    writer.open("a.txt")
    with pytest.raises(RuntimeError):
        writer.open("b.txt")
    with pytest.raises(RuntimeError):
        writer.finish()
