"""The README's "Python API" example runs as written (from the repository root), and the
"Testing your software with teleproc" tests pass under pytest with the plugin."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def _block(section: str) -> str:
    body = README.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", body, re.S)
    assert len(blocks) == 1, section
    return blocks[0]


def test_python_api_example_runs():
    r = subprocess.run([sys.executable, "-c", _block("Python API")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_testing_section_example_passes(tmp_path):
    (tmp_path / "test_readme_example.py").write_text(_block("Testing your software with teleproc"), "utf-8")
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path)],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 passed" in r.stdout
