"""Fixtures of the mapper's tests against a real Kinto.

``orm`` is parametrised: the same test body runs once with the sync methods and
once with their awaited twins. ``orm(x).name(...)`` calls ``x.aname(...)`` on
one event loop (``asyncio.Runner``, kept for the whole test) when the mode is
async and ``x`` has that twin, else ``x.name(...)``; iterating ``orm(qs)`` is
``async for`` in async mode; the awaited call runs in the caller's context (its
``kintorm.using()`` scope), as it would awaited in the caller's task. In async
mode the models' default client is an ``AsyncClient`` on the same bucket as
``client`` (kept sync, for raw checks).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextvars import copy_context
from typing import Any

import pytest

from kintorm import AsyncClient, Client, QuerySet
from kintorm.client.base import BaseClient
from kintorm.orm import connection
from kintorm.server import KintoServer


@pytest.fixture
def client(kinto_client: Client) -> Iterator[Client]:
    """A client on a fresh bucket (collection "items"), installed as the default client.

    Its server info is read first, as a long-lived client has it: the first guarded
    save of a client reads it once (the check for kintorm.kinto_plugin), and the
    request counts of the tests leave that one-off GET out."""
    kinto_client.server_info()
    connection.connect(client=kinto_client)
    try:
        yield kinto_client
    finally:
        connection.disconnect()


class Twin:
    """``x`` whose methods run in the mode under test (see the module docstring)."""

    def __init__(self, target: Any, runner: asyncio.Runner | None) -> None:
        self._target = target
        self._runner = runner

    def _wrap(self, result: Any) -> Any:
        return Twin(result, self._runner) if isinstance(result, QuerySet) else result

    def _drain(self, items: AsyncIterator[Any]) -> Iterator[Any]:
        """A lazy sync iterator over an async one: one ``__anext__`` per item."""
        assert self._runner is not None
        while True:
            try:
                yield self._runner.run(items.__anext__(), context=copy_context())  # type: ignore[arg-type]
            except StopAsyncIteration:
                return

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr
        twin = getattr(self._target, f"a{name}", None) if self._runner else None

        def call(*args: Any, **kwargs: Any) -> Any:
            if twin is None:
                return self._wrap(attr(*args, **kwargs))
            result = twin(*args, **kwargs)
            if inspect.iscoroutine(result):
                assert self._runner is not None
                return self._wrap(self._runner.run(result, context=copy_context()))
            return self._drain(result)  # aiterator(), achanges()

        return call

    def __getitem__(self, key: slice) -> Any:
        assert isinstance(key, slice), "use orm(qs)[n:n + 1].first() for one item"
        return self._wrap(self._target[key])

    def __iter__(self) -> Iterator[Any]:
        if self._runner is None:
            return iter(self._target)
        return self._drain(aiter(self._target))

    def list(self) -> list[Any]:
        return list(self)


class ORM:
    """``orm(x)`` gives ``x`` in the mode under test; ``orm.client`` is the models'
    default client (sync or async), ``orm.raw`` a sync client on the same bucket;
    ``orm.is_async`` tells the mode."""

    def __init__(self, client: BaseClient, runner: asyncio.Runner | None, raw: Client) -> None:
        self.client = client
        self.raw = raw
        self.runner = runner
        self.is_async = runner is not None

    def __call__(self, target: Any) -> Any:
        return Twin(target, self.runner)


@contextlib.contextmanager
def _orm(mode: str, client: Client) -> Iterator[ORM]:
    """The models' default client in ``mode`` (sync: ``client`` itself), on its bucket."""
    connection.connect(client=client)
    if mode == "sync":
        yield ORM(client, None, client)
        return
    with asyncio.Runner() as runner:
        aclient = AsyncClient(
            server_url=client.server_url,
            auth=client._credentials,
            bucket=client.bucket_name,
            collection=client.collection_name,
        )
        connection.connect(client=aclient)
        runner.run(aclient.server_info())  # cached, as the sync client's: equal counts
        try:
            yield ORM(aclient, runner, client)
        finally:
            connection.connect(client=client)
            runner.run(aclient.aclose())


@pytest.fixture(params=["sync", "async"])
def orm(request: pytest.FixtureRequest, client: Client) -> Iterator[ORM]:
    with _orm(request.param, client) as made:
        yield made


@pytest.fixture(scope="session")
def paged_server() -> Iterator[KintoServer]:
    """A server that pages every listing by 3 (``kinto.paginate_by``)."""
    with KintoServer(settings={"kinto.paginate_by": "3"}, attachments=False) as server:
        yield server


@pytest.fixture(params=["sync", "async"])
def paged(request: pytest.FixtureRequest, paged_server: KintoServer) -> Iterator[ORM]:
    """Like ``orm``, on a fresh bucket of ``paged_server``."""
    bucket = f"paged-{uuid.uuid4().hex[:10]}"
    client = Client(
        server_url=paged_server.url, auth=paged_server.admin_auth, bucket=bucket, collection="items"
    )
    client.create_bucket(id=bucket)
    client.create_collection(id="items")
    try:
        with _orm(request.param, client) as made:
            yield made
    finally:
        connection.disconnect()
        client.delete_bucket(id=bucket, if_exists=True)


class Counter:
    """Counts the HTTP requests a client sends (its transport is wrapped), sync or
    async; ``in_flight_max`` is the most requests that were awaiting a response at once;
    ``ahead`` tells for each whether it was sent ahead (a ``Start``: from the sync
    client's worker thread, or from a task of its own on an AsyncClient)."""

    def __init__(self, client: BaseClient, *, delay: float = 0.0) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.ahead: list[bool] = []
        self.statuses: list[int] = []
        self.bodies: list[object] = []
        self.in_flight = self.in_flight_max = 0
        transport = client._transport
        original = transport.send

        def before(request: Any, url: str, headers: Any) -> None:
            self.requests.append((request.method, url, dict(headers)))
            self.ahead.append(_sent_ahead())
            self.bodies.append(request.json())
            self.in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self.in_flight)

        def after(response: Any) -> Any:
            self.in_flight -= 1
            self.statuses.append(response.status_code)
            return response

        if inspect.iscoroutinefunction(original):

            async def asend(request, url, headers, timeout, auth):  # type: ignore[no-untyped-def]
                before(request, url, headers)
                if delay:
                    await asyncio.sleep(delay)  # keeps the request in flight a while
                return after(await original(request, url, headers, timeout, auth))

            transport.send = asend
        else:

            def send(request, url, headers, timeout, auth):  # type: ignore[no-untyped-def]
                before(request, url, headers)
                return after(original(request, url, headers, timeout, auth))

            transport.send = send

    def reset(self) -> None:
        self.requests.clear()
        self.ahead.clear()
        self.statuses.clear()
        self.bodies.clear()
        self.in_flight_max = 0

    @property
    def methods(self) -> list[str]:
        return [m for m, _, _ in self.requests]


def _sent_ahead() -> bool:
    """Is the request being sent one that a ``Start`` sent ahead?"""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop: the sync client
        return threading.current_thread().name == "kintorm-ahead"
    coro = task.get_coro() if task is not None else None
    return getattr(coro, "__qualname__", "") == "AsyncClient._exchange"


@pytest.fixture
def http(orm: ORM) -> Counter:
    """The requests of the models' client (the one the mode under test uses)."""
    return Counter(orm.client)
