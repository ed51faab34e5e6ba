"""How long `jitsictl --help` and `jitsictl render` take in a fresh process (targets: 0.3 s and
0.5 s). Each run starts a new interpreter, as a user's shell does; the figures are wall-clock
seconds. The heaviest imports of each command are listed so a regression can be traced.

    .venv/bin/python bench/cli_startup.py [--runs N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"--help": 0.3, "render": 0.5}


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jitsictl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - start


def heaviest_imports(args: list[str], cwd: Path, count: int = 5) -> list[tuple[int, str]]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "jitsictl", *args], cwd=cwd,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if len(name) - len(name.lstrip()) == 1:  # top level: its cumulative includes its children
            rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run([sys.executable, "-m", "jitsictl", "init", "--non-interactive", "--domain",
                        "meet.example.org"], cwd=work, check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
        print(f"python {sys.version.split()[0]}, {options.runs} fresh processes per command")
        for args in (["--help"], ["render"]):
            label = " ".join(args)
            first = timed(args, work)  # also the first render into an empty directory
            runs = [timed(args, work) for _ in range(options.runs)]
            median = statistics.median(runs)
            verdict = "ok" if median < TARGETS[label] else "OVER TARGET"
            # min is the cost without interference from other load on the machine; median is
            # what a user typically sees here.
            print(f"jitsictl {label:7} first {first:.3f} s  min {min(runs):.3f} s  median {median:.3f} s  "
                  f"max {max(runs):.3f} s  target < {TARGETS[label]} s  {verdict}")
            for micros, name in heaviest_imports(args, work):
                print(f"    {micros / 1e6:.3f} s  import {name}")


if __name__ == "__main__":
    main()
