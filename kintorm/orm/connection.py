"""The default client used by models that were not given one (``connect()``)."""

from __future__ import annotations

from typing import Any, TypeVar, overload

from kintorm.client.base import BaseClient
from kintorm.client.sync import Client

__all__ = ["connect", "disconnect", "get_default_client"]

_default: BaseClient | None = None


C = TypeVar("C", bound=BaseClient)


@overload
def connect(server_url: str, /, **kwargs: Any) -> Client: ...
@overload
def connect(*, client: C) -> C: ...
def connect(server_url: str | None = None, /, *, client: Any = None, **kwargs: Any) -> Any:
    """Make the default client of every model without one of its own, and return it.

    ``connect("http://localhost:8888/v1", auth=("alice", "s3cret"), bucket="blog")``
    takes the arguments of :class:`~kintorm.Client`; ``connect(client=existing)``
    installs a client you built (an ``AsyncClient`` for the ``a``-prefixed calls).
    """
    global _default
    if client is None:
        if server_url is None:
            raise ValueError("connect() needs a server URL or client=")
        client = Client(server_url=server_url, **kwargs)
    elif server_url is not None or kwargs:
        raise ValueError("connect(client=...) takes no other argument")
    _default = client
    return client


def disconnect() -> None:
    """Forget the default client."""
    global _default
    _default = None


def get_default_client() -> BaseClient:
    if _default is None:
        raise RuntimeError(
            "no Kinto client: call kintorm.connect(server_url, auth=...) first, bind one "
            "with Model.bind(client), use Model.objects.using(client), or make the calls "
            "inside 'with kintorm.using(client):'"
        )
    return _default
