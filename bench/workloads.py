"""The workloads of issue 5: each a kinto-http side (the anchor) and a kintorm side.

A side is ``side(ctx) -> callable``: the untimed setup (seeding a fresh
collection, loading a record) happens in ``side``; the callable it returns is
what gets timed. Sizes are multiplied by ``ctx.scale`` (``--quick`` shrinks them).
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import kinto_http

import kintorm

try:  # the mapper may not be there yet: its rows say so instead of failing
    from kintorm import Record
except ImportError:  # pragma: no cover - depends on the state of kintorm.orm
    Record = None  # type: ignore[assignment,misc]

MAPPER_MISSING = "needs the mapper (kintorm.orm not available)"
BUCKET = "bench"


@dataclass
class Ctx:
    """One server, one client of each library, and the collections seeded on it."""

    server: Any
    backend: str
    scale: float
    anchor: kinto_http.Client
    client: kintorm.Client
    seeded: dict[str, list[str]] = field(default_factory=dict)
    _names: Any = field(default_factory=itertools.count)
    _transient: list[str] = field(default_factory=list)
    _shared: dict[str, str] = field(default_factory=dict)

    def n(self, count: int) -> int:
        return max(10, int(count * self.scale))

    def fresh(self, prefix: str, *, keep: bool = False) -> str:
        """A new empty collection. The transient ones made before are deleted first:
        Kinto's memory permission backend scans every object on each request, so the
        server would slow down run after run (and the side run second would pay more)."""
        for old in self._transient:
            self.client.delete_collection(id=old, bucket=BUCKET, if_exists=True)
            self.seeded.pop(old, None)
        self._transient.clear()
        name = f"{prefix}-{next(self._names)}"
        self.client.create_collection(id=name, bucket=BUCKET)
        if not keep:
            self._transient.append(name)
        return name

    def seed(self, prefix: str, records: list[dict[str, Any]], *, keep: bool = False) -> str:
        """A new collection holding ``records`` (through kintorm's batch); their ids
        are kept in ``seeded``."""
        name = self.fresh(prefix, keep=keep)
        with self.client.batch(collection=name) as batch:
            for record in records:
                batch.create_record(data=record)
        ids = [r["data"]["id"] for r in batch.results()]
        self.seeded[name] = ids
        return name

    def shared(self, key: str, count: int, make: Callable[[int], list[Any]] | None = None) -> str:
        """A collection of ``count`` records (todos unless ``make`` says otherwise),
        seeded once and reused until ``release`` drops it."""
        if key not in self._shared:
            name = self.seed(key, (make or todos)(count), keep=True)
            self._shared[key] = name
        return self._shared[key]

    def release(self, keep: set[str]) -> None:
        """Delete the shared collections whose key is not in ``keep``: a memory-backend
        Kinto scans every permission entry on each request, so 30,000 records left
        over from reads would slow every later workload's requests (both sides)."""
        for key in [k for k in self._shared if k not in keep]:
            name = self._shared.pop(key)
            self.client.delete_collection(id=name, bucket=BUCKET, if_exists=True)
            self.seeded.pop(name, None)


def todos(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"title": f"todo number {i}", "done": False, "n": i, "tags": ["a", "b"], **extra}
        for i in range(count)
    ]


WIDE_FIELDS = 50


def wide_record() -> dict[str, Any]:
    """50 fields: strings, numbers and a small list."""
    data: dict[str, Any] = {}
    for i in range(WIDE_FIELDS):
        kind = i % 3
        data[f"f{i:02d}"] = (
            f"value of field {i} " * 3 if kind == 0 else i * 1000 if kind == 1 else [i, i + 1]
        )
    return data


def model(collection: str, fields: dict[str, Any]) -> Any:
    """A Record subclass bound to ``collection`` (bucket from the client)."""

    def body(ns: dict[str, Any]) -> None:
        ns["__annotations__"] = dict(fields)
        ns["__module__"] = __name__

    return types.new_class("M", (Record,), {"collection": collection}, body)


TODO_FIELDS = {"title": str, "done": bool, "n": int, "tags": list[str]}


