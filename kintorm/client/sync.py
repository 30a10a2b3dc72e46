"""``Client``: runs the operations of ``BaseClient`` with ``requests``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, TypeVar

from kintorm.client.base import BaseClient
from kintorm.client.exceptions import TransportError
from kintorm.client.operation import Stream, SyncDriver
from kintorm.client.protocol import Emit, Op, Request, Sleep
from kintorm.client.resources import Batching
from kintorm.client.session import call_session, response_from
from kintorm.client.transport import RequestsTransport

T = TypeVar("T")


class Client(BaseClient, SyncDriver):
    """The synchronous Kinto client (kinto-http's ``Client`` API)."""

    _library = "requests"

    def _make_transport(self, verify: bool | str) -> RequestsTransport:
        return RequestsTransport(verify=verify)

    def _perform(self, effect: Request | Sleep | Emit) -> Any:
        if isinstance(effect, Emit):
            raise TypeError("a page stream was run as a single operation")
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
        router = self._router()
        if router is not None:  # a replaced session (a mock, in kinto-http's tests)
            try:
                outcome = call_session(router, effect)
            except Exception as exc:
                outcome = exc
            return response_from(effect, outcome)
        url, headers, auth = self._wire(effect)
        try:
            return self._transport.send(effect, url, headers, self.timeout, auth)
        except TransportError as exc:
            return exc

    def _run(self, op: Op[T]) -> T:
        outcome: Any = None
        try:
            while True:
                outcome = self._perform(op.send(outcome))
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except Batching:
            return None  # type: ignore[return-value]

    def _stream(self, gen: Stream) -> Iterator[Any]:
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
                outcome = self._perform(effect)

    def close(self) -> None:
        """Close the connection pool (of this thread)."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


KintoClient = Client
