"""Lines of an uploaded text file, decoded one at a time, so bad UTF-8 is reported where it is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO


class NotUtf8Error(ValueError):
    """A line of the file is not UTF-8 text."""

    def __init__(self, line: int, byte: int) -> None:
        self.line = line
        self.reason = f"not UTF-8 text at byte {byte} (save the file as UTF-8)"
        super().__init__(f"line {line}: {self.reason}")


def utf8_lines(source: BinaryIO) -> Iterator[str]:
    """The file's lines with their line endings (a byte-order mark on the first is dropped).

    A whole-file text decoder decodes ahead in blocks and reports bad bytes where it is reading,
    not where they are; decoding line by line names the line and the byte."""
    for number, raw in enumerate(source, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise NotUtf8Error(number, exc.start + 1) from exc
