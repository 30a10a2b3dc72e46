"""Timing, statistics and the report: nothing here knows about Kinto.

A workload side is a *prepare* function: it does the untimed setup and returns
the callable to time. ``measure`` runs it (warm-up, repetitions), taking wall
time and this process's CPU time around the call only; optionally the peak
memory growth under tracemalloc (one extra, untimed run) or the bytes sent on
the wire (``WireCounter``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

Prepare = Callable[[], Callable[[], Any]]


@dataclass
class Stats:
    """Medians of one side of one workload; ``error`` when it could not run."""

    wall: float | None = None
    cpu: float | None = None
    walls: list[float] = field(default_factory=list)
    peak_bytes: int | None = None
    sent_bytes: int | None = None
    error: str | None = None
    note: str = ""

    def metric(self, name: str) -> float | None:
        return {
            "wall": self.wall,
            "cpu": self.cpu,
            "memory": self.peak_bytes,
            "bytes": self.sent_bytes,
        }[name]


class WireCounter:
    """Counts what ``requests`` puts on the wire (request line, headers, body) by
    wrapping ``HTTPAdapter.send``, which both clients go through."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int, int]] = []  # method, url, header+line, body

    @contextlib.contextmanager
    def active(self) -> Iterator[WireCounter]:
        from requests.adapters import HTTPAdapter

        original = HTTPAdapter.send
        counter = self

        def send(adapter: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
            body = request.body or b""
            body_len = len(body.encode() if isinstance(body, str) else body)
            head = f"{request.method} {request.path_url} HTTP/1.1\r\n" + "".join(
                f"{k}: {v}\r\n" for k, v in request.headers.items()
            )
            counter.requests.append((request.method, request.url, len(head) + 2, body_len))
            return original(adapter, request, *args, **kwargs)

        HTTPAdapter.send = send  # type: ignore[method-assign]
        try:
            yield self
        finally:
            HTTPAdapter.send = original  # type: ignore[method-assign]

    @property
    def body_bytes(self) -> int:
        return sum(r[3] for r in self.requests)

    @property
    def total_bytes(self) -> int:
        return sum(r[2] + r[3] for r in self.requests)


def _timed(fn: Callable[[], Any]) -> tuple[float, float]:
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - wall0, time.process_time() - cpu0


@dataclass
class Side:
    """Accumulates the runs of one side; ``stats()`` gives the medians."""

    prepare: Prepare
    wire: bool = False
    per_call: int = 1
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    result: Stats = field(default_factory=Stats)

    def run(self, keep: bool) -> None:
        """One run (kept unless a warm-up); an exception ends the side."""
        if self.result.error:
            return
        try:
            fn = self.prepare()
            if self.wire:
                counter = WireCounter()
                with counter.active():
                    wall, cpu = _timed(fn)
                self.result.sent_bytes = counter.body_bytes
                self.result.note = (
                    f"{len(counter.requests)} request(s), {counter.total_bytes:,} B with headers"
                )
            else:
                wall, cpu = _timed(fn)
        except Exception as exc:  # reported in the table, not fatal to the run
            self.result.error = _describe(exc)
            return
        if keep:
            self.walls.append(wall / self.per_call)
            self.cpus.append(cpu / self.per_call)

    def run_traced(self) -> None:
        """One more, untimed run under tracemalloc: the peak memory growth."""
        if self.result.error:
            return
        try:
            fn = self.prepare()
            gc.collect()
            tracemalloc.start()
            try:
                base = tracemalloc.get_traced_memory()[0]
                fn()
                self.result.peak_bytes = tracemalloc.get_traced_memory()[1] - base
            finally:
                tracemalloc.stop()
        except Exception as exc:
            self.result.error = _describe(exc)

    def stats(self) -> Stats:
        if self.walls:
            self.result.walls = self.walls
            self.result.wall = statistics.median(self.walls)
            self.result.cpu = statistics.median(self.cpus)
        return self.result


def _describe(exc: Exception) -> str:
    first = str(exc).splitlines()[0][:160] if str(exc) else ""
    return f"{type(exc).__name__}: {first}"


def measure_sides(
    prepares: list[Prepare],
    *,
    reps: int,
    warmup: int,
    memory: bool = False,
    wire: bool = False,
    per_call: int = 1,
) -> list[Stats]:
    """Every side, alternating run by run (forward, then backward: ABBA for two
    sides, so drift hits them alike): ``warmup`` discarded runs, then ``reps`` kept;
    medians. ``per_call`` divides the figures; ``memory`` adds a traced run per side."""
    sides = [Side(p, wire=wire, per_call=per_call) for p in prepares]
    for i in range(warmup + reps):
        # a server that slows down as data accumulates favours no side
        for side in sides if i % 2 == 0 else sides[::-1]:
            side.run(keep=i >= warmup)
    if memory:
        for side in sides:
            side.run_traced()
    return [side.stats() for side in sides]


def measure_pair(anchor: Prepare, kintorm: Prepare, **options: Any) -> tuple[Stats, Stats]:
    """``measure_sides`` for the usual two sides: kinto-http, then kintorm."""
    first, second = measure_sides([anchor, kintorm], **options)
    return first, second


# --- the report ---------------------------------------------------------------------


@dataclass
class Row:
    """One workload on one backend: both sides and the target verdict."""

    id: str
    backend: str
    title: str
    target: str
    metric: str  # which figure the target is about: wall, cpu, memory, bytes
    limit: float | None  # kintorm/kinto-http ratio of that figure must be <= limit
    also: tuple[tuple[str, float], ...] = ()  # more (figure, limit) pairs to meet
    anchor: Stats | None = None
    kintorm: Stats | None = None
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)

    def ratio(self, metric: str | None = None) -> float | None:
        metric = metric or self.metric
        if self.anchor is None or self.kintorm is None:
            return None
        a, k = self.anchor.metric(metric), self.kintorm.metric(metric)
        if a is None or k is None or a == 0:
            return None
        return k / a

    def verdict(self) -> str:
        if self.skipped:
            return "skipped"
        if self.kintorm is not None and self.kintorm.error:
            return "FAIL (error)"
        if self.anchor is not None and self.anchor.error and self.limit == float("inf"):
            return "met (kinto-http failed)"  # the target is "works"
        checks = [(self.metric, self.limit), *self.also]
        ratios = [(self.ratio(metric), limit) for metric, limit in checks]
        if any(r is None or limit is None for r, limit in ratios):
            return "n/a"
        return "met" if all(r <= limit for r, limit in ratios) else "MISSED"  # type: ignore


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 0.01:
        return f"{value * 1e3:.3f} ms"
    return f"{value:.3f} s"


