"""Streaming line input and atomic output.

Reading keeps memory flat whatever the file size: one line at a time, with its number and its
own line ending (CR LF, LF, a lone CR, or none on the last line; spec 10.2). Bytes are read
as Latin-1 so a non-ASCII byte never stops the stream: the codec reports it with its column.

Writing (``AtomicWriter``, the one writer every output goes through): a temporary file in the
target's folder, created 0600 whatever the umask, written, flushed, fsynced, then renamed onto
the target (and the folder fsynced). A failure at any step removes the temporary file and leaves
the old target as it was. A temporary file's name carries the writing process's id and start
time (``.NAME.teleproc-PID-START-RANDOM.tmp``): every later write into the same folder removes
those whose process is gone (killed), so none outlives the next start. An existing non-regular
target (``/dev/null``, a FIFO) is written directly; a symlink is followed and the file renamed
onto its resolved target. Spools (``spool_file``) are unlinked as soon as they are opened.
"""
from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import OutputError, UsageError


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



# --- writing ------------------------------------------------------------------------------------
_TMP = re.compile(r"\..*\.teleproc-(\d+)-(\d+)-[0-9a-f]+\.tmp")


def _start_ticks(pid: int) -> int | None:
    """A process's start time (clock ticks since boot, /proc/PID/stat field 22): with the pid it
    names one process, so a recycled pid is not taken for the writer of an old temporary file.
    None when the process does not exist (or /proc is not there)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat_line = fh.read()
    except OSError:
        return None
    try:   # the command name (field 2) may hold spaces and parentheses: split after its last ')'
        return int(stat_line[stat_line.rindex(b")") + 2:].split()[19])
    except (ValueError, IndexError):
        return None


def _alive(pid: int, start: int) -> bool:
    if os.path.isdir("/proc/self"):
        return _start_ticks(pid) == start
    try:                              # no /proc: the pid alone
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


_OWN = f"{os.getpid()}-{_start_ticks(os.getpid()) or 0}"


def _own_tag() -> str:
    global _OWN
    pid = os.getpid()
    if not _OWN.startswith(f"{pid}-"):       # after a fork
        _OWN = f"{pid}-{_start_ticks(pid) or 0}"
    return _OWN


def temp_name(target_name: str) -> str:
    """A temporary file's name for ``target_name``: hidden, with this process's id and start time."""
    return f".{target_name[:150]}.teleproc-{_own_tag()}-{secrets.token_hex(4)}.tmp"


def remove_stale_temps(directory: str | Path) -> list[str]:
    """Remove the temporary files teleproc processes that are gone (killed) left in ``directory``;
    returns their names. Files of live processes, and every other file, are left alone."""
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for e in entries:
        m = _TMP.fullmatch(e.name)
        if m is None or _alive(int(m[1]), int(m[2])):
            continue
        try:
            if e.is_file(follow_symlinks=False):
                os.unlink(e.path)
                removed.append(e.name)
        except OSError:
            pass
    return removed


def private_dir(path: str | Path) -> Path:
    """Create a folder, and each missing parent, 0700 whatever the umask; existing ones are kept."""
    p = Path(path)
    if p.is_dir():
        return p
    if p.exists() or p.is_symlink():
        raise OutputError(f"{path}: exists and is not a directory")
    if p.parent != p:
        private_dir(p.parent)
    try:
        p.mkdir(mode=0o700)
        os.chmod(p, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        raise OutputError(f"{path}: cannot create the folder: {e.strerror}") from None
    return p


def spool_file(directory: str | Path, mode: str = "w+b"):
    """An anonymous scratch file in ``directory`` (never the system temp folder): unlinked as
    soon as it is opened (O_TMPFILE where the system has it), so a killed run leaves nothing;
    0600 whatever the umask."""
    try:
        return tempfile.TemporaryFile(mode=mode, dir=directory, prefix=".teleproc-spool-",
                                      **({} if "b" in mode else {"encoding": "ascii", "newline": ""}))
    except OSError as e:
        raise OutputError(f"{directory}: cannot create a spool file: {e.strerror}") from None


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:          # some file systems cannot fsync a folder: the rename stands
        pass
    finally:
        os.close(fd)


def _is_store(path: str) -> bool:
    """The file starts with an SQLite header marked with teleproc's application id."""
    from .store import APPLICATION_ID
    try:
        with open(path, "rb") as fh:
            head = fh.read(72)
    except OSError:
        return False
    return head[:16] == b"SQLite format 3\x00" and int.from_bytes(head[68:72], "big") == APPLICATION_ID


_FD_LINKS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/")


def in_place(path: str | Path) -> os.stat_result | None:
    """The stat of an output that is written in place, not replaced: an existing device, FIFO
    or socket (``/dev/null``), or an open descriptor's name (``/dev/stdout``, ``/dev/fd/N``,
    ``/proc/...``) whatever it points at. None for an ordinary (or missing) file."""
    p = os.fspath(path)
    try:
        st = os.stat(p)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode) or p.startswith(_FD_LINKS):
        return st
    return None


