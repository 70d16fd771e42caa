"""What a path named on the command line may be, checked before any work.

Inputs (``input_file``, ``input_dir``): a missing path, a folder where a file is expected (and
the reverse), and a state store named as a file to read (``validate st.db`` would report each of
its pages as a bad record) are refused as what they are; a command that reads its input twice (adjudicate)
also refuses a FIFO or device, with that reason.

Outputs (``guard_outputs``, the one output-path guard every command calls with its inputs and
outputs): an output that resolves (symlinks followed, hard links compared by inode) to an input,
to the state store or its -wal / -shm / -journal, or to another output of the same call is
refused, as is a folder or a missing or unwritable parent folder. The command then stops with
exit status 2 before it has read or changed anything. An existing character device
(``/dev/null``) is written in place and may be named by several outputs.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable

from .errors import OutputError, UsageError
from .io import _is_store, in_place, output_target

STORE_SUFFIXES = ("", "-wal", "-shm", "-journal")
REGISTRY_FILES = ("practitioners.csv", "patients.csv")

Named = Iterable[tuple[str, "str | os.PathLike | None"]]


def _what(label: str | None, path) -> str:
    return f"{label} {path}" if label else f"{path}"


def input_file(path, label: str | None = None, *, twice: str | None = None) -> Path:
    """An input file that exists and is not a folder. ``twice``: the command reads it twice
    (the reason, said when a FIFO or device is refused)."""
    p = Path(path)
    who = _what(label, path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise UsageError(f"{who}: no such file") from None
    except NotADirectoryError:
        raise UsageError(f"{who}: no such file (a part of the path is not a folder)") from None
    except OSError as e:
        raise UsageError(f"{who}: cannot read: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{who}: is a directory, not a file")
    if twice and not stat.S_ISREG(st.st_mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
        raise UsageError(f"{who}: is {kind}: {twice}; give a regular file")
    if not os.access(p, os.R_OK):
        raise UsageError(f"{who}: cannot read: permission denied")
    if stat.S_ISREG(st.st_mode) and _is_store(str(p)):      # read 72 bytes of a regular file only
        raise UsageError(f"{who}: is a teleproc state store, not a file this reads (a store is given as --state)")
    return p


def input_dir(path, label: str | None = None) -> Path:
    """An input folder that exists (``--registry DIR``)."""
    p = Path(path)
    who = _what(label, path)
    if not p.exists():
        raise UsageError(f"{who}: no such directory")
    if not p.is_dir():
        raise UsageError(f"{who}: is a file, not a directory")
    return p


def registry_inputs(directory) -> list[tuple[str, Path]]:
    """The files of a ``--registry DIR`` as inputs for the guard."""
    if not directory:
        return []
    return [("--registry", Path(directory) / name) for name in REGISTRY_FILES]


def _identity(path) -> tuple[str, tuple[int, int] | None, os.stat_result | None]:
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return real, None, None
    return real, (st.st_dev, st.st_ino), st


def _same(a, b) -> bool:
    return a[0] == b[0] or (a[1] is not None and a[1] == b[1])


def guard_outputs(outputs: Named, *, inputs: Named = (), stores: Named = (), folders: Named = ()) -> None:
    """Refuse (OutputError, exit 2) before any work an output that would overwrite an input, the
    store (or its -wal / -shm / -journal) or another output, or that cannot be written where it
    is (a folder; a missing or unwritable folder). ``None`` and ``-`` (standard streams) are
    skipped. ``folders``: outputs that are folders (``export --out DIR``): refused only when
    they are an input or the store. Arguments are (label, path) pairs, the label as the user knows the path
    (``--out``, ``--state``, ``SUBMISSION``)."""
    protected = []
    for label, path in stores:
        if path in (None, "-", ":memory:"):
            continue
        for suffix in STORE_SUFFIXES:
            for base in (os.fspath(path), os.path.realpath(path)):
                protected.append((f"the state store ({_what(label, path)})"
                                  + (f", its {suffix[1:]} file" if suffix else ""),
                                  _identity(base + suffix)))
    for label, path in inputs:
        if path in (None, "-"):
            continue
        what = f"an input ({label} {path})" if str(label).startswith("-") else f"{label} ({path})"
        protected.append((what, _identity(path)))
    for label, path in folders:
        if path in (None, "-"):
            continue
        ident = _identity(path)
        for what, other in protected:
            if _same(ident, other):
                raise OutputError(f"{_what(label, path)}: is {what}; refused, nothing was read or written")
    seen = []
    for label, path in outputs:
        if path in (None, "-"):
            continue
        who = _what(label, path)
        ident = _identity(path)
        direct = in_place(path)
        if direct is not None and stat.S_ISCHR(direct.st_mode):
            continue          # /dev/null and the like: written in place, nothing is replaced
        for what, other in protected:
            if _same(ident, other):
                raise OutputError(f"{who}: is {what}; refused, nothing was read or written")
        for what, other in seen:
            if _same(ident, other):
                raise OutputError(f"{who}: is the same file as {what}; refused, nothing was "
                                  "read or written")
        if direct is not None:           # a FIFO or descriptor: written in place
            seen.append((f"another output ({who})", ident))
            continue
        real, st = output_target(path)   # a folder, or no folder to write in
        if st is None or stat.S_ISREG(st.st_mode):
            folder = os.path.dirname(real) or "."
            if not os.access(folder, os.W_OK | os.X_OK):
                raise OutputError(f"{who}: cannot write in {folder}: permission denied "
                                  "(or a read-only file system)")
        seen.append((f"another output ({who})", ident))
