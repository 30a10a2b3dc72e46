"""The benchmark harness runs (a smoke run: one workload, one repetition).

Timings are never asserted here: only that the harness measures both clients
on the same server and prints its verdict row.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_bench_smoke_run_compares_both_clients() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "B7", "--no-pg"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = [line for line in run.stdout.splitlines() if line.startswith("B7 ")]
    assert rows, run.stdout[-2000:]
    assert "x" in rows[-1].split("get_record calls")[1]  # ratios were computed
    assert "PostgreSQL: skipped (--no-pg)" in run.stdout
