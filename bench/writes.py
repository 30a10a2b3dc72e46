"""The writing sides: B3 (bulk_create), B4 (update: the raw batch floor), B6 (save one
field of 50), B8 (abulk_create, 4 chunks in flight).

A side is ``side(ctx) -> callable``: the untimed setup (seeding a fresh collection,
loading a record) happens in ``side``; the callable it returns is what gets timed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import kintorm
from bench.context import BUCKET, TODO_FIELDS, Ctx, model, todos, wide_fields, wide_record

Side = Callable[[], Any]

# --- B3 bulk_create; B8 the same, 4 chunks in flight -----------------------------------------

B3_RECORDS, B3_RECORDS_PG = 5_000, 1_000  # PostgreSQL: ~20 ms a created record


def b3_anchor(ctx: Ctx) -> Side:
    name = ctx.fresh("create")
    records = todos(ctx.n(B3_RECORDS, B3_RECORDS_PG))

    def run() -> None:
        with ctx.anchor.batch(bucket=BUCKET, collection=name) as batch:
            for record in records:
                batch.create_record(data=record)

    return run


def b3_kintorm(ctx: Ctx) -> Side:
    name = ctx.fresh("create")
    todo = model(name, TODO_FIELDS)
    objs = [todo(**record) for record in todos(ctx.n(B3_RECORDS, B3_RECORDS_PG))]
    return lambda: todo.objects.using(ctx.client).bulk_create(objs)


B8_CONCURRENCY = 4


def b8_kintorm(ctx: Ctx) -> Side:
    """``abulk_create(concurrency=4)`` on an ``AsyncClient``: batch chunks in flight four
    at a time, sub-requests rolled back by a 409 re-sent; then a HEAD count checks
    that every record exists. The client is opened inside the timing (its
    connections belong to the event loop ``asyncio.run`` makes)."""
    name = ctx.fresh("concurrent")
    todo = model(name, TODO_FIELDS)
    objs = [todo(**record) for record in todos(ctx.n(B3_RECORDS, B3_RECORDS_PG))]
    server, auth = ctx.server.url, ctx.server.admin_auth

    async def create() -> None:
        async with kintorm.AsyncClient(server_url=server, auth=auth, bucket=BUCKET) as client:
            objects = todo.objects.using(client)
            await objects.abulk_create(objs, concurrency=B8_CONCURRENCY)
            count = await objects.acount()
        if count != len(objs):
            raise AssertionError(f"{count} of {len(objs)} records created")

    return lambda: asyncio.run(create())


# --- B4 update 1,000: against the raw batch ----------------------------------------------------

B4_RECORDS = 1_000


def b4_floor(ctx: Ctx) -> Side:
    """The same PATCHes as ``QuerySet.update`` (one listing of ids and versions, then
    ``If-Match`` PATCHes in chunks of ``batch_max_requests``), through ``requests``."""
    name = ctx.seed("update", todos(ctx.n(B4_RECORDS)))
    url, size = ctx.records_url(name), ctx.batch_size()
    path = url.split("/v1", 1)[1]

    def run() -> None:
        listed = ctx.raw.get(url, params={"_fields": "id"}, timeout=60).json()["data"]
        subs = [
            {
                "method": "PATCH",
                "path": f"{path}/{r['id']}",
                "headers": {"If-Match": f'"{r["last_modified"]}"'},
                "body": {"data": {"done": True}},
            }
            for r in listed
        ]
        for start in range(0, len(subs), size):
            body = {"requests": subs[start : start + size]}
            answer = ctx.raw.post(f"{ctx.server.url}/batch", json=body, timeout=120)
            statuses = {r["status"] for r in answer.json()["responses"]}
            if statuses != {200}:
                raise AssertionError(f"raw batch answered {sorted(statuses)}")

    return run


def b4_anchor(ctx: Ctx) -> Side:
    name = ctx.seed("update", todos(ctx.n(B4_RECORDS)))

    def run() -> None:
        for record in ctx.anchor.get_records(bucket=BUCKET, collection=name, _fields="id"):
            ctx.anchor.patch_record(
                id=record["id"], bucket=BUCKET, collection=name, data={"done": True}
            )

    return run


def b4_kintorm(ctx: Ctx) -> Side:
    name = ctx.seed("update", todos(ctx.n(B4_RECORDS)))
    todo = model(name, TODO_FIELDS)
    return lambda: todo.objects.using(ctx.client).update(done=True)


# --- B6 save one changed field of 50 ---------------------------------------------------------


def _wide(ctx: Ctx) -> str:
    return ctx.shared("wide", 20, lambda count: [wide_record() for _ in range(count)])


def b6_anchor(ctx: Ctx) -> Side:
    name = _wide(ctx)
    record = ctx.anchor.get_record(id=ctx.seeded[name][0], bucket=BUCKET, collection=name)
    data = record["data"]
    data["f00"] = uuid.uuid4().hex
    return lambda: ctx.anchor.update_record(data=data, bucket=BUCKET, collection=name)


def b6_kintorm(ctx: Ctx) -> Side:
    name = _wide(ctx)
    wide = model(name, wide_fields())
    obj = wide.objects.using(ctx.client).get(id=ctx.seeded[name][1])
    obj.f00 = uuid.uuid4().hex
    return obj.save
