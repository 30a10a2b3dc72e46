"""Sending the next page's request ahead (``paginate(..., ahead=True)``), and the
``Start`` / ``Finish`` effects the drivers perform for it.

The page stream is stepped by hand first (sans-IO): the order of its effects is
the property. Then each driver performs the effects on the wire, and the mapper
asks for it where every page is read (``list(qs)``) and not where the consumer
may stop (``iterator()``).
"""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from collections.abc import Generator
from concurrent.futures import Future
from typing import Any

import attrs
import pytest

from kintorm import AsyncClient, Client
from kintorm.client.effects import Emit, Finish, Sleep, Start, Started
from kintorm.client.messages import Request, Response
from kintorm.client.pagination import paginate, relay
from kintorm.client.shared import Session
from kintorm.client.transport import Worker

from ._wire import SERVER, Wire

RECORDS = "/buckets/b/collections/c/records"
FIRST = Request("GET", RECORDS, (("_sort", "id"),))


def page_request(n: int) -> Request:
    return attrs.evolve(FIRST, params=(("_limit", "2"), ("_token", f"t{n}")))


def page(n: int, last: int = 3, **headers: str) -> Response:
    """The answer for page ``n`` of ``last``: ``{"data": [n]}``, linking to ``n + 1``."""
    if n < last:
        headers["Next-Page"] = f"{SERVER}{RECORDS}?_limit=2&_token=t{n + 1}"
    return Response(200, headers, json.dumps({"data": [n]}).encode())


def handle(request: Request) -> Started:
    """A driver's handle of a started request, its outcome still to come."""
    return Started(request, Future())


class Stepper:
    """Steps a page stream by hand, noting each effect and answering it."""

    def __init__(self, stream: Generator[Any, Any, Any]) -> None:
        self.stream = stream
        self.effect: Any = next(stream)

    def answer(self, outcome: Any) -> Any:
        self.effect = self.stream.send(outcome)
        return self.effect


def test_each_next_page_is_started_before_the_page_is_emitted() -> None:
    steps = Stepper(paginate(Session(SERVER), FIRST, ahead=True))
    assert steps.effect == FIRST
    assert steps.answer(page(1)) == Start(page_request(2))
    started = handle(page_request(2))
    assert steps.answer(started) == Emit([1])  # the server works on page 2 meanwhile
    assert steps.answer(None) == Finish(started)
    assert steps.answer(page(2)) == Start(page_request(3))
    third = handle(page_request(3))
    assert steps.answer(third) == Emit([2])
    assert steps.answer(None) == Finish(third)
    assert steps.answer(page(3)) == Emit([3])
    with pytest.raises(StopIteration):
        steps.answer(None)
    assert not started.future.cancelled() and not third.future.cancelled()


def test_without_ahead_each_page_is_asked_for_when_wanted() -> None:
    steps = Stepper(paginate(Session(SERVER), FIRST))
    assert steps.answer(page(1)) == Emit([1])
    assert steps.answer(None) == page_request(2)


@pytest.mark.parametrize(
    ("pages", "method", "headers"),
    [
        (1, "GET", {}),  # no page after the last one asked for
        (float("inf"), "DELETE", {}),  # a plural DELETE's pages are not asked for early
        (float("inf"), "GET", {"Backoff": "30"}),  # the server asked to wait
    ],
)
def test_no_page_is_started_where_it_may_not_be_wanted(
    pages: float, method: str, headers: dict[str, str]
) -> None:
    session = Session(SERVER, retry=1)
    first = attrs.evolve(FIRST, method=method)
    steps = Stepper(paginate(session, first, pages=pages, ahead=True))
    assert steps.answer(page(1, **headers)) == Emit([1])
    if pages == 1:
        with pytest.raises(StopIteration):
            steps.answer(None)
        return
    after = steps.answer(None)
    if headers:
        assert isinstance(after, Sleep)
        after = steps.answer(None)
    assert after == attrs.evolve(page_request(2), method=method)


def test_a_stream_closed_early_cancels_the_page_it_started() -> None:
    steps = Stepper(paginate(Session(SERVER), FIRST, ahead=True))
    steps.answer(page(1))
    started = handle(page_request(2))
    assert steps.answer(started) == Emit([1])
    steps.stream.close()
    assert started.future.cancelled()


def refuse(page: list[Any]) -> tuple[list[Any], bool]:
    raise ValueError(f"cannot load {page}")


def test_a_relay_whose_page_fails_to_load_cancels_the_page_started() -> None:
    """``on_page`` raising (a record the model cannot load) ends the relay and the
    stream under it at once, not when nothing holds that stream any more (here the
    test does, as a traceback's frame may): the page sent ahead is not left running."""
    pages = paginate(Session(SERVER), FIRST, ahead=True)
    steps = Stepper(relay(pages, refuse))
    steps.answer(page(1))
    started = handle(page_request(2))
    with pytest.raises(ValueError, match=r"cannot load \[1\]"):
        steps.answer(started)
    assert started.future.cancelled()


