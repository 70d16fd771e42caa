"""Where a file's content comes from: a path, ``-`` (standard input, on the command line only),
bytes, or an open stream. One home for "a source", used by the Python API and the command.

Every source becomes a Latin-1 text stream with ``newline=''`` (every byte reads, line endings
kept: the reader judges them), the same way ``io.open_text`` opens a path.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO, BinaryIO, Iterator, TextIO, Union, cast

from .errors import UsageError

#: A path (``str`` or ``os.PathLike``), content (``bytes``), a binary stream, or a text stream
#: opened with ``newline=''``.
Source = Union[str, "os.PathLike[str]", bytes, bytearray, BinaryIO, TextIO, IO[bytes], IO[str]]

STDIN = "-"


def is_path(source: object) -> bool:
    return isinstance(source, (str, os.PathLike))


def _path_text(source: object) -> str | None:
    """The path a source names, or None when it is content or a stream."""
    if isinstance(source, str):
        return source
    if isinstance(source, os.PathLike):
        return str(os.fspath(source))
    return None


def label_of(source: object) -> str:
    """The name a finding carries: the base name of a path, ``-`` for stdin, ``<bytes>``..."""
    s = _path_text(source)
    if s is not None:
        return "-" if s == STDIN else Path(s).name
    if isinstance(source, (bytes, bytearray)):
        return "<bytes>"
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) and name else "<stream>"


def check_input(path: str | os.PathLike[str]) -> Path:
    """A path the command may read: a regular file, a FIFO or a character device (not a folder):
    ``paths.input_file``, the one check of an input path (and its wording)."""
    from .paths import input_file
    return input_file(path)


@contextlib.contextmanager
def open_source(source: object, *, stdin_dash: bool = False) -> Iterator[TextIO]:
    """The source as a Latin-1 text stream with ``newline=''``. A path is opened and closed here;
    a caller's stream is left open. ``stdin_dash``: the path ``-`` is standard input."""
    path = _path_text(source)
    if path is not None:
        if stdin_dash and path == STDIN:
            with _stdin_text() as fh:
                yield fh
            return
        from .io import open_text
        with open_text(check_input(path)) as fh:
            yield fh
        return
    if isinstance(source, (bytes, bytearray)):
        yield io.StringIO(bytes(source).decode("latin-1"), newline="")
        return
    if isinstance(source, io.TextIOBase) or (hasattr(source, "read") and hasattr(source, "encoding")
                                              and not hasattr(source, "readinto")):
        yield source  # type: ignore[misc]
        return
    if hasattr(source, "read"):
        w = io.TextIOWrapper(cast(BinaryIO, source), encoding="latin-1", newline="")
        try:
            yield w
        finally:
            w.detach()            # leave the caller's stream open
        return
    raise TypeError(f"not a source: {type(source).__name__} (a path, bytes, or a binary or text stream)")


@contextlib.contextmanager
def _stdin_text() -> Iterator[TextIO]:
    buf = getattr(sys.stdin, "buffer", None)
    if buf is None:                           # a test's StringIO
        yield sys.stdin
        return
    w = io.TextIOWrapper(buf, encoding="latin-1", newline="")
    try:
        yield w
    finally:
        w.detach()


@contextlib.contextmanager
def as_path(source: object, *, stdin_dash: bool = False, name: str = "submission.txt") -> Iterator[Path]:
    """A real file for a source that must be read more than once (adjudicate reads a submission
    twice): a path as it is; content or a stream copied to a private temporary folder first."""
    path = _path_text(source)
    if path is not None and not (stdin_dash and path == STDIN):
        yield check_input(path)
        return
    with tempfile.TemporaryDirectory(prefix="teleproc-") as d:
        target = Path(d) / (label_of(source) if label_of(source) not in ("-", "<bytes>", "<stream>") else name)
        with open_source(source, stdin_dash=stdin_dash) as fh, \
                open(target, "w", encoding="latin-1", newline="") as out:
            shutil.copyfileobj(fh, out)
        yield target
