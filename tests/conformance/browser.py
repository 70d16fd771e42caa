"""Headless Chromium for the report test, driven with nothing but its command line.

Why this and not the DevTools protocol or selenium: the report opens the drill-down named by
the address (``report.html?open=case-03.2``; a click in the matrix sets ``#case-03.2``, which the
same inline script handles; a fragment also scrolls, and headless screenshots of a scrolled page
came out blank), so ``--dump-dom`` (the DOM after the scripts ran) shows the matrix cells and the
opened drill-down with its script-drawn column ruler, and ``--screenshot`` draws it. No
websocket client, no webdriver, no new dependency: Debian's ``chromium`` package is all.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--mute-audio")


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def _run(url: str, *extra: str, timeout: int = 90) -> subprocess.CompletedProcess:
    exe = chromium()
    with tempfile.TemporaryDirectory(prefix="teleproc-chromium-") as profile:
        env = dict(os.environ, HOME=profile)
        return subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *extra, url], capture_output=True,
                              timeout=timeout, env=env, cwd=profile)


def dump_dom(path: Path, fragment: str = "", via: str = "query") -> str:
    sep = "?open=" if via == "query" else "#"
    url = path.resolve().as_uri() + (f"{sep}{fragment}" if fragment else "")
    r = _run(url, "--virtual-time-budget=3000", "--dump-dom")
    if r.returncode != 0 or not r.stdout:
        raise RuntimeError(f"chromium --dump-dom failed ({r.returncode}): {r.stderr.decode(errors='replace')[-2000:]}")
    return r.stdout.decode("utf-8")


def screenshot(path: Path, out: Path, fragment: str = "", size=(1280, 1600)) -> None:
    url = path.resolve().as_uri() + (f"?open={fragment}" if fragment else "")
    r = _run(url, "--virtual-time-budget=3000", f"--window-size={size[0]},{size[1]}", f"--screenshot={out}")
    if not out.is_file():
        raise RuntimeError(f"chromium --screenshot wrote nothing ({r.returncode}): "
                           f"{r.stderr.decode(errors='replace')[-2000:]}")


def png_stats(path: Path) -> tuple[int, int, int, float]:
    """(width, height, distinct colours in a sample, share of non-white pixels) of an 8-bit RGB(A) PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    w = h = depth = ctype = 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + n
    assert depth == 8 and ctype in (2, 6), (depth, ctype)
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colours, nonwhite, total = set(), 0, 0
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):       # undo the PNG filter of this scanline
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if y % 4 == 0:
            for x in range(0, w, 4):
                px = bytes(line[x * bpp:x * bpp + 3])
                colours.add(px)
                total += 1
                nonwhite += px != b"\xff\xff\xff"
    return w, h, len(colours), nonwhite / max(total, 1)
