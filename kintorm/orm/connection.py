"""The default client used by models that were not given one (``connect()``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from kintorm.client.base import BaseClient
from kintorm.client.operation import Stream, SyncDriver
from kintorm.client.protocol import Op
from kintorm.client.sync import Client

__all__ = ["connect", "disconnect", "get_default_client", "run_sync", "stream_sync"]

T = TypeVar("T")

_default: BaseClient | None = None


def connect(server_url: str | None = None, /, *, client: Any = None, **kwargs: Any) -> Client:
    """Make the default client of every model without one of its own, and return it.

    ``connect("http://localhost:8888/v1", auth=("alice", "s3cret"), bucket="blog")``
    takes the arguments of :class:`~kintorm.Client`; ``connect(client=existing)``
    installs a client you built.
    """
    global _default
    if client is None:
        if server_url is None:
            raise ValueError("connect() needs a server URL or client=")
        client = Client(server_url=server_url, **kwargs)
    elif server_url is not None or kwargs:
        raise ValueError("connect(client=...) takes no other argument")
    _default = client
    return client  # type: ignore[no-any-return]


def disconnect() -> None:
    """Forget the default client."""
    global _default
    _default = None


def get_default_client() -> BaseClient:
    if _default is None:
        raise RuntimeError(
            "no Kinto client: call kintorm.connect(server_url, auth=...) first, bind one "
            "with Model.bind(client), or use Model.objects.using(client)"
        )
    return _default


def stream_sync(client: BaseClient, stream: Stream) -> Iterator[Any]:
    """Run a page stream on a synchronous client: an iterator of pages."""
    if not isinstance(client, SyncDriver):
        stream.close()
        raise TypeError(
            f"{type(client).__name__} is asynchronous: use 'async for' and the a-prefixed twins"
        )
    return client._stream(stream)


def run_sync(client: BaseClient, op: Op[T]) -> T:
    """Run an operation on a synchronous client."""
    if not isinstance(client, SyncDriver):
        op.close()
        raise TypeError(
            f"{type(client).__name__} is asynchronous: use the awaited twins (asave, aget, ...)"
        )
    return client._run(op)
