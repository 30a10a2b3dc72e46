"""Timing and statistics: nothing here knows about Kinto.

A workload side is a *prepare* function: it does the untimed setup and returns
the callable to time. ``measure_sides`` runs the sides (warm-up, repetitions,
alternated), taking wall time and this process's CPU time around the call only;
optionally the peak memory growth under tracemalloc (one extra, untimed run), the
objects the cyclic garbage collector tracks per record (one extra run after a
warm one) or the bytes sent on the wire (``WireCounter``).
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Prepare = Callable[[], Callable[[], Any]]


@dataclass
class Stats:
    """Medians of one side of one workload; ``error`` when it could not run."""

    wall: float | None = None
    cpu: float | None = None
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    peak_bytes: int | None = None
    sent_bytes: int | None = None
    objects: float | None = None  # GC-tracked objects kept per record
    error: str | None = None
    note: str = ""

    def metric(self, name: str) -> float | None:
        """The figure called ``name`` (wall, cpu, memory, bytes, objects)."""
        return {
            "wall": self.wall,
            "cpu": self.cpu,
            "memory": self.peak_bytes,
            "bytes": self.sent_bytes,
            "objects": self.objects,
        }[name]

    def spread(self, name: str) -> tuple[float, float] | None:
        """(min, max) of the kept repetitions of a timed figure; None for the others."""
        runs = {"wall": self.walls, "cpu": self.cpus}.get(name)
        return (min(runs), max(runs)) if runs else None


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
            self.result.error = describe(exc)
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
            self.result.error = describe(exc)

    def run_counted(self) -> None:
        """Two more, untimed runs: a warm one (caches, generated code), then one whose
        result is held while the collector's tracked objects are counted."""
        if self.result.error:
            return
        try:
            self.prepare()()
            fn = self.prepare()
            gc.collect()
            before = len(gc.get_objects())
            result = fn()
            gc.collect()
            after = len(gc.get_objects())
            del result
            self.result.objects = (after - before) / self.per_call
        except Exception as exc:
            self.result.error = describe(exc)

    def stats(self) -> Stats:
        """The medians (and the runs) of what was kept."""
        if self.walls:
            self.result.walls = self.walls
            self.result.cpus = self.cpus
            self.result.wall = statistics.median(self.walls)
            self.result.cpu = statistics.median(self.cpus)
        return self.result


def describe(exc: Exception) -> str:
    """An exception in one line: its type and the start of its message."""
    first = str(exc).splitlines()[0][:160] if str(exc) else ""
    return f"{type(exc).__name__}: {first}"


def measure_sides(
    prepares: list[Prepare],
    *,
    reps: int,
    warmup: int,
    memory: bool = False,
    wire: bool = False,
    objects: bool = False,
    per_call: int | list[int] = 1,
) -> list[Stats]:
    """Every side, alternating run by run (forward, then backward: ABBA for two
    sides, so drift hits them alike): ``warmup`` discarded runs, then ``reps`` kept;
    medians. ``per_call`` divides the figures (one for all sides, or one per side);
    ``memory`` adds a traced run per side, ``objects`` a counted one."""
    divisors = per_call if isinstance(per_call, list) else [per_call] * len(prepares)
    sides = [Side(p, wire=wire, per_call=d) for p, d in zip(prepares, divisors, strict=True)]
    for i in range(warmup + reps):
        # a server that slows down as data accumulates favours no side
        for side in sides if i % 2 == 0 else sides[::-1]:
            side.run(keep=i >= warmup)
    if memory:
        for side in sides:
            side.run_traced()
    if objects:
        for side in sides:
            side.run_counted()
    return [side.stats() for side in sides]
