"""``AsyncClient``: runs the operations of ``BaseClient`` with ``httpx``, on the event loop."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Generator
from typing import Any, TypeVar

from kintorm.client.base import BaseClient
from kintorm.client.exceptions import TransportError
from kintorm.client.operation import AsyncDriver, Stream
from kintorm.client.protocol import Emit, Op, Request, Sleep
from kintorm.client.resources import Batching
from kintorm.client.session import call_session, response_from
from kintorm.client.sync import Client
from kintorm.client.transport import HttpxTransport

T = TypeVar("T")


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

    _library = "httpx"

    def _make_transport(self, verify: bool | str) -> HttpxTransport:
        return HttpxTransport(verify=verify)

    async def _perform(self, effect: Request | Sleep | Emit) -> Any:
        if isinstance(effect, Emit):
            raise TypeError("a page stream was run as a single operation")
        if isinstance(effect, Sleep):
            await asyncio.sleep(effect.seconds)
            return None
        router = self._router()
        if router is not None:  # a replaced session (a mock, in kinto-http's tests)
            try:
                outcome = call_session(router, effect)
                if inspect.isawaitable(outcome):
                    outcome = await outcome
            except Exception as exc:
                outcome = exc
            return response_from(effect, outcome)
        url, headers, auth = self._wire(effect)
        try:
            return await self._transport.send(effect, url, headers, self.timeout, auth)
        except TransportError as exc:
            return exc

    async def _arun(self, op: Op[T]) -> T:
        outcome: Any = None
        try:
            while True:
                outcome = await self._perform(op.send(outcome))
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except Batching:
            return None  # type: ignore[return-value]

    def _run(self, op: Op[T]) -> Any:
        return self._arun(op)

    def _stream(self, gen: Stream) -> PageStream:
        return PageStream(self._emitted(gen))

    async def _emitted(self, gen: Stream) -> AsyncGenerator[Any, None]:
        outcome: Any = None
        while True:
            try:
                effect = gen.send(outcome)
            except StopIteration:
                return
            if isinstance(effect, Emit):
                yield effect.value
                outcome = None
            else:
                outcome = await self._perform(effect)

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
