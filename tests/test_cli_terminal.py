"""Issue 9 item 4: --log-format auto|text|json, the progress line (count, rate, percent, ETA; a
terminal only), teleproc completion bash|zsh|fish (bash tested by sourcing the script)."""
from __future__ import annotations

import io
import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from teleproc import progress
from teleproc.cli import main

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ROOT / "fixtures" / "submissions" / "variants.txt"


def tp(*argv, env=None):
    return subprocess.run([sys.executable, "-m", "teleproc", *map(str, argv)], capture_output=True, text=True,
                          env=env)


# --- logs -----------------------------------------------------------------------------------------
def test_log_format_json_and_text():
    j = tp("--log-format", "json", "validate", VARIANTS)
    assert j.returncode == 0 and json.loads(j.stderr.splitlines()[-1])["event"] == "validate"
    t = tp("validate", VARIANTS, "--log-format", "text")
    assert t.returncode == 0 and "event='validate'" in t.stderr and not t.stderr.lstrip().startswith("{")


def test_log_format_auto_is_json_when_piped():
    r = tp("validate", VARIANTS)
    assert json.loads(r.stderr.splitlines()[-1])["event"] == "validate"
    env = dict(os.environ, TELEPROC_LOG_FORMAT="text")
    assert "event='validate'" in tp("validate", VARIANTS, env=env).stderr


def test_log_format_auto_is_text_on_a_terminal():
    pid, fd = pty.fork()
    if pid == 0:      # the child: stderr (and stdout) a terminal
        os.execv(sys.executable, [sys.executable, "-m", "teleproc", "validate", str(VARIANTS)])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"event='validate'" in out and b'"event": "validate"' not in out


def test_bad_log_format_is_usage_error(capsys):
    assert main(["--log-format", "xml", "validate", str(VARIANTS)]) == 2


# --- progress ------------------------------------------------------------------------------------
def test_progress_line_with_and_without_a_total():
    assert progress.render("validate", 150_000, 1.5, None) == "validate: 150,000 records, 100,000/s"
    assert progress.render("validate", 150_000, 1.5, 600_000) == \
        "validate: 150,000 records, 100,000/s, 25 %, ETA 0:04"
    assert progress.render("adjudicate", 50_000, 0.5, 10_000_000).endswith("0 %, ETA 1:39")


def test_progress_total_from_the_file_size(tmp_path):
    f = tmp_path / "s.txt"
    f.write_bytes(b"x" * 426 * 1000)
    assert progress.estimate_lines(f) == 1000
    assert progress.estimate_lines(tmp_path / "missing") is None
    assert progress.estimate_lines(tmp_path) is None


def test_progress_only_on_a_terminal(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buf)
    p = progress.Progress("validate", every=2, total=10)
    p.tick(2)
    p.done()
    assert buf.getvalue() == ""          # not a terminal: nothing

    class Tty(io.StringIO):
        def isatty(self):
            return True
    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    p = progress.Progress("validate", every=2, total=10)
    p.tick(1)
    assert tty.getvalue() == ""          # between batches: nothing
    p.tick(2)
    assert tty.getvalue().startswith("\rvalidate: 2 records, ") and "%, ETA " in tty.getvalue()
    p.done()
    assert tty.getvalue().endswith("\r\033[K")


# --- completion ----------------------------------------------------------------------------------
def _complete(script: Path, *words: str) -> list[str]:
    cmd = (f"source {script}; COMP_WORDS=({' '.join(words)}); COMP_CWORD={len(words) - 1}; _teleproc; "
           'printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completion_by_sourcing_it(tmp_path, capsys):
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "teleproc.bash"
    script.write_text(capsys.readouterr().out, "utf-8")
    assert _complete(script, "teleproc", "val") == ["validate"]
    assert "adjudicate" in _complete(script, "teleproc", "") and "--formats" in _complete(script, "teleproc", "--")
    assert _complete(script, "teleproc", "--log-level", "ERROR", "validate", "--fo") == ["--format"]
    assert _complete(script, "teleproc", "validate", "--format", "s") == ["sarif"]
    assert _complete(script, "teleproc", "adjudicate", "--unknown-fee", "") == ["pay", "refuse"]
    r = subprocess.run(["bash", "-c", f"source {script}; complete -p teleproc"], capture_output=True, text=True)
    assert "-F _teleproc teleproc" in r.stdout


def test_zsh_and_fish_scripts(capsys):
    assert main(["completion", "zsh"]) == 0
    z = capsys.readouterr().out
    assert z.startswith("#compdef teleproc") and "bashcompinit" in z and "complete -o default" in z
    assert main(["completion", "fish"]) == 0
    f = capsys.readouterr().out
    assert "__fish_seen_subcommand_from validate' -l format -xa 'text json jsonl sarif junit github'" in f
    if shutil.which("zsh"):
        assert subprocess.run(["zsh", "-n", "-c", z]).returncode == 0
    if shutil.which("fish"):
        assert subprocess.run(["fish", "-n", "-c", f]).returncode == 0


def test_completion_needs_a_known_shell(capsys):
    assert main(["completion", "tcsh"]) == 2
