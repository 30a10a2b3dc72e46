"""The reading sides: B1 (models vs dicts, and B9/B10 per record), B2 (many pages),
B5 (count: the raw HEAD floor), B7 (get_record calls), B11 (a re-read answered 304).

A side is ``side(ctx) -> callable``: the untimed setup happens in ``side``; the
callable it returns is what gets timed. Sizes go through ``ctx.n`` (``--quick``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from bench.context import BUCKET, TODO_FIELDS, Ctx, model
from kintorm import ListingCache

Side = Callable[[], Any]

# --- B1 read N records as models; B9 per record at 1,000 and 50,000; B10 GC objects --------


def read_dicts(key: str, count: int) -> Callable[[Ctx], Side]:
    """kinto-http ``get_records()`` of a shared collection of ``count`` todos."""

    def side(ctx: Ctx) -> Side:
        name = ctx.shared(key, ctx.n(count))
        return lambda: ctx.anchor.get_records(bucket=BUCKET, collection=name)

    return side


def read_models(key: str, count: int) -> Callable[[Ctx], Side]:
    """``list(Model.objects.using(client))`` of a shared collection of ``count`` todos."""

    def side(ctx: Ctx) -> Side:
        name = ctx.shared(key, ctx.n(count))
        todo = model(name, TODO_FIELDS)
        return lambda: list(todo.objects.using(ctx.client))

    return side


def reread_models(key: str, count: int) -> Callable[[Ctx], Side]:
    """B11: ``list(Model.objects.using(client))`` again on an unchanged collection of
    ``count`` todos, through a client whose ``listing_cache`` holds the listing: a
    ``304 Not Modified``, then new instances decoded from the held pages."""

    def side(ctx: Ctx) -> Side:
        name = ctx.shared(key, ctx.n(count))
        todo = model(name, TODO_FIELDS)
        client = ctx.client.clone()
        client.listing_cache = ListingCache()
        list(todo.objects.using(client))  # the first read, held
        return lambda: list(todo.objects.using(client))

    return side


# --- B2 iterate many pages ------------------------------------------------------------------

B2A_RECORDS, B2A_PAGE = 5_000, 5  # 1,000 pages (kinto-http recurses once a page)


def _drain(pages: Any) -> int:
    total = 0
    for page in pages:  # kinto-http yields each response body, kintorm each list
        total += len(page["data"] if isinstance(page, dict) else page)
    return total


def _pages(ctx: Ctx) -> tuple[str, int]:
    """The B2a collection and its page size (1,000 pages at any scale)."""
    count = ctx.n(B2A_RECORDS)
    return ctx.shared("pages", count), max(1, count // 1000)


def b2_anchor_pages(ctx: Ctx) -> Side:
    # get_records(_limit=5, pages=inf) recurses once per page: see probe_recursion().
    # The anchor is its page generator, which also recurses (``yield from`` itself).
    name, size = _pages(ctx)
    return lambda: _drain(
        ctx.anchor.get_paginated_records(bucket=BUCKET, collection=name, _limit=size)
    )


def b2_kintorm_pages(ctx: Ctx) -> Side:
    name, size = _pages(ctx)
    return lambda: _drain(
        ctx.client.get_paginated_records(bucket=BUCKET, collection=name, _limit=size)
    )


def b2_anchor_1000(ctx: Ctx) -> Side:
    name = ctx.shared("iterate", ctx.n(20_000))
    return lambda: len(
        ctx.anchor.get_records(bucket=BUCKET, collection=name, _limit=1000, pages=float("inf"))
    )


def b2_kintorm_1000(ctx: Ctx) -> Side:
    name = ctx.shared("iterate", ctx.n(20_000))
    return lambda: _drain(
        ctx.client.get_paginated_records(bucket=BUCKET, collection=name, _limit=1000)
    )


def probe_recursion(ctx: Ctx) -> str:
    """What kinto-http's ``get_records`` does with 1,000 small pages (it recurses)."""
    name, size = _pages(ctx)
    pages = len(ctx.seeded[name]) // size
    counter = {"pages": 0}
    session = ctx.anchor.session
    original = session.request

    def counting(*args: Any, **kwargs: Any) -> Any:
        counter["pages"] += 1
        return original(*args, **kwargs)

    session.request = counting
    try:
        records = ctx.anchor.get_records(
            bucket=BUCKET, collection=name, _limit=size, pages=float("inf")
        )
    except RecursionError:
        return (
            f"kinto-http get_records(_limit={size}, pages=inf) over {pages} pages: "
            f"RecursionError after {counter['pages']} requests (recursion limit "
            f"{sys.getrecursionlimit()}), nothing returned; kintorm get_paginated_records "
            "and get_records loop instead"
        )
    finally:
        session.request = original
    return (
        f"kinto-http get_records(_limit={size}, pages=inf) over {pages} pages: worked "
        f"({len(records)} records, {counter['pages']} requests, one stack frame per page)"
    )


# --- B5 count 10,000: against a raw HEAD ------------------------------------------------------


def b5_floor(ctx: Ctx) -> Side:
    url = ctx.records_url(ctx.shared("read10k", ctx.n(10_000)))
    return lambda: int(ctx.raw.head(url, timeout=60).headers["Total-Records"])


def b5_anchor(ctx: Ctx) -> Side:
    name = ctx.shared("read10k", ctx.n(10_000))
    return lambda: len(ctx.anchor.get_records(bucket=BUCKET, collection=name))


def b5_kintorm(ctx: Ctx) -> Side:
    name = ctx.shared("read10k", ctx.n(10_000))
    todo = model(name, TODO_FIELDS)
    return lambda: todo.objects.using(ctx.client).count()


# --- B7 get_record calls -----------------------------------------------------------------------

B7_CALLS = 500


def _ids(ctx: Ctx) -> tuple[str, list[str]]:
    name = ctx.shared("read10k", ctx.n(10_000))
    ids = ctx.seeded[name]
    return name, [ids[i % len(ids)] for i in range(ctx.n(B7_CALLS))]


def b7_anchor(ctx: Ctx) -> Side:
    name, ids = _ids(ctx)

    def run() -> None:
        for record_id in ids:
            ctx.anchor.get_record(id=record_id, bucket=BUCKET, collection=name)

    return run


def b7_kintorm(ctx: Ctx) -> Side:
    name, ids = _ids(ctx)

    def run() -> None:
        for record_id in ids:
            ctx.client.get_record(id=record_id, bucket=BUCKET, collection=name)

    return run