def wide_fields() -> dict[str, Any]:
    sample = wide_record()
    return {k: type(v) if not isinstance(v, list) else list[int] for k, v in sample.items()}


# --- B1 read 10,000 records ------------------------------------------------------


def b1_anchor(ctx: Ctx) -> Callable[[], Any]:
    name = ctx.shared("read", ctx.n(10_000))
    return lambda: ctx.anchor.get_records(bucket=BUCKET, collection=name)


def b1_kintorm(ctx: Ctx) -> Callable[[], Any]:
    name = ctx.shared("read", ctx.n(10_000))
    todo = model(name, TODO_FIELDS)
    return lambda: list(todo.objects.using(ctx.client))


# --- B2 iterate 20,000 records ------------------------------------------------------


def _drain(pages: Any) -> int:
    total = 0
    for page in pages:  # kinto-http yields each response body, kintorm each list
        total += len(page["data"] if isinstance(page, dict) else page)
    return total


def b2_anchor_20(ctx: Ctx) -> Callable[[], Any]:
    # get_records(_limit=20, pages=inf) recurses once per page: see probe_recursion().
    # The anchor is its page generator, which also recurses (``yield from`` itself).
    name = ctx.shared("iterate", ctx.n(20_000))
    return lambda: _drain(
        ctx.anchor.get_paginated_records(bucket=BUCKET, collection=name, _limit=20)
    )


def b2_kintorm_20(ctx: Ctx) -> Callable[[], Any]:
    name = ctx.shared("iterate", ctx.n(20_000))
    return lambda: _drain(
        ctx.client.get_paginated_records(bucket=BUCKET, collection=name, _limit=20)
    )


def b2_anchor_1000(ctx: Ctx) -> Callable[[], Any]:
    name = ctx.shared("iterate", ctx.n(20_000))
    return lambda: len(
        ctx.anchor.get_records(bucket=BUCKET, collection=name, _limit=1000, pages=float("inf"))
    )


def b2_kintorm_1000(ctx: Ctx) -> Callable[[], Any]:
    name = ctx.shared("iterate", ctx.n(20_000))
    return lambda: _drain(
        ctx.client.get_paginated_records(bucket=BUCKET, collection=name, _limit=1000)
    )


def probe_recursion(ctx: Ctx) -> str:
    """What kinto-http's ``get_records`` does with 1,000 pages of 20 (it recurses)."""
    name = ctx.shared("iterate", ctx.n(20_000))
    pages = len(ctx.seeded[name]) // 20
    counter = {"pages": 0}
    session = ctx.anchor.session
    original = session.request

    def counting(*args: Any, **kwargs: Any) -> Any:
        counter["pages"] += 1
        return original(*args, **kwargs)

    session.request = counting
    try:
        records = ctx.anchor.get_records(
            bucket=BUCKET, collection=name, _limit=20, pages=float("inf")
        )
    except RecursionError:
        return (
            f"kinto-http get_records(_limit=20, pages=inf) over {pages} pages: RecursionError "
            f"after {counter['pages']} requests (recursion limit {sys.getrecursionlimit()}), "
            "nothing returned; kintorm get_paginated_records and get_records loop instead"
        )
    finally:
        session.request = original
    return (
        f"kinto-http get_records(_limit=20, pages=inf) over {pages} pages: worked "
        f"({len(records)} records, {counter['pages']} requests, one stack frame per page)"
    )


# --- B3 bulk_create 5,000 ---------------------------------------------------------------


def b3_anchor(ctx: Ctx) -> Callable[[], Any]:
    name = ctx.fresh("create")
    records = todos(ctx.n(5_000))

    def run() -> None:
        with ctx.anchor.batch(bucket=BUCKET, collection=name) as batch:
            for record in records:
                batch.create_record(data=record)

    return run


def b3_kintorm(ctx: Ctx) -> Callable[[], Any]:
    name = ctx.fresh("create")
    todo = model(name, TODO_FIELDS)
    objs = [todo(**record) for record in todos(ctx.n(5_000))]
    return lambda: todo.objects.using(ctx.client).bulk_create(objs)


