"""The benchmarks under bench/ are never run by the suite (they measure, they do not assert), so
this only checks that each one still starts: a moved helper or a renamed import otherwise shows up
the day someone needs a figure."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = ["cli_startup.py", "prosody_join.py", "receiver_ingest.py", "receiver_report.py"]


def test_every_benchmark_script_is_listed_here():
    runnable = {p.name for p in BENCH.glob("*.py") if "__main__" in p.read_text(encoding="utf-8")}
    assert runnable == set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_benchmark_starts_and_explains_its_options(script):
    result = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True,
                            timeout=60, cwd="/")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
