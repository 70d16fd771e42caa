"""The data files (``formats/``): where they are, which override applies, which were read.

The one place that locates teleproc's data. Every reader of a layout, table, settings or policy
file asks here (``read_bytes``/``read_text``), never builds a path of its own.

- **Packaged**: the wheel carries the repository's top-level ``formats/`` as the package data
  folder ``teleproc/formats`` (hatchling ``force-include``), found with ``importlib.resources``.
  An editable install (a checkout) has no such folder: the checkout's ``formats/`` is used. A
  missing folder, or one without its layouts, is a :class:`DataError` that says so.
- **Override** (``teleproc --formats DIR``, ``TELEPROC_FORMATS=DIR``, ``set_override(DIR)``): a
  file in DIR replaces the packaged file with the same relative path (``tables/fee_schedule.csv``,
  ``settings.toml``, ``policy.toml``). Record layouts (``C02.toml`` ...) and the code tables the
  layouts name (their codes are compiled into the record patterns) are never replaced: a
  different copy of one in DIR is refused, an identical copy is ignored. A ``.csv``/``.toml``
  file in DIR that replaces nothing (a typo) is refused too; other files are ignored.
- **Record of use**: every file read is listed by :func:`loaded` with its path and SHA-256, so a
  run can say exactly which data decided it (:func:`digest`).

Readers cache what they parse with :func:`cached`; changing the override empties those caches.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple, TypeVar

from .errors import TeleprocError

ENV = "TELEPROC_FORMATS"
PACKAGE_FOLDER = "formats"
_MARKER = "C02.toml"            # a data folder without its layouts is no data folder

F = TypeVar("F", bound=Callable[..., Any])


class DataError(TeleprocError):
    """teleproc's data folder is missing or incomplete, or an override is refused (exit 2)."""


class Loaded(NamedTuple):
    name: str                   # relative path, '/'-separated: 'tables/fee_schedule.csv'
    path: str                   # the file actually read
    sha256: str
    overridden: bool            # True: from the override folder


_lock = threading.RLock()
_override: Path | None = None   # explicit (set_override); None: the environment decides
_explicit = False
_env_seen: str | None = None
_loaded: dict[str, Loaded] = {}
_fixed: set[str] = set()        # names read as never overridden (layouts): kept across resets
_caches: list[Any] = []


# --- where the packaged data is ----------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def packaged_dir() -> Path:
    """The packaged data folder: ``teleproc/formats`` in a wheel, the checkout's ``formats/`` in an
    editable install. :class:`DataError` when neither holds the layouts."""
    tried = []
    pkg = resources.files("teleproc") / PACKAGE_FOLDER
    if isinstance(pkg, Path):
        if (pkg / _MARKER).is_file():
            return pkg
        tried.append(str(pkg))
    elif pkg.is_dir():          # a zipped install: files are not plain paths
        raise DataError("teleproc's data folder is inside a zip archive; install teleproc "
                        "unzipped (pip install teleproc)")
    checkout = Path(__file__).resolve().parent.parent / PACKAGE_FOLDER
    if (checkout / _MARKER).is_file():
        return checkout
    tried.append(str(checkout))
    raise DataError("teleproc's data folder (formats/: record layouts, tables, settings, policy) is "
                    f"missing: looked in {' and '.join(tried)}; reinstall teleproc")


# --- the override ------------------------------------------------------------------------------
def _layout_names() -> frozenset[str]:
    """Relative names never overridden: the layouts, the code tables they name and the store's
    ledger line (ledger.toml: a change to it is a schema change)."""
    from .layout import load_layouts
    out = {"ledger.toml"}
    for lay in load_layouts().values():
        out.add(Path(lay.path).name)
        out.update(f"tables/{f.table}.csv" for f in lay.fields if f.table)
    return frozenset(out)


def _check_override(d: Path) -> Path:
    if not d.is_dir():
        raise DataError(f"--formats / {ENV}: {d}: no such folder")
    base = packaged_dir()
    fixed = _layout_names()
    for p in sorted(d.rglob("*")):
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(d).parts):
            continue
        rel = p.relative_to(d).as_posix()
        target = base / rel
        if not target.is_file():
            if p.suffix not in (".csv", ".toml"):
                continue            # notes, READMEs: not data
            raise DataError(f"{p}: replaces no packaged data file (a file in the --formats folder "
                            "replaces the file with the same relative path, e.g. tables/fee_schedule.csv, "
                            "settings.toml, policy.toml)")
        if (rel in fixed or (p.suffix == ".toml" and p.stem.isupper())) \
                and p.read_bytes() != target.read_bytes():
            raise DataError(f"{p}: record layouts, the code tables they name and the ledger line "
                            "(ledger.toml) cannot be overridden "
                            "(--formats replaces tables, settings.toml and policy.toml only)")
    return d.resolve()