# --- B4 update 1,000 ----------------------------------------------------------------------


def b4_anchor(ctx: Ctx) -> Callable[[], Any]:
    name = ctx.seed("update", todos(ctx.n(1_000)))

    def run() -> None:
        for record in ctx.anchor.get_records(bucket=BUCKET, collection=name, _fields="id"):
            ctx.anchor.patch_record(
                id=record["id"], bucket=BUCKET, collection=name, data={"done": True}
            )

    return run


def b4_kintorm(ctx: Ctx) -> Callable[[], Any]:
    name = ctx.seed("update", todos(ctx.n(1_000)))
    todo = model(name, TODO_FIELDS)
    return lambda: todo.objects.using(ctx.client).update(done=True)


# --- B5 count 10,000 ------------------------------------------------------------------------


def b5_anchor(ctx: Ctx) -> Callable[[], Any]:
    name = ctx.shared("read", ctx.n(10_000))
    return lambda: len(ctx.anchor.get_records(bucket=BUCKET, collection=name))


def b5_kintorm(ctx: Ctx) -> Callable[[], Any]:
    name = ctx.shared("read", ctx.n(10_000))
    todo = model(name, TODO_FIELDS)
    return lambda: todo.objects.using(ctx.client).count()


# --- B6 save one changed field of 50 ---------------------------------------------------------


def _wide(ctx: Ctx) -> str:
    return ctx.shared("wide", 20, lambda count: [wide_record() for _ in range(count)])


def b6_anchor(ctx: Ctx) -> Callable[[], Any]:
    name = _wide(ctx)
    record = ctx.anchor.get_record(id=ctx.seeded[name][0], bucket=BUCKET, collection=name)
    data = record["data"]
    data["f00"] = uuid.uuid4().hex
    return lambda: ctx.anchor.update_record(data=data, bucket=BUCKET, collection=name)


def b6_kintorm(ctx: Ctx) -> Callable[[], Any]:
    name = _wide(ctx)
    wide = model(name, wide_fields())
    obj = wide.objects.using(ctx.client).get(id=ctx.seeded[name][1])
    obj.f00 = uuid.uuid4().hex
    return obj.save


# --- B7 2,000 get_record ---------------------------------------------------------------------


B7_CALLS = 2_000


def _ids(ctx: Ctx) -> tuple[str, list[str]]:
    name = ctx.shared("read", ctx.n(10_000))
    ids = ctx.seeded[name]
    calls = ctx.n(B7_CALLS)
    return name, [ids[i % len(ids)] for i in range(calls)]


def b7_anchor(ctx: Ctx) -> Callable[[], Any]:
    name, ids = _ids(ctx)

    def run() -> None:
        for record_id in ids:
            ctx.anchor.get_record(id=record_id, bucket=BUCKET, collection=name)

    return run


def b7_kintorm(ctx: Ctx) -> Callable[[], Any]:
    name, ids = _ids(ctx)

    def run() -> None:
        for record_id in ids:
            ctx.client.get_record(id=record_id, bucket=BUCKET, collection=name)

    return run


# --- B8 concurrent bulk_create on PostgreSQL --------------------------------------------------

B8_CONCURRENCY = 4


def b8_anchor(ctx: Ctx) -> Callable[[], Any]:
    """kinto-http's sequential batches: the same work as B3's anchor (when both run,
    B8 reuses B3's anchor runs rather than timing the same thing twice)."""
    return b3_anchor(ctx)


