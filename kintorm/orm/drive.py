"""How the mapper's actions run on a sync or an async client.

An *action* is a client operation (a generator of effects, see
``kintorm.client.effects``) that may also yield :class:`Fanout`: independent
operations whose results it needs together (the chunks of a bulk_create). The
client's trampolines run both: the sync one runs a fan-out's operations one
after the other, the async one concurrently, at most ``limit`` at a time and
fewer while the server pushes back. Every mapper method, sync or
``a``-prefixed, is one line handing the same action to :func:`run_sync` or
:func:`run_async`, which also refuse the wrong kind of client with the call to
use instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any, TypeVar

from kintorm.client.base import BaseClient
from kintorm.client.effects import CONCURRENCY, Action, Fanout, Stream
from kintorm.client.operation import AsyncDriver, SyncDriver

__all__ = [
    "CONCURRENCY",
    "Action",
    "Fanout",
    "run_async",
    "run_sync",
    "stream_async",
    "stream_sync",
]

T = TypeVar("T")
D = TypeVar("D", SyncDriver, AsyncDriver)


def _driver(
    client: BaseClient, kind: type[D], gen: Generator[Any, Any, Any], call: str, instead: str
) -> D:
    """``client`` when it is a ``kind`` driver; else TypeError naming ``instead``."""
    if isinstance(client, kind):
        return client
    gen.close()
    mode = "an asynchronous" if isinstance(client, AsyncDriver) else "a synchronous"
    raise TypeError(f"{call} cannot run on {type(client).__name__}, {mode} client: use {instead}")


def run_sync(
    client: BaseClient,
    action: Action[T],
    call: str = "this call",
    instead: str = "the awaited twin (asave, aget, acount...)",
) -> T:
    """Run ``action`` on a synchronous client; TypeError naming ``instead`` otherwise."""
    return _driver(client, SyncDriver, action, call, instead).run(action)


def stream_sync(
    client: BaseClient,
    stream: Stream,
    call: str = "iterating",
    instead: str = "'async for'",
) -> Iterator[Any]:
    """Run a page stream on a synchronous client: an iterator of what it emits."""
    return _driver(client, SyncDriver, stream, call, instead).run_stream(stream)


async def run_async(
    client: BaseClient,
    action: Action[T],
    call: str = "this call",
    instead: str = "the sync method (save, get, count...)",
) -> T:
    """Await ``action`` on an asynchronous client; TypeError naming ``instead`` otherwise."""
    return await _driver(client, AsyncDriver, action, call, instead).run(action)


def stream_async(
    client: BaseClient,
    stream: Stream,
    call: str = "async for",
    instead: str = "a plain 'for'",
) -> AsyncIterator[Any]:
    """Run a page stream on an asynchronous client: an async iterator of what it emits."""
    return _driver(client, AsyncDriver, stream, call, instead).run_stream(stream)
