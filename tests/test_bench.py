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


def test_run_order_reads_each_shared_collection_in_one_stretch() -> None:
    from bench.__main__ import run_order
    from bench.workloads import WORKLOADS

    order = [w.id for w in run_order(list(WORKLOADS))]
    assert order.index("B4") < order.index("B6") < order.index("B1") < order.index("B2a")
    reads = [order.index(x) for x in ("B1", "B5", "B7")]
    assert max(reads) - min(reads) == 2  # nothing in between: "read" is dropped after


def test_measure_sides_alternates_and_skips_the_warm_up() -> None:
    from bench.harness import measure_sides

    calls: list[str] = []

    def side(name: str) -> object:
        return lambda: lambda: calls.append(name)

    stats = measure_sides([side("a"), side("b"), side("c")], reps=2, warmup=1)  # type: ignore[list-item]
    assert calls == ["a", "b", "c", "c", "b", "a", "a", "b", "c"]
    assert [len(s.walls) for s in stats] == [2, 2, 2]
