"""What only the async mapper has: the a-methods written out, the errors of calling
the wrong kind of method, and bulk requests sent concurrently with a bound.

(The rest of tests/orm runs every test in both modes through the ``orm`` fixture.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from kintorm import AsyncClient, Client, Record
from kintorm.orm import connection

from .conftest import Counter
from .models import Item


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for the whole test (the AsyncClient's connections live on it)."""
    with asyncio.Runner() as made:
        yield made


@pytest.fixture
def aclient(client: Client, runner: asyncio.Runner) -> Iterator[AsyncClient]:
    """An AsyncClient on the test's bucket; the default client stays the sync one."""
    made = AsyncClient(
        server_url=client.server_url,
        auth=client._credentials,
        bucket=client.bucket_name,
        collection=client.collection_name,
    )
    yield made
    runner.run(made.aclose())


def test_the_async_api_as_written(aclient: AsyncClient, runner: asyncio.Runner) -> None:
    async def main() -> None:
        objects = Item.objects.using(aclient)
        todo = await objects.acreate(title="write docs", n=1)
        assert todo.last_modified is not None
        todo.done = True
        await todo.asave()  # bound to aclient since it was made through it
        assert (await todo.arefresh()).done is True
        await objects.abulk_create([Item(title=f"t{i}", n=i + 2) for i in range(5)])
        assert [t.n async for t in objects.filter(n__gte=4).order_by("n")] == [4, 5, 6]
        assert [t.n async for t in objects.order_by("n").aiterator(page_size=2)] == [*range(1, 7)]
        assert await objects.acount() == 6 and await objects.filter(n=9).aexists() is False
        assert (await objects.aget(id=todo.id)).title == "write docs"
        assert await objects.filter(n__lt=2).avalues_list("n", flat=True) == [1]
        assert [c.id async for c in objects.achanges()][:1] == [todo.id]
        assert [e["action"] for e in await todo.ahistory()] == ["update", "create"]
        await todo.adelete()
        assert await objects.acount() == 5

    runner.run(main())


def test_bind_and_connect_take_an_async_client(
    aclient: AsyncClient, runner: asyncio.Runner
) -> None:
    class Note(Record, collection="items"):
        text: str

    async def main() -> None:
        Note.bind(aclient)
        try:
            note = await Note(text="hi").asave()
            assert (await Note.objects.aget(id=note.id)).text == "hi"
        finally:
            Note.bind(None)
        connection.connect(client=aclient)
        assert await Note.objects.acount() == 1

    runner.run(main())


def test_sync_calls_on_an_async_client_say_what_to_use(
    aclient: AsyncClient, runner: asyncio.Runner
) -> None:
    qs = Item.objects.using(aclient)
    cases = [
        (
            qs.count,
            "count() cannot run on AsyncClient, an asynchronous client: use await qs.acount()",
        ),
        (lambda: qs.get(id="x"), "await qs.aget()"),
        (lambda: qs.bulk_create([Item(title="a")]), "await qs.abulk_create()"),
        (lambda: qs.update(n=1), "await qs.aupdate()"),
        (lambda: list(qs), "'async for'"),
        (lambda: len(qs.filter(n=1)), "'async for'"),
        (lambda: qs.iterator(), "qs.aiterator()"),
        (lambda: qs.changes(), "qs.achanges()"),
    ]
    for call, message in cases:
        with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
            call()
    item = Item(title="a")
    Item.bind(aclient)
    try:
        with pytest.raises(
            TypeError, match=r"save\(\) cannot run on AsyncClient.*await item.asave"
        ):
            item.save()
        with pytest.raises(TypeError, match=r"await item.arefresh"):
            item.refresh()
    finally:
        Item.bind(None)


def test_async_calls_on_a_sync_client_say_what_to_use(
    client: Client, runner: asyncio.Runner
) -> None:
    qs = Item.objects.using(client)
    http = Counter(client)

    async def main() -> None:
        with pytest.raises(
            TypeError, match=r"acount\(\) cannot run on Client, a synchronous .*qs.count\(\)"
        ):
            await qs.acount()
        with pytest.raises(TypeError, match=r"use qs.bulk_create\(\)"):
            await qs.abulk_create([Item(title="a")])
        with pytest.raises(TypeError, match="plain 'for'"):
            [t async for t in qs]
        with pytest.raises(TypeError, match=r"qs.iterator\(\)"):
            qs.aiterator()
        with pytest.raises(TypeError, match=r"asave\(\) cannot run on Client.*item.save\(\)"):
            await Item(title="a").asave()  # the default client is sync

    runner.run(main())
    assert http.requests == []  # nothing was sent


def test_bulk_chunks_run_concurrently_within_the_bound(
    aclient: AsyncClient, runner: asyncio.Runner
) -> None:
    http = Counter(aclient, delay=0.05)  # each request stays in flight 50 ms
    objects = Item.objects.using(aclient)

    async def main() -> None:
        await aclient.server_info()
        http.reset()
        await objects.abulk_create([Item(title=f"c{i}", n=i) for i in range(200)])  # 8 chunks
        # 8 POSTs, plus re-sends of what Kinto rolled back after a 409 (on PostgreSQL)
        assert http.methods.count("POST") >= 8
        assert http.in_flight_max == 4  # the default bound, reached
        assert await objects.acount() == 200
        http.reset()
        await objects.abulk_create([Item(title="d", n=1000) for i in range(200)], concurrency=2)
        assert http.in_flight_max == 2
        http.reset()
        result = await objects.filter(n__lt=150).aupdate(done=True, concurrency=3)
        assert len(result.succeeded) == 150
        assert http.methods[0] == "GET" and http.methods.count("POST") >= 6
        assert set(http.methods[1:]) == {"POST"} and http.in_flight_max == 3
        http.reset()
        found = await objects.ain_bulk([f"missing-{i}" for i in range(350)])
        assert found == {} and http.methods == ["GET"] * 4 and 1 < http.in_flight_max <= 4

    runner.run(main())


def test_sync_bulk_chunks_go_one_after_the_other(client: Client) -> None:
    http = Counter(client)
    Item.objects.bulk_create([Item(title=f"c{i}") for i in range(100)])
    assert http.methods.count("POST") == 4 and http.in_flight_max == 1


def test_a_failed_chunk_does_not_hide_the_others(
    aclient: AsyncClient, client: Client, runner: asyncio.Runner
) -> None:
    """An item failing in one of the concurrent chunks fails alone, on its own index."""
    Item.objects.using(client).create(title="x", id="taken")

    async def main() -> None:
        objs = [Item(title=f"{i}", id=f"k{i:03d}") for i in range(100)]
        objs[80] = Item(title="dup", id="taken")
        result = await Item.objects.using(aclient).abulk_create(objs, raise_on_error=False)
        assert [o.id for o in result.failed] == ["taken"]
        assert await Item.objects.using(aclient).acount() == 100

    runner.run(main())


def test_aupdate_with_retry_under_concurrent_coroutines(
    aclient: AsyncClient, runner: asyncio.Runner
) -> None:
    """12 coroutines increment one record 4 times each; every increment is kept."""

    async def main() -> int:
        objects = Item.objects.using(aclient)
        counter = await objects.acreate(title="counter", n=0)
        assert counter.id is not None

        def bump(item: Item) -> None:
            item.n += 1

        async def writer() -> None:
            for _ in range(4):
                await objects.aupdate_with_retry(counter.id, bump, attempts=50)

        await asyncio.gather(*(writer() for _ in range(12)))
        return (await objects.aget(id=counter.id)).n

    assert runner.run(main()) == 48
