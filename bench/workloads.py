"""The table of workloads (issues 5, 11, 12 and 13): what each measures, against which
baseline, and its target. The sides live in ``bench.reads``, ``bench.writes`` and
``bench.data_tools``.

The baseline is kinto-http where kintorm competes with it; where the server itself
is the limit (B4, B5) it is the raw floor measured in the same run (``requests``
sending what kintorm sends), with kinto-http kept as a reference; for B9 it is the
same call at another size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench import data_tools, reads, writes
from bench.context import BUCKET, MAPPER_MISSING, Ctx, Record
from bench.reads import probe_recursion

__all__ = ["BUCKET", "MAPPER_MISSING", "WORKLOADS", "Ctx", "Record", "Workload", "probe_recursion"]

Prepare = Callable[[Ctx], Callable[[], Any]]


@dataclass(frozen=True)
class Workload:
    """One measured comparison; ``anchor`` is the baseline side."""

    id: str
    title: str
    target: str
    metric: str  # the figure the target is about: wall, cpu, memory, bytes, objects
    limit: float  # kintorm/baseline ratio of that figure must be <= limit
    anchor: Prepare
    kintorm: Prepare
    also: tuple[tuple[str, float], ...] = ()  # more (figure, limit) pairs
    mapper: bool = False
    memory: bool = False
    wire: bool = False
    objects: bool = False  # count the GC-tracked objects kept per record
    per_call: tuple[int, ...] = (1,)  # divide the figures by these counts (scaled), per side
    backends: tuple[str, ...] = ("memory", "postgresql")
    uses: tuple[str, ...] = ()  # the shared collections it reads (see Ctx.release)
    anchor_of: str | None = None  # its anchor is that workload's: measured once for both
    reps: int | None = None  # fewer repetitions for the slowest workloads
    warmup: int | None = None
    baseline: str = "kinto-http"
    absolute: bool = False  # the limit bounds kintorm's figure itself
    info: Prepare | None = None  # a reference side (kinto-http when the baseline is a floor)
    info_reps: int | None = None  # None: alternated with the others; else measured apart
    server: str = "main"  # the server it runs on (see server_settings in bench.__main__)
    check: Callable[[Ctx], str] | None = None  # after the runs: a note, or raises


_B1 = "wall ≤ 1.0x, client CPU ≤ 1.2x"

WORKLOADS = (
    Workload(
        "B1-3k",
        "read 3,000 records: model instances vs get_records() dicts",
        _B1,
        "wall",
        1.0,
        reads.read_dicts("read3k", 3_000),
        reads.read_models("read3k", 3_000),
        also=(("cpu", 1.2),),
        mapper=True,
        uses=("read3k",),
    ),
    Workload(
        "B1",
        "read 20,000 records: model instances vs get_records() dicts",
        _B1,
        "wall",
        1.0,
        reads.read_dicts("read20k", 20_000),
        reads.read_models("read20k", 20_000),
        also=(("cpu", 1.2),),
        mapper=True,
        uses=("read20k",),
    ),
    Workload(
        "B2a",
        "iterate 5,000 records, page size 5 (1,000 pages): get_paginated_records",
        "works with 1,000 pages",
        "wall",
        float("inf"),
        reads.b2_anchor_pages,
        reads.b2_kintorm_pages,
        reps=1,  # server-bound; the target is "works"
        warmup=0,
        uses=("pages",),
    ),
    Workload(
        "B2b",
        "iterate 20,000 records, page size 1,000: get_paginated_records vs get_records",
        "peak memory ≤ 0.20x",
        "memory",
        0.20,
        reads.b2_anchor_1000,
        reads.b2_kintorm_1000,
        memory=True,
        uses=("iterate",),
    ),
    Workload(
        "B3",
        "bulk_create 5,000 (PostgreSQL: 1,000) vs kinto-http batch create_record",
        "wall ≤ 1.0x",
        "wall",
        1.0,
        writes.b3_anchor,
        writes.b3_kintorm,
        mapper=True,
        reps=3,
        # each record created adds permission entries, which Kinto's memory backend then
        # scans on every later write: on the main server a run cost more than the one
        # before it, a drift that alternating the sides does not quite cancel
        server="data",
    ),
    Workload(
        "B4",
        "QuerySet.update(done=True) over 1,000 vs the same PATCHes in raw batches",
        "wall ≤ 1.1x of the raw floor",
        "wall",
        1.1,
        writes.b4_floor,
        writes.b4_kintorm,
        mapper=True,
        reps=3,
        baseline="raw POST /batch",
        info=writes.b4_anchor,  # sequential patch_record: 8 s (memory), 27 s (PostgreSQL)
        info_reps=1,
    ),
    Workload(
        "B5",
        "count() of 10,000 vs a raw HEAD",
        "wall ≤ 1.1x of the raw floor",
        "wall",
        1.1,
        reads.b5_floor,
        reads.b5_kintorm,
        mapper=True,
        uses=("read10k",),
        baseline="raw HEAD",
        info=reads.b5_anchor,  # len(get_records()), alternated with both
    ),
    Workload(
        "B6",
        "save() one changed field of 50 vs update_record: request body",
        "body ≤ 0.10x",
        "bytes",
        0.10,
        writes.b6_anchor,
        writes.b6_kintorm,
        mapper=True,
        wire=True,
        backends=("memory",),
        uses=("wide",),
    ),
    Workload(
        "B7",
        f"{reads.B7_CALLS} get_record calls (figures per call)",
        "client CPU per call ≤ 1.2x",
        "cpu",
        1.2,
        reads.b7_anchor,
        reads.b7_kintorm,
        per_call=(reads.B7_CALLS,),
        uses=("read10k",),
        reps=3,
    ),
    Workload(
        "B8",
        "abulk_create 1,000, 4 chunks in flight vs sequential batches",
        "≥ 3x faster (wall ≤ 0.33x), all created",
        "wall",
        1 / 3,
        writes.b3_anchor,  # kinto-http's sequential batches: B3's anchor runs serve both
        writes.b8_kintorm,
        mapper=True,
        backends=("postgresql",),
        anchor_of="B3",
        server="data",  # B3's
    ),
    Workload(
        "B9",
        "list(qs) per record: 50,000 records vs 1,000 (figures per record)",
        "client CPU per record flat: ≤ 1.2x",
        "cpu",
        1.2,
        reads.read_models("flat1k", 1_000),
        reads.read_models("flat50k", 50_000),
        mapper=True,
        per_call=(1_000, 50_000),
        uses=("flat1k", "flat50k"),
        baseline="list(qs) of 1,000",
        reps=3,
    ),
    Workload(
        "B10",
        "GC-tracked objects kept per record: list(qs) vs get_records() of 20,000",
        "≤ 3 objects per record",
        "objects",
        3.0,
        reads.read_dicts("read20k", 20_000),
        reads.read_models("read20k", 20_000),
        mapper=True,
        objects=True,
        absolute=True,
        per_call=(20_000,),
        uses=("read20k",),
        reps=1,
        warmup=0,
    ),
    Workload(
        "B11",
        "re-read 3,000 records of an unchanged collection (listing_cache: a 304) vs a first read",
        "wall ≤ 0.7x, client CPU ≤ 1.0x",
        "wall",
        0.7,
        reads.read_models("read3k", 3_000),
        reads.reread_models("read3k", 3_000),
        also=(("cpu", 1.0),),
        mapper=True,
        uses=("read3k",),
        baseline="first read (list(qs))",
    ),
    Workload(
        "B12",
        f"dump {data_tools.DUMP_SMALL:,} vs {data_tools.DUMP_RECORDS:,} records with their "
        "permissions (figures per record)",
        f"peak memory growth < {data_tools.DUMP_MEMORY_MIB:.0f} MiB",
        "memory",
        data_tools.DUMP_MEMORY_MIB,
        data_tools.dump_side(data_tools.SMALL, data_tools.DUMP_SMALL),
        data_tools.dump_side(data_tools.LARGE, data_tools.DUMP_RECORDS),
        memory=True,
        absolute=True,
        per_call=(data_tools.DUMP_SMALL, data_tools.DUMP_RECORDS),
        uses=(data_tools.SMALL, data_tools.LARGE),
        baseline=f"dump of {data_tools.DUMP_SMALL:,}",
        backends=("memory",),  # the memory measured is the client's
        reps=2,
        warmup=0,
        server="data",
    ),
    Workload(
        "B13",
        f"load {data_tools.LOAD_RECORDS:,} dumped records (PostgreSQL: "
        f"{data_tools.LOAD_RECORDS_PG:,}) vs bulk_create of the same (ids, data, permissions)",
        "wall ≤ 1.1x, round trip exact",
        "wall",
        1.1,
        data_tools.b13_bulk_create,
        data_tools.b13_load,
        mapper=True,
        uses=(data_tools.LARGE,),
        baseline="bulk_create",
        # 3, not 2: with ABBA a stretch of load on the shared machine lands on one side
        # (2 runs: 0.80x to 1.11x from run to run); an odd count ends on a load, which
        # the round-trip check then dumps
        reps=3,
        warmup=0,
        server="data",
        check=data_tools.b13_round_trip,
    ),
)