def test_a_relay_closed_by_its_caller_cancels_the_page_started() -> None:
    pages = paginate(Session(SERVER), FIRST, ahead=True)
    stream = relay(pages, lambda page: (page, False))
    steps = Stepper(stream)
    steps.answer(page(1))
    started = handle(page_request(2))
    assert steps.answer(started) == Emit(1)
    stream.close()
    assert started.future.cancelled()


def test_a_link_to_another_origin_is_refused_where_it_was_before() -> None:
    steps = Stepper(paginate(Session(SERVER), FIRST, ahead=True))
    elsewhere = Response(200, {"Next-Page": "http://evil.test/v1/x"}, b'{"data": [1]}')
    assert steps.answer(elsewhere) == Emit([1])  # nothing started
    with pytest.raises(Exception, match="refusing to follow a link to another origin"):
        steps.answer(None)


def garbled(n: int) -> Response:
    """Page ``n``'s answer cut short (its headers whole)."""
    whole = page(n)
    return attrs.evolve(whole, content=whole.content[:5])


def test_a_page_re_sent_after_a_cut_body_keeps_the_next_page_started_once() -> None:
    steps = Stepper(paginate(Session(SERVER, retry=1), FIRST, ahead=True))
    assert steps.answer(garbled(1)) == Start(page_request(2))  # its headers were whole
    started = handle(page_request(2))
    assert isinstance(steps.answer(started), Sleep)  # then page 1 is sent again
    assert steps.answer(None) == FIRST
    assert steps.answer(page(1)) == Emit([1])  # the same link: started already
    assert steps.answer(None) == Finish(started)


def test_a_page_re_sent_that_links_elsewhere_drops_the_page_started() -> None:
    steps = Stepper(paginate(Session(SERVER, retry=1), FIRST, ahead=True))
    steps.answer(garbled(1))
    started = handle(page_request(2))
    steps.answer(started)
    steps.answer(None)
    moved = Response(200, {"Next-Page": f"{SERVER}{RECORDS}?_token=moved"}, b'{"data": [1]}')
    assert steps.answer(moved) == Emit([1])
    assert steps.answer(None) == attrs.evolve(FIRST, params=(("_token", "moved"),))
    assert started.future.cancelled()


# --- the drivers ------------------------------------------------------------------------


def three_pages(wire: Wire) -> None:
    for n in (1, 2, 3):
        response = page(n)
        wire.reply("GET", RECORDS, json=json.loads(response.content), headers=response.headers)


def senders(wire: Wire) -> list[Any]:
    """Who sends each request from now on: its thread (sync) or its task (async)."""
    who: list[Any] = []

    def note(call: Any) -> None:
        who.append(asyncio.current_task() if wire.is_async else threading.current_thread())

    wire.on_call = note
    return who


def test_get_records_sends_every_page_after_the_first_ahead(wire: Wire) -> None:
    three_pages(wire)
    who = senders(wire)
    caller: list[Any] = []

    def call(client: Any) -> Any:
        if not wire.is_async:
            caller.append(threading.current_thread())
            return client.get_records(bucket="b", collection="c")

        async def go() -> Any:
            caller.append(asyncio.current_task())
            return await client.get_records(bucket="b", collection="c")

        return go()

    assert wire.run(call) == [1, 2, 3]
    tokens = [[("_limit", "2"), ("_token", f"t{n}")] for n in (2, 3)]
    assert [c.query for c in wire.calls] == [[], *tokens]
    assert who[0] is caller[0]
    assert caller[0] not in who[1:]  # the worker thread, or a task of their own
    if not wire.is_async:
        assert {thread.name for thread in who[1:]} == {"kintorm-ahead"}


def started_then_finished(request: Request) -> Generator[Any, Any, Any]:
    started = yield Start(request)
    return (yield Finish(started))


def test_start_then_finish_gives_what_the_request_would(wire: Wire) -> None:
    wire.ok("GET", "/buckets/b", {"id": "b"})
    op = started_then_finished(Request("GET", "/buckets/b"))
    response = wire.run(lambda client: client.run(op))
    assert response.status_code == 200 and response.json() == {"data": {"id": "b"}}
    assert [(c.method, c.path) for c in wire.calls] == [("GET", "/v1/buckets/b")]


def test_a_start_in_dry_mode_is_answered_without_sending(wire: Wire) -> None:
    op = started_then_finished(Request("GET", "/buckets/b"))
    response = wire.run(lambda client: client.run(op), wire.client(dry_mode=True))
    assert response.status_code == 200 and response.content == b"{}"
    assert wire.calls == []


def test_a_start_in_a_batch_is_recorded_and_ends_the_operation(wire: Wire) -> None:
    wire.reply("GET", "/", json={"settings": {"batch_max_requests": 25}})
    sub = {"status": 200, "path": "/v1/buckets/b", "headers": {}, "body": {"data": {"id": "b"}}}
    wire.reply("POST", "/batch", json={"responses": [sub]})
    ended: list[Any] = []

    def op() -> Generator[Any, Any, Any]:
        yield from started_then_finished(Request("GET", "/buckets/b"))
        ended.append("went on")

    b = wire.batch(wire.client(), lambda b: b.run(op()))
    assert b.results() == [{"data": {"id": "b"}}]
    assert wire.calls[1].json()["requests"] == [{"method": "GET", "path": "/buckets/b"}]
    assert ended == []


