"""``AsyncClient``: runs the operations of ``BaseClient`` with ``httpx``, on the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from kintorm.client.base import BaseClient
from kintorm.client.exceptions import TransportError
from kintorm.client.operation import AsyncDriver, Stream
from kintorm.client.protocol import Emit, Op, Request, Sleep
from kintorm.client.resources import Batching
from kintorm.client.transport import HttpxTransport

T = TypeVar("T")


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

    async def _stream(self, gen: Stream) -> AsyncIterator[Any]:
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

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
