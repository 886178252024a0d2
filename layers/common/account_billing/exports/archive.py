"""A ZIP archive written as a stream of parts, resumable at any part boundary (pure, no I/O).

Entries are deflated and followed by a data descriptor (their sizes and CRC are known only once
written), so nothing already written is revisited. Bytes gather in a buffer; once it holds
`part_size`, the open entry's compressor is fully flushed (the deflate stream is byte-aligned
there and holds no reference back) and the buffer is handed out as one part. Everything needed to
go on from that point (the entries written, the open entry's CRC and sizes, the offset) is the
`ArchiveState`: a writer made from it continues the same archive, byte for byte, with a new
compressor. The central directory follows the last entry.

Limits: no ZIP64 (at most 65,535 entries and 4 GiB), which `ArchiveTooLarge` reports.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

LOCAL_HEADER = 0x04034B50
DATA_DESCRIPTOR = 0x08074B50
CENTRAL_HEADER = 0x02014B50
END_OF_CENTRAL_DIRECTORY = 0x06054B50
VERSION = 20  # 2.0: deflate, data descriptors
FLAGS = 0x0808  # bit 3: sizes in the data descriptor; bit 11: UTF-8 names
DEFLATED = 8
MAX_ENTRIES = 0xFFFF
MAX_OFFSET = 0xFFFFFFFF
LEVEL = 6


class ArchiveTooLarge(Exception):
    """The archive would need ZIP64 (more than 65,535 entries or 4 GiB)."""


@dataclass(slots=True)
class Entry:
    """An entry as the central directory lists it (and, while open, as written so far)."""

    name: str
    offset: int
    crc: int = 0
    compressed: int = 0
    size: int = 0

    def to_list(self) -> list[Any]:
        return [self.name, self.offset, self.crc, self.compressed, self.size]

    @classmethod
    def from_list(cls, data: list[Any]) -> Entry:
        name, offset, crc, compressed, size = data
        return cls(str(name), int(offset), int(crc), int(compressed), int(size))


@dataclass(slots=True)
class ArchiveState:
    """What a writer needs to go on from a part boundary: stored with the checkpoint."""

    offset: int = 0  # bytes handed out in parts so far (where the buffer starts)
    entries: list[Entry] = field(default_factory=list)
    open: Entry | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "offset": self.offset,
            "entries": [e.to_list() for e in self.entries],
            "open": self.open.to_list() if self.open else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArchiveState:
        return cls(
            offset=int(data["offset"]),
            entries=[Entry.from_list(e) for e in data["entries"]],
            open=Entry.from_list(data["open"]) if data.get("open") else None,
        )


def dos_time(moment: datetime) -> tuple[int, int]:
    """(time, date) in MS-DOS format, as ZIP headers carry them."""
    year = max(moment.year, 1980)
    return (
        (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2),
        ((year - 1980) << 9) | (moment.month << 5) | moment.day,
    )


# `emit(part, state)`: `part` is the next part of the archive; `state` what follows it.
type Emit = Callable[[bytes, ArchiveState], None]


class ArchiveWriter:
    def __init__(self, emit: Emit, part_size: int, modified: datetime, state: ArchiveState | None = None) -> None:
        self.emit = emit
        self.part_size = part_size
        self.time, self.date = dos_time(modified)
        self.state = state or ArchiveState()
        self.buffer = bytearray()
        self.peak = 0  # the most bytes buffered at once
        self.compressor = self._compressor() if self.state.open else None

    @staticmethod
    def _compressor() -> Any:
        return zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)

    @property
    def _position(self) -> int:
        return self.state.offset + len(self.buffer)

    def _write(self, data: bytes) -> None:
        self.buffer += data
        self.peak = max(self.peak, len(self.buffer))

    # ------------------------------------------------------------------ entries
    def open(self, name: str) -> None:
        if self.state.open is not None:
            raise RuntimeError(f"{self.state.open.name} is still open")
        if len(self.state.entries) >= MAX_ENTRIES or self._position > MAX_OFFSET:
            raise ArchiveTooLarge(f"{len(self.state.entries)} entries, {self._position} bytes")
        encoded = name.encode()
        self.state.open = Entry(name, self._position)
        self._write(
            struct.pack(
                "<IHHHHHIIIHH", LOCAL_HEADER, VERSION, FLAGS, DEFLATED, self.time, self.date, 0, 0, 0, len(encoded), 0
            )
            + encoded
        )
        self.compressor = self._compressor()

    def write(self, data: bytes) -> None:
        entry = self.state.open
        if entry is None or self.compressor is None:
            raise RuntimeError("no entry is open")
        entry.crc = zlib.crc32(data, entry.crc)
        entry.size += len(data)
        self._deflated(self.compressor.compress(data))

    def _deflated(self, data: bytes) -> None:
        if self.state.open is None:
            raise RuntimeError("no entry is open")
        self.state.open.compressed += len(data)
        self._write(data)

    def close(self) -> None:
        entry = self.state.open
        if entry is None or self.compressor is None:
            raise RuntimeError("no entry is open")
        self._deflated(self.compressor.flush(zlib.Z_FINISH))
        if entry.size > MAX_OFFSET or entry.compressed > MAX_OFFSET:
            raise ArchiveTooLarge(f"{entry.name}: {entry.size} bytes")
        self._write(struct.pack("<IIII", DATA_DESCRIPTOR, entry.crc, entry.compressed, entry.size))
        self.state.entries.append(entry)
        self.state.open = None
        self.compressor = None

    def add(self, name: str, data: bytes) -> None:
        self.open(name)
        self.write(data)
        self.close()

    # ------------------------------------------------------------------ parts
    def boundary(self) -> bool:
        """Hand out a part if the buffer holds `part_size`; True if one went out (the state is
        then a resumable checkpoint)."""
        if len(self.buffer) < self.part_size:
            return False
        if self.compressor is not None:
            self._deflated(self.compressor.flush(zlib.Z_FULL_FLUSH))
            self.compressor = self._compressor()
        self._emit()
        return True

    def _emit(self) -> None:
        part = bytes(self.buffer)
        self.buffer.clear()
        self.state.offset += len(part)
        self.emit(part, self.state)

    def finish(self) -> None:
        """The central directory and its end record, and the last part."""
        if self.state.open is not None:
            raise RuntimeError(f"{self.state.open.name} is still open")
        start = self._position
        for entry in self.state.entries:
            encoded = entry.name.encode()
            self._write(
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    CENTRAL_HEADER,
                    VERSION,
                    VERSION,
                    FLAGS,
                    DEFLATED,
                    self.time,
                    self.date,
                    entry.crc,
                    entry.compressed,
                    entry.size,
                    len(encoded),
                    0,
                    0,
                    0,
                    0,
                    0o100644 << 16,  # a regular file, rw-r--r--
                    entry.offset,
                )
                + encoded
            )
        size = self._position - start
        if start > MAX_OFFSET:
            raise ArchiveTooLarge(f"{start} bytes")
        count = len(self.state.entries)
        self._write(struct.pack("<IHHHHIIH", END_OF_CENTRAL_DIRECTORY, 0, 0, count, count, size, start, 0))
        self._emit()