def _amount(stats: Stats | None, metric: str) -> str:
    if stats is None:
        return "-"
    if stats.error and stats.wall is None:
        return stats.error
    value = stats.metric(metric)
    if value is None:
        return "-"
    if metric in ("wall", "cpu"):
        return _seconds(value)
    if metric == "memory":
        return f"{value / 2**20:.2f} MiB"
    return f"{int(value):,} B"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


HEADER = (
    "id",
    "backend",
    "workload",
    "kinto-http wall",
    "kintorm wall",
    "wall ratio",
    "kinto-http CPU",
    "kintorm CPU",
    "CPU ratio",
    "target figure (kinto-http → kintorm)",
    "target",
    "verdict",
)


def table_rows(rows: list[Row]) -> list[tuple[str, ...]]:
    out = []
    for r in rows:
        if r.skipped:
            out.append((r.id, r.backend, r.title, *["-"] * 6, r.skipped, r.target, "skipped"))
            continue
        a, k = r.anchor, r.kintorm
        extra = "-"
        if r.metric in ("memory", "bytes"):
            extra = f"{_amount(a, r.metric)} → {_amount(k, r.metric)} ({_ratio(r.ratio())})"
        out.append(
            (
                r.id,
                r.backend,
                r.title,
                _amount(a, "wall"),
                _amount(k, "wall"),
                _ratio(r.ratio("wall")),
                _seconds(a.cpu) if a else "-",
                _seconds(k.cpu) if k else "-",
                _ratio(r.ratio("cpu")),
                extra,
                r.target,
                r.verdict(),
            )
        )
    return out


def render_text(rows: list[Row]) -> str:
    cells = [HEADER, *table_rows(rows)]
    widths = [min(max(len(c[i]) for c in cells), 48) for i in range(len(HEADER))]
    lines = []
    for n, c in enumerate(cells):
        lines.append("  ".join(v[:48].ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(rows: list[Row]) -> str:
    cells = [HEADER, *table_rows(rows)]
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(v.replace("|", "\\|") for v in c) + " |" for c in cells[1:]]
    return "\n".join(lines)


def machine() -> dict[str, str]:
    """CPU model, cores, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for dist in ("kintorm", "kinto-http", "kinto", "requests", "attrs", "cattrs"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{dist} {metadata.version(dist)}")
    commit = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        ).stdout.strip()
    return {
        "kintorm commit": commit,
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "Python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "OS": f"{platform.system()} {platform.release()}",
        "libraries": ", ".join(versions),
    }


def chart(rows: list[Row], path: str) -> None:
    """A bar per row: the ratio of its target figure, with its limit as a tick."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.ratio() is not None]
    labels = [f"{r.id} {r.backend}\n({r.metric})" for r in shown]
    ratios = [r.ratio() or 0.0 for r in shown]
    colors = ["tab:green" if r.verdict() == "met" else "tab:red" for r in shown]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(shown) + 2), 4.5))
    ax.bar(range(len(shown)), ratios, color=colors)
    for i, r in enumerate(shown):
        if r.limit is not None:
            ax.hlines(r.limit, i - 0.4, i + 0.4, colors="black", linestyles="dashed")
        ax.text(i, ratios[i], f"{ratios[i]:.2f}", ha="center", va="bottom", fontsize=8)
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(shown)), labels, fontsize=8)
    ax.set_ylabel("kintorm / kinto-http (log; lower is better)")
    ax.set_title("kintorm vs kinto-http: ratio of each target figure (dashes: target)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
