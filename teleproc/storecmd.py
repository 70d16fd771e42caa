"""The store's own commands: ``teleproc runs``, ``teleproc reissue``, ``teleproc migrate``.

- ``runs --state DB [--format text|json]``: every committed run (read only).
- ``reissue --state DB --run N --out FILE``: the return file of run N, byte for byte as first
  written (kept compressed in the store; checked against its sha256 before it is renamed into
  place). Read only on the store.
- ``migrate --state DB``: the store upgraded in place to this teleproc's schema, after a
  backup copy beside it (0600); the steps are ``teleproc.migrations.STEPS``.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import sys
from pathlib import Path

from . import migrations, store
from .errors import TeleprocError, UsageError
from .log import logger

# ``runs --format json``: key -> runs column (and how it is shown)
RUN_KEYS = (("run", "run_id"), ("kind", "kind"), ("received", "received"),
            ("payment_date", "payment_date"), ("created", "created"),
            ("source_sha256", "source_sha256"), ("data_centre", "data_centre"),
            ("first_sequence", "first_seq"), ("last_sequence", "last_seq"), ("claims", "claims"),
            ("billed_cents", "billed_cents"), ("paid_cents", "paid_cents"),
            ("return_sha256", "return_sha256"), ("reissuable", "reissuable"),
            ("teleproc_version", "teleproc_version"), ("tables_digest", "tables_digest"),
            ("policy_digest", "policy_digest"))
_DATES = ("received", "payment_date")


def iso(v) -> str | None:
    """A stored YYYYMMDD as YYYY-MM-DD; a value that is not a calendar date is shown as stored."""
    if v is None:
        return None
    try:
        return store.from_ymd(v).isoformat()
    except (TypeError, ValueError):
        return str(v)


def run_rows(conn) -> list[dict]:
    out = []
    for r in store.run_records(conn):
        row = {}
        for key, col in RUN_KEYS:
            v = r[col]
            if key in _DATES:
                v = iso(v)
            elif key == "reissuable":
                v = bool(v)
            row[key] = v
        out.append(row)
    return out


def _money(cents) -> str:
    from .jsonl import money_text
    return "-" if cents is None else money_text(cents)


def cmd_runs(args) -> int:
    conn = store.connect(args.state, write=False)
    try:
        with store.errors(args.state, "cannot read the runs"):
            rows = run_rows(conn)
    finally:
        conn.close()
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
    else:
        head = ("run", "kind", "received", "payment", "claims", "billed", "paid", "reissue", "source")
        table = [head]
        for r in rows:
            seq = (f" {r['data_centre']} {r['first_sequence']:07d}-{r['last_sequence']:07d}"
                   if r["data_centre"] and r["first_sequence"] is not None and r["last_sequence"] is not None
                   else "")
            table.append((str(r["run"]), r["kind"], r["received"] or "-", r["payment_date"] or "-",
                          str(r["claims"]), _money(r["billed_cents"]), _money(r["paid_cents"]),
                          "yes" if r["reissuable"] else "no",
                          (r["source_sha256"] or "")[:12] + seq))
        widths = [max(len(row[i]) for row in table) for i in range(len(head))]
        for row in table:
            sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n")
        if not rows:
            sys.stdout.write(f"{args.state}: no runs yet\n")
    return 0


def cmd_reissue(args) -> int:
    from .io import AtomicWriter
    conn = store.connect(args.state, write=False)
    try:
        with store.errors(args.state, "cannot read the stored return file"):
            row = conn.execute("SELECT return_sha256, return_bytes FROM runs WHERE run_id = ?",
                               (args.run,)).fetchone()
            if row is None:
                last = conn.execute("SELECT max(run_id) FROM runs").fetchone()[0]
                raise UsageError(f"{args.state}: no run {args.run} "
                                 f"({'the store has no runs' if last is None else f'runs 1 to {last}'}; "
                                 "`teleproc runs` lists them)")
            sha, size = row
            if sha is None:
                raise UsageError(f"{args.state}: run {args.run} has no kept return file (it was committed "
                                 "before teleproc kept return files)")
            h = hashlib.sha256()
            n = 0
            if args.out == "-":
                for piece in store.return_file(conn, args.run):
                    h.update(piece)
                    n += len(piece)
                _check(args, h, n, sha, size)
                raw = getattr(sys.stdout, "buffer", None)
                for piece in store.return_file(conn, args.run):
                    raw.write(piece) if raw is not None else sys.stdout.write(piece.decode("latin-1"))
                sys.stdout.flush()
            else:
                with AtomicWriter(args.out, "", "latin-1") as w:
                    for piece in store.return_file(conn, args.run):
                        h.update(piece)
                        n += len(piece)
                        w.write_text(piece.decode("latin-1"))
                    _check(args, h, n, sha, size)   # inside: a mismatch leaves no file
    finally:
        conn.close()
    logger(command="reissue").info("reissued", run=args.run, bytes=n)
    return 0


def _check(args, h, n, sha, size) -> None:
    if h.hexdigest() != sha or n != size:
        raise TeleprocError(f"{args.state}: the kept return file of run {args.run} is damaged "
                            f"({n} bytes, sha256 {h.hexdigest()[:12]}..., expected {size} bytes, "
                            f"{sha[:12]}...); nothing written")


def _backup_path(path: Path, version: int) -> Path:
    base = f"{path}.v{version}-backup"
    candidate, i = Path(base), 1
    while candidate.exists() or candidate.is_symlink():
        candidate, i = Path(f"{base}.{i}"), i + 1
    return candidate


def backup(path: Path, target: Path) -> None:
    """A consistent copy of the store (SQLite's online backup, through a reading connection of
    its own: the caller holds the write lock, so it is the store as committed), created 0600 and
    fsynced."""
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.fchmod(fd, 0o600)
    os.close(fd)
    try:
        source = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        dest = sqlite3.connect(str(target))
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()
        fd = os.open(target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    except BaseException:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{target}{suffix}").unlink()
        raise


def cmd_migrate(args) -> int:
    path = Path(args.state)
    _, version = store.check_file(path)
    if version == store.SCHEMA_VERSION:
        store.connect(path, write=False).close()        # readable (a damaged store says so)
        sys.stderr.write(f"{path}: already at schema version {version}; nothing to do\n")
        return 0
    if version > store.SCHEMA_VERSION:
        raise store.StoreError(f"{path}: schema version {version} was written by a newer teleproc "
                               f"(this one knows versions up to {store.SCHEMA_VERSION}); left untouched")
    if version < migrations.BASE_VERSION:
        raise store.StoreError(f"{path}: schema version {version} is too old to migrate (the oldest "
                               f"teleproc store that can be migrated is version {migrations.BASE_VERSION})")
    conn = store.connect(path, write=True, wait=args.wait, migrating=True)
    target = _backup_path(path, version)
    try:
        store.begin(conn)     # no other writer from here on: the backup is what gets migrated
        try:
            with store.errors(path, "the store was not migrated"):
                current = conn.execute("PRAGMA user_version").fetchone()[0]
                if current != version:
                    raise store.StoreError(f"{path}: another teleproc changed the schema meanwhile "
                                           f"(now version {current}); run migrate again")
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise store.StoreError(f"{path}: the state store is damaged ({check}); restore it from "
                                           "a backup; it was not migrated")
                try:
                    backup(path, target)
                except OSError as e:
                    raise store.StoreError(f"{path}: cannot write the backup {target}: {e.strerror}; "
                                           "the store was not migrated") from None
                done = migrations.upgrade(conn, version)
                store.commit(conn)
        except BaseException:
            store.rollback(conn)
            raise
    finally:
        conn.close()
    for line in done:
        sys.stderr.write(f"{path}: {line}\n")
    sys.stderr.write(f"{path}: migrated from schema version {version} to {store.SCHEMA_VERSION}; "
                     f"the store as it was: {target}\n")
    logger(command="migrate").info("migrated", from_version=version, to_version=store.SCHEMA_VERSION)
    return 0


def _run_number(text: str) -> int:
    import argparse
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a run number (1, 2, ...), got {text!r}")
    return int(text)


def register(sub) -> None:
    from .batch import add_wait
    p = sub.add_parser("runs", help="list the committed runs of a state store")
    p.add_argument("--state", required=True, help="the state store (read only)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("reissue", help="write a committed run's return file again, byte for byte")
    p.add_argument("--state", required=True, help="the state store (read only)")
    p.add_argument("--run", required=True, type=_run_number, metavar="N", help="the run (teleproc runs)")
    p.add_argument("--out", required=True, help="the file to write (atomically; - for standard output)")
    p.set_defaults(func=cmd_reissue)

    p = sub.add_parser("migrate", help="upgrade a state store to this teleproc's schema, in place, "
                                       "after a backup copy beside it")
    p.add_argument("--state", required=True, help="the state store")
    add_wait(p)
    p.set_defaults(func=cmd_migrate)
