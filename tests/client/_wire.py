"""A fake Kinto on the wire, for the sync client (``responses``) and the async client
(``httpx.MockTransport``) alike.

``wire`` is parametrised over both clients: a test queues replies with
``wire.reply(...)``, runs a call with ``wire.run(lambda c: c.get_records())`` and
asserts ``wire.calls`` (method, path, query, headers, JSON body), so one test body
checks that both clients send the same requests.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
import requests
from requests.structures import CaseInsensitiveDict

from kintorm import AsyncClient, Client
from kintorm.client.transport import HttpxTransport, async_http

#: the async HTTP library the AsyncClient runs on (httpx2, or httpx: see async_http)
httpx = async_http()

SERVER = "http://kinto.test/v1"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


@attrs.define
class Call:
    """One request as the server received it."""

    method: str
    url: str
    headers: CaseInsensitiveDict[str]
    body: bytes
    timeout: Any = None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    @property
    def params(self) -> dict[str, str]:
        return dict(self.query)

    def json(self) -> Any:
        return json.loads(self.body)


@attrs.define
class Reply:
    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: bytes | None
    error: bool = False


class Wire:
    """Queued replies matched by method and path (first match, used once)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.replies: list[Reply] = []
        self.calls: list[Call] = []
        #: called with each Call before it is answered (to observe laziness, ...)
        self.on_call: Callable[[Call], None] | None = None

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    @property
    def library(self) -> str:
        return httpx.__name__ if self.is_async else "requests"

    def reply(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json: Any = None,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        error: bool = False,
    ) -> Wire:
        """Answer the next ``method path`` (path under /v1, or a full URL) with this."""
        raw = body.encode() if isinstance(body, str) else body
        if json is not None:
            raw = _dumps(json)
            headers = {"Content-Type": "application/json", **(headers or {})}
        url_path = urlsplit(path).path if "://" in path else urlsplit(SERVER).path + path
        self.replies.append(Reply(method, url_path, status, headers or {}, raw, error))
        return self

    def ok(self, method: str, path: str, data: Any = None, **kwargs: Any) -> Wire:
        """A Kinto-shaped success: ``{"data": data}``."""
        return self.reply(method, path, json={"data": {} if data is None else data}, **kwargs)

    def answer(self, call: Call) -> Reply:
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        for i, reply in enumerate(self.replies):
            if reply.method == call.method and reply.path == call.path:
                return self.replies.pop(i)
        raise AssertionError(f"unexpected request {call.method} {call.url}")

    # --- clients --------------------------------------------------------------

    def client(self, **kwargs: Any) -> Any:
        kwargs.setdefault("server_url", SERVER)
        if not self.is_async:
            return Client(**kwargs)
        client = AsyncClient(**kwargs)
        self.mock(client)
        return client

    def mock(self, client: Any) -> None:
        """Route an AsyncClient (or a clone with its own transport) to this wire."""
        if self.is_async:
            mock = httpx.MockTransport(self._httpx_handler)
            client._transport = HttpxTransport(client=httpx.AsyncClient(transport=mock))

    def run(self, fn: Callable[[Any], Any], client: Any = None) -> Any:
        """``fn(client)``, awaited for the async client."""
        result = fn(client if client is not None else self.client())
        if inspect.isawaitable(result):
            return asyncio.run(_await(result))
        return result

    def pages(self, fn: Callable[[Any], Any], client: Any = None) -> list[Any]:
        """Every page of the (async) generator ``fn(client)``."""
        return list(self.iterate(fn(client if client is not None else self.client())))

    def iterate(self, gen: Any) -> Iterator[Any]:
        """A sync iterator over a generator or an async generator, one step at a time."""
        if not hasattr(gen, "__aiter__"):
            yield from gen
            return
        with asyncio.Runner() as runner:
            while True:
                try:
                    yield runner.run(_anext(gen))
                except StopAsyncIteration:
                    return

    def batch(self, client: Any, fn: Callable[[Any], Any], **kwargs: Any) -> Any:
        """Run ``fn(b)`` inside ``client.batch(**kwargs)``; return the batch client."""
        if not self.is_async:
            with client.batch(**kwargs) as b:
                fn(b)
            return b

        async def go() -> Any:
            async with client.batch(**kwargs) as b:
                result = fn(b)
                for item in result if isinstance(result, list | tuple) else [result]:
                    if inspect.isawaitable(item):
                        await item
            return b

        return asyncio.run(go())

    # --- the two mock transports ----------------------------------------------

    def _httpx_handler(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout")
        call = Call(
            request.method,
            str(request.url),
            CaseInsensitiveDict(dict(request.headers)),
            request.read(),
            timeout,
        )
        reply = self.answer(call)
        if reply.error:
            raise httpx.ConnectError("Connection refused", request=request)
        return httpx.Response(reply.status, headers=reply.headers, content=reply.body or b"")

    def _responses_callback(self, request: requests.PreparedRequest) -> Any:
        body = request.body or b""
        call = Call(
            str(request.method),
            str(request.url),
            CaseInsensitiveDict(dict(request.headers)),
            body.encode() if isinstance(body, str) else body,
            getattr(request, "req_kwargs", {}).get("timeout"),
        )
        reply = self.answer(call)
        if reply.error:
            raise requests.ConnectionError("Connection refused")
        return reply.status, reply.headers, reply.body or b""


async def _anext(gen: Any) -> Any:
    return await gen.__anext__()


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload).encode()


SERVER_INFO = {
    "project_name": "kinto",
    "project_version": "26.5.0",
    "http_api_version": "1.23",
    "url": SERVER + "/",
    "settings": {"batch_max_requests": 25, "readonly": False},
    "capabilities": {},
}