def output_target(path: str | Path) -> tuple[str, os.stat_result | None]:
    """(the path a write to ``path`` lands on, symlinks followed; its stat or None when it does
    not exist). A folder, or a missing parent folder, is an OutputError."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OutputError(f"{path}: cannot write: {e.strerror}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: is a directory; give a file name")
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_size >= 100 and _is_store(real):
        raise OutputError(f"{path}: is a teleproc state store; refused (an output never replaces a store)")
    for suffix in ("-wal", "-shm", "-journal"):
        if real.endswith(suffix) and _is_store(real[:-len(suffix)]):
            raise OutputError(f"{path}: is the {suffix[1:]} file of the teleproc state store "
                              f"{real[:-len(suffix)]}; refused")
    parent = os.path.dirname(real) or "."
    if st is None and not os.path.isdir(parent):
        raise OutputError(f"{path}: cannot write: no directory {os.path.dirname(str(path)) or parent}")
    return real, st


class AtomicWriter:
    """``with AtomicWriter(path) as w: w.write_line(text)``: all of it, or nothing.

    ``defer=True`` leaves the finished, fsynced temporary file unrenamed when the block ends:
    ``publish()`` renames it into place, ``discard()`` removes it (the adjudicate job commits
    the store in between). Errors are ``OutputError`` naming the path (exit status 2).
    ``tap``: called with every piece of bytes written, in order (the adjudicate job keeps the
    return file in the store as it is written)."""

    def __init__(self, path: str | Path, eol: str = "\r\n", encoding: str = "ascii", *,
                 defer: bool = False, tap=None):
        self.path = Path(path)
        self.eol = eol
        self.encoding = encoding
        self.defer = defer
        self.tap = tap
        self.lines = 0
        self._buf: list[str] = []
        self._fh = None
        self._tmp: str | None = None
        self.target: str | None = None
        self.direct = False          # an existing device or FIFO: written in place

    def _fail(self, e: OSError, step: str = "cannot write"):
        self._cleanup()
        return OutputError(f"{self.path}: {step}: {e.strerror or e}")

    def __enter__(self):
        if in_place(self.path) is not None:     # a device, FIFO or descriptor: written directly
            self.direct = True
            self.target = os.fspath(self.path)
            try:
                self._fh = open(self.target, "ab")
            except OSError as e:
                raise OutputError(f"{self.path}: cannot write: {e.strerror}") from None
            return self
        self.target, st = output_target(self.path)
        directory = os.path.dirname(self.target) or "."
        remove_stale_temps(directory)
        tmp = os.path.join(directory, temp_name(os.path.basename(self.target)))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as e:
            raise OutputError(f"{self.path}: cannot write in {directory}: {e.strerror}") from None
        self._tmp = tmp
        try:
            os.fchmod(fd, 0o600)
            self._fh = os.fdopen(fd, "wb")
        except OSError as e:
            os.close(fd)
            raise self._fail(e) from None
        return self

    def write_line(self, text: str) -> None:
        self._buf.append(text)
        self.lines += 1
        if len(self._buf) >= 4096:
            self.flush()

    def write_text(self, text: str) -> None:
        self.flush()
        self._write(text.encode(self.encoding))

    def write_bytes(self, data: bytes) -> None:
        self.flush()
        self._write(data)

    def _write(self, data: bytes) -> None:
        if self.tap is not None:
            self.tap(data)
        try:
            self._fh.write(data)
        except OSError as e:
            raise self._fail(e) from None

    def flush(self) -> None:
        """Hand the buffered lines to the file (not yet to the disk: that is the fsync on exit)."""
        if self._buf:
            eol = self.eol
            data = (eol.join(self._buf) + eol).encode(self.encoding)
            self._buf.clear()
            self._write(data)

    def _cleanup(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            try:
                fh.close()
            except OSError:
                pass
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass

    def _finish(self) -> None:
        """Everything written and on the disk: flush, fsync, close (the temporary file stays)."""
        self.flush()
        fh = self._fh
        try:
            fh.flush()
            if not self.direct:
                os.fsync(fh.fileno())
            self._fh = None
            fh.close()
        except OSError as e:
            self._fh = fh
            raise self._fail(e) from None

    def publish(self) -> None:
        """Rename the finished temporary file onto the target (and fsync the folder)."""
        tmp = self._tmp
        if tmp is None:
            return
        try:
            os.replace(tmp, self.target)
        except OSError as e:
            raise self._fail(e, "cannot rename the finished file into place") from None
        self._tmp = None
        _fsync_dir(os.path.dirname(self.target) or ".")

    def discard(self) -> None:
        """Remove the temporary file (the target keeps what it had)."""
        self._cleanup()

    @property
    def file(self):
        """The binary file being written, for a library that writes to a file object (Parquet):
        the lines buffered so far go first."""
        self.flush()
        return self._fh

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._cleanup()
            if issubclass(exc_type, OSError) and not isinstance(exc, OutputError):
                raise OutputError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
            return False
        try:
            self._finish()
            if not self.defer:
                self.publish()
        except BaseException:
            self._cleanup()
            raise
        return False

    def __del__(self):   # a deferred file never published nor discarded
        if getattr(self, "_tmp", None) is not None and getattr(self, "_fh", 1) is None:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in 1 MB blocks: run, manifest and bundle digests."""
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