def b8_kintorm(ctx: Ctx) -> Callable[[], Any]:
    """``abulk_create(concurrency=4)`` on an ``AsyncClient``: batch chunks in flight four
    at a time, sub-requests rolled back by a 409 re-sent; then a HEAD count checks
    that every record exists. The client is opened inside the timing (its
    connections belong to the event loop ``asyncio.run`` makes)."""
    name = ctx.fresh("concurrent")
    todo = model(name, TODO_FIELDS)
    objs = [todo(**record) for record in todos(ctx.n(5_000))]
    server, auth = ctx.server.url, ctx.server.admin_auth

    async def create() -> None:
        async with kintorm.AsyncClient(server_url=server, auth=auth, bucket=BUCKET) as client:
            objects = todo.objects.using(client)
            await objects.abulk_create(objs, concurrency=B8_CONCURRENCY)
            count = await objects.acount()
        if count != len(objs):
            raise AssertionError(f"{count} of {len(objs)} records created")

    return lambda: asyncio.run(create())


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    id: str
    title: str
    target: str
    metric: str  # the figure the target is about: wall, cpu, memory, bytes
    limit: float  # kintorm/kinto-http ratio of that figure must be <= limit
    anchor: Callable[[Ctx], Callable[[], Any]]
    kintorm: Callable[[Ctx], Callable[[], Any]]
    also: tuple[tuple[str, float], ...] = ()  # more (figure, limit) pairs
    mapper: bool = False
    memory: bool = False
    wire: bool = False
    per_call: int = 1  # divide the figures by this (per-call figures)
    backends: tuple[str, ...] = ("memory", "postgresql")
    uses: tuple[str, ...] = ()  # the shared collections it reads (see Ctx.release)
    anchor_of: str | None = None  # its anchor is that workload's: measured once for both
    reps: int | None = None  # fewer repetitions for the slowest workloads
    warmup: int | None = None


WORKLOADS = (
    Workload(
        "B1",
        "read 10,000 records: model instances vs get_records() dicts",
        "wall ≤ 1.10x, client CPU ≤ 1.5x",
        "wall",
        1.10,
        b1_anchor,
        b1_kintorm,
        also=(("cpu", 1.5),),
        mapper=True,
        uses=("read",),
    ),
    Workload(
        "B2a",
        "iterate 20,000 records, page size 20 (1,000 pages): get_paginated_records",
        "works with 1,000 pages",
        "wall",
        float("inf"),
        b2_anchor_20,
        b2_kintorm_20,
        reps=1,  # server-bound (~0.1 s a page on the memory backend); the target is "works"
        warmup=0,
        uses=("iterate",),
    ),
    Workload(
        "B2b",
        "iterate 20,000 records, page size 1,000: get_paginated_records vs get_records",
        "peak memory ≤ 0.20x",
        "memory",
        0.20,
        b2_anchor_1000,
        b2_kintorm_1000,
        memory=True,
        uses=("iterate",),
    ),
    Workload(
        "B3",
        "bulk_create 5,000 vs kinto-http batch create_record",
        "wall ≤ 1.0x",
        "wall",
        1.0,
        b3_anchor,
        b3_kintorm,
        mapper=True,
    ),
    Workload(
        "B4",
        "QuerySet.update(done=True) over 1,000 vs sequential patch_record",
        "≥ 5x faster (wall ≤ 0.20x)",
        "wall",
        0.20,
        b4_anchor,
        b4_kintorm,
        mapper=True,
    ),
    Workload(
        "B5",
        "count() of 10,000 vs len(get_records())",
        "≥ 20x faster (wall ≤ 0.05x)",
        "wall",
        0.05,
        b5_anchor,
        b5_kintorm,
        mapper=True,
        uses=("read",),
    ),
    Workload(
        "B6",
        "save() one changed field of 50 vs update_record: request body",
        "body ≤ 0.10x",
        "bytes",
        0.10,
        b6_anchor,
        b6_kintorm,
        mapper=True,
        wire=True,
        backends=("memory",),
        uses=("wide",),
    ),
    Workload(
        "B7",
        "2,000 get_record calls (figures per call)",
        "client CPU per call ≤ 1.2x",
        "cpu",
        1.2,
        b7_anchor,
        b7_kintorm,
        per_call=B7_CALLS,
        uses=("read",),
    ),
    Workload(
        "B8",
        "abulk_create 5,000, 4 chunks in flight vs sequential batches",
        "≥ 3x faster (wall ≤ 0.33x), all created",
        "wall",
        1 / 3,
        b8_anchor,
        b8_kintorm,
        mapper=True,
        backends=("postgresql",),
        anchor_of="B3",
    ),
)
