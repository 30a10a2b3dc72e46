"""Fixtures for the client's integration tests against a real Kinto.

``api`` is parametrised: the same test body runs once on the sync ``Client`` and
once on ``AsyncClient`` through :class:`AsyncProxy`, which runs each awaited call
on one event loop (``asyncio.Runner``, the loop ``asyncio.run`` would create, kept
for the whole test so the httpx connection pool is reused as an application would).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kintorm import AsyncClient, Client
from kintorm.client.base import BaseClient
from kintorm.server import KintoServer


def unique(prefix: str = "x") -> str:
    """A fresh Kinto id."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def uid() -> Callable[[str], str]:
    """``uid("prefix")``: a fresh Kinto id."""
    return unique


@pytest.fixture(scope="session")
def bob_auth(kinto_server: KintoServer) -> tuple[str, str]:
    """A second account, without any permission on the admin's buckets."""
    return kinto_server.create_account(unique("bob"), "bobs-password")


class AsyncProxy:
    """Looks like a sync ``Client``; every call goes through an ``AsyncClient``."""

    def __init__(self, client: AsyncClient, runner: asyncio.Runner) -> None:
        self._client = client
        self._runner = runner

    def _wrap(self, value: Any) -> Any:
        if inspect.iscoroutine(value):
            value = self._runner.run(value)
        if inspect.isasyncgen(value) or hasattr(value, "__anext__"):  # PageStream
            return self._pages(value)
        if isinstance(value, BaseClient):
            assert isinstance(value, AsyncClient)
            return AsyncProxy(value, self._runner)
        return value

    def _pages(self, agen: Any) -> Iterator[Any]:
        """A lazy sync iterator over an async generator: one ``__anext__`` per page."""
        while True:
            try:
                yield self._runner.run(agen.__anext__())
            except StopAsyncIteration:
                return

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr
        return lambda *args, **kwargs: self._wrap(attr(*args, **kwargs))

    @contextlib.contextmanager
    def batch(self, **kwargs: Any) -> Iterator[AsyncProxy]:
        """``with api.batch() as b`` driving ``async with client.batch() as b``."""
        context = self._client.batch(**kwargs)
        batch_client = self._runner.run(context.__aenter__())
        try:
            yield AsyncProxy(batch_client, self._runner)
        except BaseException as exc:
            self._runner.run(context.__aexit__(type(exc), exc, exc.__traceback__))
            raise
        self._runner.run(context.__aexit__(None, None, None))


@pytest.fixture(params=["sync", "async"])
def make_api(
    request: pytest.FixtureRequest,
    kinto_client: Client,
    kinto_server_url: str,
    kinto_admin_auth: tuple[str, str],
) -> Iterator[Callable[..., Any]]:
    """``make_api(auth=..., ...)``: a client (sync or async-proxied) on the test's bucket
    and ``items`` collection; the admin's unless ``auth=`` is given."""
    defaults = {
        "server_url": kinto_server_url,
        "auth": kinto_admin_auth,
        "bucket": kinto_client.bucket_name,
        "collection": kinto_client.collection_name,
    }
    if request.param == "sync":

        def make_sync(**kwargs: Any) -> Any:
            if "auth" not in kwargs:
                return kinto_client.clone(**kwargs)
            return Client(**{**defaults, **kwargs})

        yield make_sync
        return

    made: list[AsyncClient] = []
    with asyncio.Runner() as runner:

        def make_async(**kwargs: Any) -> AsyncProxy:
            client = AsyncClient(**{**defaults, **kwargs})
            made.append(client)
            return AsyncProxy(client, runner)

        try:
            yield make_async
        finally:
            for client in made:
                runner.run(client.aclose())


@pytest.fixture
def api(make_api: Callable[..., Any]) -> Any:
    """The admin's client on a fresh bucket with an ``items`` collection, sync or async."""
    return make_api()


@pytest.fixture(scope="session")
def paginated_server() -> Iterator[KintoServer]:
    """A server that pages every listing by 3 (``kinto.paginate_by``)."""
    with KintoServer(settings={"kinto.paginate_by": "3"}, attachments=False) as server:
        yield server


@pytest.fixture
def paginated_client(paginated_server: KintoServer) -> Iterator[Client]:
    bucket = unique("paged")
    client = Client(
        server_url=paginated_server.url,
        auth=paginated_server.admin_auth,
        bucket=bucket,
        collection="items",
    )
    client.create_bucket(id=bucket)
    client.create_collection(id="items")
    try:
        yield client
    finally:
        client.delete_bucket(id=bucket, if_exists=True)
