"""Shared set-up for the conformance tests: a kit, its reference and negative files, a run."""
from __future__ import annotations

import json
import os
from pathlib import Path

from teleproc.cli import main

# every full PHN the kit uses: none may reach a masked output
KIT_PHNS = ("9151210417", "9151065434", "9151242549", "9151071072", "9151274799", "9151206012", "9151259051",
            "9151252098", "9151237142", "9151059258", "9151234921", "9151040354", "9151058034", "9151285863",
            "9151261721", "0012345674", "0022345671", "0032345678")
NAMES = ("BURNHAM", "ALBERTA", "SASKIA", "WORKER", "LIFTER", "RESIDENT", "PATIENT")


def cli(*argv) -> int:
    return main(["--log-level", "ERROR", *(str(a) for a in argv)])


def make_kit(tmp: Path, *extra) -> Path:
    kit = tmp / "kit"
    assert cli("conformance", "init", kit, *extra) == 0
    return kit


def generate(kit: Path, out: Path, *extra) -> list[Path]:
    assert cli("conformance", "generate", kit, "--out", out, *extra) == 0
    return sorted(out.iterdir())


def run(kit: Path, files, out: Path, *extra) -> int:
    return cli("conformance", "run", kit, *files, "--out", out, *extra)


def report(bundle: Path) -> dict:
    return json.loads((bundle / "report.json").read_text())


def cases(bundle: Path) -> dict:
    return {c["id"]: c for c in report(bundle)["cases"]}


def tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def modes(root: Path) -> set:
    return {(p.is_dir(), os.stat(p).st_mode & 0o777) for p in [root, *root.rglob("*")]}
