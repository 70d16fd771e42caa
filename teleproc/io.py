"""Streaming line input and atomic output.

Reading keeps memory flat whatever the file size: one line at a time, with its number and its
own line ending (CR LF, LF, a lone CR, or none on the last line; spec 10.2). Bytes are read
as Latin-1 so a non-ASCII byte never stops the stream: the codec reports it with its column.

Writing goes to a temporary file beside the target and is renamed into place only when the
whole output is written: a failure leaves no partial file behind.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import UsageError


def open_text(path: str | Path):
    """The file for line-by-line reading: Latin-1 (every byte reads), line endings kept."""
    try:
        return open(path, "r", encoding="latin-1", newline="")
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None


def split_ending(raw: str) -> tuple[str, str]:
    """'...\r\n' -> ('...', '\r\n'); also LF, a lone CR, or no ending on the last line."""
    if raw[-2:] == "\r\n":
        return raw[:-2], "\r\n"
    if raw[-1:] == "\n":
        return raw[:-1], "\n"
    if raw[-1:] == "\r":
        return raw[:-1], "\r"
    return raw, ""


def read_lines(path: str | Path) -> Iterator[tuple[int, str, str]]:
    """(line number, text without ending, ending) for each line of the file."""
    with open_text(path) as fh:
        for no, raw in enumerate(fh, 1):
            if raw[-2:] == "\r\n":                  # the common case first: one test
                yield no, raw[:-2], "\r\n"
            else:
                text, ending = split_ending(raw)
                yield no, text, ending


class AtomicWriter:
    """``with AtomicWriter(path) as w: w.write_line(text)``: all of it, or nothing."""

    def __init__(self, path: str | Path, eol: str = "\r\n", encoding: str = "ascii"):
        self.path = Path(path)
        self.eol = eol
        self.encoding = encoding
        self.lines = 0
        self._buf: list[str] = []

    def __enter__(self):
        directory = self.path.parent if str(self.path.parent) else Path(".")
        if not directory.is_dir():
            raise UsageError(f"cannot write {self.path}: no directory {directory}")
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        self._fh = os.fdopen(fd, "w", encoding=self.encoding, newline="")
        return self

    def write_line(self, text: str) -> None:
        self._buf.append(text)
        self.lines += 1
        if len(self._buf) >= 4096:
            self.flush()

    def write_text(self, text: str) -> None:
        self.flush()
        self._fh.write(text)

    def flush(self) -> None:
        if self._buf:
            eol = self.eol
            self._fh.write(eol.join(self._buf) + eol)
            self._buf.clear()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.flush()
                self._fh.flush()
                os.fsync(self._fh.fileno())
            self._fh.close()
        finally:
            if exc_type is None:
                os.replace(self._tmp, self.path)
            else:
                try:
                    os.unlink(self._tmp)
                except FileNotFoundError:
                    pass
        return False
