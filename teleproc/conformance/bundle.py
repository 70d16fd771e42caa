"""Output folders (kit, reference files, bundle, return pack) and the bundle's manifest.

* A folder is created when missing; an existing non-empty one is refused (exit 2) unless
  ``--force``. The new content is always built in a sibling temporary folder and renamed into
  place at the end (with ``--force`` the old folder is swapped out and removed), so a failure
  leaves the old folder as it was. ``--force`` is refused when an input lies inside the folder.
* Every file goes through ``io.AtomicWriter`` (0600); every folder is 0700: a bundle holds
  submissions and returns byte-exact, i.e. patient data.
* ``manifest.json``: teleproc version, the sha256 of every data file in formats/ (tables,
  layouts, settings), the command with paths relative to the bundle, and the sha256 of every
  other file of the bundle. ``verify`` re-hashes; a moved bundle still verifies.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from .. import __version__
from ..errors import UsageError
from ..io import AtomicWriter, sha256_file
from .. import data
from ..layout import layout
from ..log import mask_phn

MANIFEST = "manifest.json"
MANIFEST_SCHEMA = "teleproc-conformance-manifest/1"

# names and contents that look like a key or a credential: never copied into a bundle
_SECRET_NAME = re.compile(r"(\.(pem|key|p12|pfx|jks|keystore|crt|cer|der|kdbx|asc|gpg)$|^id_(rsa|dsa|ecdsa|ed25519)"
                          r"|credential|password|secret|\.env$|\.netrc$|token)", re.I)
_SECRET_TEXT = re.compile(rb"-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)|PRIVATE KEY-----|password\s*=", re.I)


def looks_secret(path: Path, head: bytes) -> bool:
    return bool(_SECRET_NAME.search(path.name) or _SECRET_TEXT.search(head))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _inside(p: Path, folder: Path) -> bool:
    try:
        p.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


class OutputFolder:
    """``with OutputFolder(target, force, inputs) as root:`` write under ``root``; renamed into
    place (swapping out the old folder with --force) when the block ends without error."""

    def __init__(self, target: str | Path, force: bool = False, inputs=()):
        self.target = Path(target)
        self.force = force
        t = self.target
        if t.exists() and not t.is_dir():
            raise UsageError(f"{t}: exists and is not a folder")
        if t.is_dir() and any(t.iterdir()):
            if not force:
                raise UsageError(f"{t}: folder exists and is not empty (use --force to replace it)")
        for p in inputs:
            if p is not None and t.exists() and _inside(Path(p), t):
                raise UsageError(f"{p}: lies inside the output folder {t}, which would be replaced")
        parent = t.parent if str(t.parent) else Path(".")
        if not parent.is_dir():
            raise UsageError(f"{t}: no folder {parent}")
        self.parent = parent

    def __enter__(self) -> Path:
        self.tmp = self.parent / f".{self.target.name}.tmp-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        os.mkdir(self.tmp, 0o700)
        os.chmod(self.tmp, 0o700)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return False
        old = None
        if self.target.exists():
            old = self.parent / f".{self.target.name}.old-{os.getpid()}"
            os.rename(self.target, old)
        os.rename(self.tmp, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return False


def mkdir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_text(path: Path, text: str) -> None:
    mkdir(path.parent)
    with AtomicWriter(path, "", "utf-8") as w:
        w.write_text(text)
    os.chmod(path, 0o600)


def write_bytes(path: Path, data: bytes) -> None:
    """Byte-exact (Latin-1 maps every byte to itself)."""
    mkdir(path.parent)
    with AtomicWriter(path, "", "latin-1") as w:
        w.write_text(data.decode("latin-1"))
    os.chmod(path, 0o600)


def write_json(path: Path, obj) -> None:
    write_text(path, json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=True) + "\n")


def table_digests() -> dict:
    """sha256 of every data file in formats/ (layouts, tables, settings, the kit catalogue)."""
    out = {}
    for name in data.names("**/*"):
        if name.endswith((".toml", ".csv", ".json")):
            out[name] = sha256_file(data.locate(name)[0])
    return out


def all_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def write_manifest(root: Path, command: list[str]) -> None:
    files = {rel: sha256_file(root / rel) for rel in all_files(root) if rel != MANIFEST}
    write_json(root / MANIFEST, {"schema": MANIFEST_SCHEMA, "teleproc_version": __version__,
                                 "tables": table_digests(), "command": command, "files": files})


def verify(bundle: Path) -> list[str]:
    """Differences between the bundle and its manifest ([] = it verifies)."""
    m = bundle / MANIFEST
    if not bundle.is_dir():
        raise UsageError(f"{bundle}: no such folder")
    if not m.is_file():
        raise UsageError(f"{bundle}: no {MANIFEST} (not a conformance bundle)")
    try:
        manifest = json.loads(m.read_text("utf-8"))
        files = manifest["files"]
        if not isinstance(files, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return [f"{MANIFEST}: not a valid manifest (changed or damaged)"]
    out = []
    present = set(all_files(bundle)) - {MANIFEST}
    for rel in sorted(files):
        if rel not in present:
            out.append(f"{rel}: listed in the manifest, missing from the bundle")
        elif sha256_file(bundle / rel) != files[rel]:
            out.append(f"{rel}: sha256 differs from the manifest (the file was changed)")
    for rel in sorted(present - set(files)):
        out.append(f"{rel}: not in the manifest")
    return out


def relative_command(argv: list[str], root: Path, paths: set[int]) -> list[str]:
    """The command with the arguments at ``paths`` made relative to the (final) bundle folder."""
    out = []
    for i, a in enumerate(argv):
        if i in paths:
            out.append(os.path.relpath(Path(a).resolve(), root.resolve()))
        else:
            out.append(a)
    return out


# --- masking whole lines (cases/*.json, report.html drill-downs) ---------------------------------
def mask_line(code: str, text: str) -> str:
    """The line with every patient-data field masked, width kept (the column ruler stays right):
    PHN-like fields keep their last 4 characters, names and birth dates become asterisks."""
    try:
        lay = layout(code)
    except KeyError:
        return "*" * len(text)
    chars = list(text)
    for f in lay.fields:
        if not f.pii:
            continue
        seg = text[f.start - 1:f.end]
        if not seg:
            continue
        if f.pii == "phn":
            s = seg.rstrip(" ")
            m = mask_phn(s)[-4:] if len(s) > 4 else ""
            new = "".join("*" if ch != " " else " " for ch in s[:len(s) - len(m)]) + m + seg[len(s):]
        else:
            new = "".join("*" if ch != " " else " " for ch in seg)
        chars[f.start - 1:f.start - 1 + len(seg)] = new
    return "".join(chars)
