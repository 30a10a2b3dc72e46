"""``AsyncClient``: performs the effects of ``BaseClient``'s operations with ``httpx``.

The loop that runs an operation is the async trampoline (``trampoline.py``); this
driver only performs one effect at a time, from a table: a request goes to the
network (or to a replaced session), a sleep to ``asyncio.sleep``, file I/O to a
thread (``asyncio.to_thread``), so that the event loop never waits on a disk, and a
request sent ahead (``Start``) to a task.
"""

from __future__ import annotations

import asyncio
import inspect
from asyncio import ensure_future, get_running_loop, to_thread
from asyncio import sleep as pass_turn  # not the Sleep effect's (which tests replace)
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Mapping
from typing import Any

from kintorm.client.base import BaseClient
from kintorm.client.effects import (
    FILE_EFFECTS,
    Effect,
    FileEffect,
    Finish,
    Sleep,
    Start,
    Started,
    Stream,
)
from kintorm.client.exceptions import TransportError
from kintorm.client.messages import Request
from kintorm.client.operation import AsyncDriver
from kintorm.client.session import call_session, response_from
from kintorm.client.sync import Client
from kintorm.client.transport import HttpxTransport, async_http


class PageStream(AsyncIterator[Any]):
    """What an AsyncClient's page streams return: ``async for page in ...`` fetches one
    page at a time; ``await``-ing it (kinto-http's ``pages = await
    client.get_paginated_records()``) fetches them all and gives their list."""

    def __init__(self, pages: AsyncGenerator[Any, None]) -> None:
        self._pages = pages

    def __aiter__(self) -> PageStream:
        return self

    async def __anext__(self) -> Any:
        return await self._pages.__anext__()

    async def aclose(self) -> None:
        await self._pages.aclose()

    def __await__(self) -> Generator[Any, None, list[Any]]:
        return self._all().__await__()

    async def _all(self) -> list[Any]:
        return [page async for page in self._pages]


class AsyncClient(BaseClient, AsyncDriver):
    """The asynchronous Kinto client: every ``Client`` method, awaited."""

    @property
    def _library(self) -> str:  # type: ignore[override]
        return str(async_http().__name__)  # httpx2 or httpx

    def _make_transport(self, verify: bool | str) -> HttpxTransport:
        return HttpxTransport(verify=verify)

    async def _perform(self, effect: Effect) -> Any:
        perform = _PERFORM.get(type(effect))
        if perform is None:
            raise TypeError(f"{type(self).__name__} cannot perform {effect!r}")
        return await perform(self, effect)

    async def _request(self, request: Request) -> Any:
        answer = self._intercept(request)
        return answer if answer is not None else await self._exchange(request)

    async def _exchange(self, request: Request) -> Any:
        """Send ``request`` (to the network, or to a replaced session): its outcome."""
        router = self._router()
        if router is not None:  # a replaced session (a mock, in kinto-http's tests)
            try:
                outcome = call_session(router, request)
                if inspect.isawaitable(outcome):
                    outcome = await outcome
            except Exception as exc:
                outcome = exc
            return response_from(request, outcome)
        url, headers, auth = self._wire(request)
        try:
            return await self._transport.send(request, url, headers, self.timeout, auth)
        except TransportError as exc:
            return exc

    def run_stream(self, stream: Stream) -> PageStream:
        """Run the page stream ``stream``: ``async for`` its pages, or await their list."""
        pages: Any = super().run_stream(stream)
        return PageStream(pages)

    def _sync_twin(self, client: BaseClient) -> Client:
        """A sync client on ``client``'s state and credentials (with a ``requests``
        connection of its own), recording into the same batch: what kinto-http's form
        ``with await client.batch() as b:`` runs, whose calls are not awaited."""
        twin = Client(
            bucket=client.bucket_name,
            collection=client.collection_name,
            timeout=client.timeout,
            ignore_batch_4xx=client.ignore_batch_4xx,
            _share=client,
        )
        twin._recorder = client._recorder
        return twin

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def _sleep(client: AsyncClient, effect: Sleep) -> None:
    await asyncio.sleep(effect.seconds)


async def _file(client: AsyncClient, effect: FileEffect) -> Any:
    return await to_thread(effect.run)


#: turns of the event loop that httpx takes to write a request on a kept connection
#: (measured with httpx's trace events): a request sent ahead is on the wire before
#: the work that follows its Start holds the loop
_TURNS_TO_SEND = 2


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark a finished task's exception as seen: one whose answer was given up (its
    handle cancelled once it had failed) logs nothing. Awaiting it still raises."""
    if not task.cancelled():
        task.exception()


async def _start(client: AsyncClient, effect: Start) -> Started:
    """Send the request as a task. A request the driver answers itself (batch, dry mode)
    is answered now; one for a replaced session is left for Finish (the session gets
    it when it is needed)."""
    request = effect.request
    answer = client._intercept(request)
    if answer is not None:
        answered = get_running_loop().create_future()
        answered.set_result(answer)
        return Started(request, answered)
    if client._router() is not None:
        return Started(request)
    task = ensure_future(client._exchange(request))
    task.add_done_callback(_retrieve)
    try:
        for _ in range(_TURNS_TO_SEND):
            await pass_turn(0)
    except BaseException:  # cancelled before the handle is out: nobody else could end it
        task.cancel()
        raise
    return Started(request, task)


async def _finish(client: AsyncClient, effect: Finish) -> Any:
    started = effect.started
    if started.future is None:
        return await client._exchange(started.request)
    return await started.future


#: how the async driver performs each kind of effect
_PERFORM: Mapping[type, Callable[[AsyncClient, Any], Awaitable[Any]]] = {
    Request: AsyncClient._request,
    Sleep: _sleep,
    Start: _start,
    Finish: _finish,
    **{kind: _file for kind in FILE_EFFECTS},
}
