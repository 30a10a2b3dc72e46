"""The two trampolines (kintorm/client/trampoline.py): every operation, page stream
and fan-out runs through them; a driver only performs one effect at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest

from kintorm.client.effects import Await, Emit, Fanout, Sleep
from kintorm.client.messages import Request
from kintorm.client.trampoline import HALT, run_async, run_sync, stream_async, stream_sync

from ._wire import Wire


def echo(effect: Any) -> Any:
    """A driver answering each request with its path, and a sleep with None."""
    return effect.path if isinstance(effect, Request) else None


async def aecho(effect: Any) -> Any:
    await asyncio.sleep(0)
    return echo(effect)


def get(path: str) -> Generator[Any, Any, Any]:
    return (yield Request("GET", path))


def fanning(paths: list[str]) -> Generator[Any, Any, Any]:
    first = yield Request("GET", "/first")
    found = yield Fanout([get(p) for p in paths], limit=2)
    return [first, *found]


def failing() -> Generator[Any, Any, Any]:
    yield Sleep(0)
    raise ValueError("branch failed")


def run_both(op_factory: Any) -> list[Any]:
    return [run_sync(echo, op_factory()), asyncio.run(run_async(aecho, op_factory()))]


def test_a_fanout_gives_the_results_in_order() -> None:
    paths = [f"/r{i}" for i in range(5)]
    assert run_both(lambda: fanning(paths)) == [["/first", *paths]] * 2


def test_a_failed_branch_is_thrown_into_the_operation_that_fanned_out() -> None:
    log: list[str] = []

    def op() -> Generator[Any, Any, Any]:
        try:
            yield Fanout([get("/a"), failing()])
        except ValueError as exc:
            log.append(str(exc))
            return "recovered"
        return "not reached"

    assert run_both(op) == ["recovered", "recovered"]
    assert log == ["branch failed", "branch failed"]


def test_await_is_awaited_by_the_async_loop_and_refused_by_the_sync_one() -> None:
    """An operation awaiting the caller's code (an async model hook): its result or its
    error comes back into the operation; the sync loop closes the awaitable unawaited
    (no warning) and throws a TypeError into the operation instead."""
    seen: list[str] = []

    async def hook(value: str) -> str:
        await asyncio.sleep(0)
        seen.append(value)
        if value == "bad":
            raise ValueError("hook failed")
        return value.upper()

    def op() -> Generator[Any, Any, Any]:
        first = yield Await(hook("ok"))
        try:
            yield Await(hook("bad"))
        except ValueError as exc:
            return first, str(exc)
        raise AssertionError("not thrown")

    assert asyncio.run(run_async(aecho, op())) == ("OK", "hook failed")
    assert seen == ["ok", "bad"]
    with pytest.raises(TypeError, match=r"awaiting the caller's code.*synchronous client"):
        run_sync(echo, op())
    assert seen == ["ok", "bad"]  # never started: closed without running


def test_an_operation_may_not_emit() -> None:
    def emitting() -> Generator[Any, Any, Any]:
        yield Emit([1])
        return None

    with pytest.raises(TypeError, match="page stream was run as a single operation"):
        run_sync(echo, emitting())
    with pytest.raises(TypeError, match="page stream was run as a single operation"):
        asyncio.run(run_async(aecho, emitting()))


def test_a_stream_emits_as_it_is_consumed() -> None:
    performed: list[str] = []

    def perform(effect: Any) -> Any:
        performed.append(effect.path)
        return effect.path

    def pages() -> Generator[Any, Any, None]:
        for n in range(3):
            got = yield Request("GET", f"/p{n}")
            yield Emit([got])

    stream = stream_sync(perform, pages())
    assert next(stream) == ["/p0"]
    assert performed == ["/p0"]  # lazy: one page at a time
    assert list(stream) == [["/p1"], ["/p2"]]

    async def consume() -> list[Any]:
        return [page async for page in stream_async(aecho, pages())]

    assert asyncio.run(consume()) == [["/p0"], ["/p1"], ["/p2"]]


def test_halt_ends_the_operation_with_none_and_closes_it() -> None:
    seen: list[str] = []

    def op() -> Generator[Any, Any, Any]:
        try:
            yield Request("GET", "/recorded")
            seen.append("went on")
            yield Request("GET", "/never")
        except Exception as exc:  # nothing is raised through the operation
            seen.append(f"raised {type(exc).__name__}")
        finally:
            seen.append("closed")
        return "value"

    async def ahalt(effect: Any) -> Any:
        return HALT

    assert run_sync(lambda effect: HALT, op()) is None
    assert asyncio.run(run_async(ahalt, op())) is None
    assert seen == ["closed", "closed"]


def test_a_batch_client_records_its_first_request_and_ends_the_operation(wire: Wire) -> None:
    client = wire.client()
    wire.reply("GET", "/", json={"settings": {"batch_max_requests": 25}})
    subs = [{"status": 201, "path": "/v1/x", "headers": {}, "body": {"data": {"id": "r1"}}}]
    wire.reply("POST", "/batch", json={"responses": subs})
    b = wire.batch(client, lambda b: b.create_record(id="r1", bucket="b", collection="c"))
    assert b.results() == [{"data": {"id": "r1"}}]
    assert [call.method for call in wire.calls] == ["GET", "POST"]
    sent = wire.calls[1].json()["requests"]
    assert sent == [
        {
            "method": "PUT",
            "path": "/buckets/b/collections/c/records/r1",
            "headers": {"If-None-Match": "*", "Content-Type": "application/json"},
            "body": {},
        }
    ]