def set_override(directory: str | os.PathLike[str] | None) -> None:
    """Use the files of ``directory`` in place of the packaged ones with the same relative path
    (``None``: back to the environment's ``TELEPROC_FORMATS``, read again now). A change empties
    every cache. The environment variable is read when data is first loaded and at each call of
    this function (the command calls it once per run), not on every lookup."""
    global _override, _explicit
    with _lock:
        new = _check_override(Path(directory)) if directory is not None else None
        if (new, directory is not None) != (_override, _explicit):
            _override, _explicit = new, directory is not None
            _reset()
        if directory is None:
            override_dir()


def override_dir() -> Path | None:
    """The folder in effect: the explicit one, else ``TELEPROC_FORMATS``, else None."""
    global _override, _env_seen
    if _explicit:
        return _override
    env = os.environ.get(ENV) or None
    with _lock:
        if env != _env_seen:
            new = _check_override(Path(env)) if env else None
            _env_seen = env
            if new != _override:
                _override = new
                _reset()
        return _override


def _reset() -> None:
    for name in set(_loaded) - _fixed:
        del _loaded[name]
    for c in _caches:
        c.cache_clear()


def cached(fn: F) -> F:
    """``functools.lru_cache`` whose cache empties when the override changes."""
    c = functools.lru_cache(maxsize=None)(fn)
    _caches.append(c)
    return c  # type: ignore[return-value]


# --- reading -----------------------------------------------------------------------------------
def locate(name: str, *, overridable: bool = True) -> tuple[Path, bool]:
    """(path, overridden) of data file ``name`` ('tables/fee_schedule.csv')."""
    if overridable:
        o = override_dir()
        if o is not None and (o / name).is_file():
            return o / name, True
    p = packaged_dir() / name
    if not p.is_file():
        raise DataError(f"teleproc data file {name} is missing from {packaged_dir()}; reinstall teleproc")
    return p, False


def read_bytes(name: str, *, overridable: bool = True) -> bytes:
    """The bytes of data file ``name``, recorded in :func:`loaded`."""
    path, over = locate(name, overridable=overridable)
    data = path.read_bytes()
    with _lock:
        _loaded[name] = Loaded(name, str(path), hashlib.sha256(data).hexdigest(), over)
        if not overridable:
            _fixed.add(name)
    return data


def read_text(name: str, *, overridable: bool = True) -> str:
    try:
        return read_bytes(name, overridable=overridable).decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{locate(name, overridable=overridable)[0]}: not UTF-8 ({e.reason} at byte {e.start})") from None


def names(pattern: str = "*") -> list[str]:
    """Relative names of the packaged files matching ``pattern`` (e.g. 'tables/*.csv')."""
    base = packaged_dir()
    return sorted(p.relative_to(base).as_posix() for p in base.glob(pattern) if p.is_file())


def loaded() -> list[Loaded]:
    """Every data file read since the override last changed: name, path, SHA-256, overridden."""
    with _lock:
        return sorted(_loaded.values())


def digest(files: Iterable[Loaded] | None = None) -> str:
    """One SHA-256 over names and contents (default: :func:`loaded`), for a run's record."""
    h = hashlib.sha256()
    for f in sorted(files if files is not None else loaded()):
        h.update(f"{f.name}\0{f.sha256}\n".encode())
    return h.hexdigest()


_EXTRACTED = re.compile(r"extracted:?\s+(\d{4}-\d{2}-\d{2})", re.I)


def extraction_dates() -> dict[str, list[str]]:
    """Date extracted (from each table's ``#`` lines) -> the tables extracted then ('?' when a
    table says no date). Overridden tables are read from the override folder."""
    out: dict[str, list[str]] = {}
    for name in names("tables/*.csv"):
        path, _ = locate(name)
        date = "?"
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.startswith("#"):
                    break
                m = _EXTRACTED.search(line)
                if m:
                    date = m.group(1)
                    break
        out.setdefault(date, []).append(name.removeprefix("tables/").removesuffix(".csv"))
    return out