@pytest.mark.parametrize("kind", [Client, AsyncClient])
def test_a_replaced_session_gets_a_started_request_only_at_finish(kind: type) -> None:
    asked: list[str] = []

    class Mock:
        server_url = SERVER

        def request(self, method: str, path: str, **kwargs: Any) -> Any:
            asked.append(path)
            return {"data": {"id": "b"}}, {}

    def op() -> Generator[Any, Any, Any]:
        started = yield Start(Request("GET", "/buckets/b"))
        asked.append("started")
        return (yield Finish(started))

    result = kind(session=Mock()).run(op())
    response = asyncio.run(result) if kind is AsyncClient else result
    assert response.json() == {"data": {"id": "b"}}
    assert asked == ["started", "/buckets/b"]


def test_a_caller_cancelled_while_its_request_starts_cancels_the_request() -> None:
    """The async driver lets a started request's task begin before it hands out the
    handle; a caller cancelled meanwhile cancels that task (no one else could)."""
    ended: list[str] = []

    async def exchange(request: Request) -> Response:
        try:
            await asyncio.Event().wait()
        finally:
            ended.append(request.path)
        raise AssertionError("never answered")

    async def main() -> None:
        client = AsyncClient(server_url=SERVER)
        client._exchange = exchange  # type: ignore[method-assign]
        op = started_then_finished(Request("GET", "/buckets/b"))
        caller = asyncio.ensure_future(client.run(op))
        await asyncio.sleep(0)  # the caller is in the driver's turns, the task made
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        for _ in range(3):
            await asyncio.sleep(0)
        assert ended == ["/buckets/b"]

    asyncio.run(main())


def test_a_request_the_worker_has_not_taken_up_is_sent_by_finish(sync_wire: Wire) -> None:
    """The worker thread is busy (with another thread's request): Finish does not wait
    for it, and sends the request from the caller's thread."""
    sync_wire.ok("GET", "/buckets/b", {"id": "b"})
    who = senders(sync_wire)
    client = sync_wire.client()
    release = threading.Event()
    busy = client._transport.worker().submit(release.wait)
    try:
        op = started_then_finished(Request("GET", "/buckets/b"))
        assert client.run(op).json() == {"data": {"id": "b"}}
    finally:
        release.set()
    assert busy.result() is True
    assert who == [threading.current_thread()]


# --- the worker thread --------------------------------------------------------------------


def test_the_worker_runs_calls_in_turn_on_one_daemon_thread() -> None:
    worker = Worker()
    threads = [worker.submit(threading.current_thread) for _ in range(3)]
    failed = worker.submit(int, "not a number")
    found = {future.result(timeout=10) for future in threads}
    assert len(found) == 1 and found.pop().daemon
    with pytest.raises(ValueError, match="not a number"):
        failed.result(timeout=10)
    worker.stop()


def test_a_call_cancelled_while_queued_is_not_run() -> None:
    worker = Worker()
    release = threading.Event()
    ran: list[str] = []
    busy = worker.submit(release.wait)
    queued = worker.submit(ran.append, "queued")
    assert queued.cancel()
    release.set()
    last = worker.submit(ran.append, "last")
    assert busy.result(timeout=10) and last.result(timeout=10) is None
    assert ran == ["last"]
    worker.stop()


def test_closing_the_transport_closes_the_worker_session_and_ends_its_thread() -> None:
    client = Client(server_url=SERVER)
    transport = client._transport
    worker = transport.worker()
    thread = worker.submit(threading.current_thread).result(timeout=10)
    session = worker.submit(lambda: transport.session).result(timeout=10)
    closed: list[bool] = []
    session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    client.close()
    thread.join(timeout=10)
    assert closed == [True] and not thread.is_alive()
    assert transport.worker() is not worker  # a client used again starts another
    transport.close()


def test_a_transport_garbage_collected_ends_its_worker_thread() -> None:
    client = Client(server_url=SERVER)
    thread = client._transport.worker().submit(threading.current_thread).result(timeout=10)
    del client
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_client_dropped_after_a_listing_sent_ahead_ends_its_worker_thread(
    sync_wire: Wire,
) -> None:
    """The worker's last call held the client (a page sent ahead does): once it is
    done, the idle thread holds nothing, so a client never closed is still collected
    and its thread ends."""
    three_pages(sync_wire)
    who = senders(sync_wire)
    client = sync_wire.client()
    assert client.get_records(bucket="b", collection="c") == [1, 2, 3]
    threads = {thread for thread in who if thread.name == "kintorm-ahead"}
    assert len(threads) == 1
    del client
    gc.collect()
    thread = threads.pop()
    thread.join(timeout=10)
    assert not thread.is_alive()
