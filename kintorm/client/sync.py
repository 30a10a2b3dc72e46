"""``Client``: performs the effects of ``BaseClient``'s operations with ``requests``.

The loop that runs an operation is the sync trampoline (``trampoline.py``); this
driver only performs one effect at a time, from a table: a request goes to the
network (or to a replaced session), a sleep to ``time.sleep``, file I/O runs here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from kintorm.client.base import BaseClient
from kintorm.client.effects import FILE_EFFECTS, Effect, FileEffect, Sleep
from kintorm.client.exceptions import TransportError
from kintorm.client.messages import Request
from kintorm.client.operation import SyncDriver
from kintorm.client.session import Session, call_session, response_from
from kintorm.client.transport import RequestsTransport


class Client(BaseClient, SyncDriver):
    """The synchronous Kinto client (kinto-http's ``Client`` API)."""

    _library = "requests"

    def _make_transport(self, verify: bool | str) -> RequestsTransport:
        return RequestsTransport(verify=verify)

    def _perform(self, effect: Effect) -> Any:
        perform = _PERFORM.get(type(effect))
        if perform is None:
            raise TypeError(f"{type(self).__name__} cannot perform {effect!r}")
        return perform(self, effect)

    def _request(self, request: Request) -> Any:
        answer = self._intercept(request)
        if answer is not None:
            return answer
        router = self._router()
        if router is not None:  # a replaced session (a mock, in kinto-http's tests)
            try:
                outcome = call_session(router, request)
            except Exception as exc:
                outcome = exc
            return response_from(request, outcome)
        url, headers, auth = self._wire(request)
        try:
            return self._transport.send(request, url, headers, self.timeout, auth)
        except TransportError as exc:
            return exc

    def close(self) -> None:
        """Close the connection pool (of this thread)."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sleep(client: Client, effect: Sleep) -> None:
    time.sleep(effect.seconds)


def _file(client: Client, effect: FileEffect) -> Any:
    return effect.run()


#: how the sync driver performs each kind of effect
_PERFORM: Mapping[type, Callable[[Client, Any], Any]] = {
    Request: Client._request,
    Sleep: _sleep,
    **{kind: _file for kind in FILE_EFFECTS},
}

#: a Session built on its own (kinto-http's ``Session(server_url, auth)``) runs on a Client
Session.client_class = Client

KintoClient = Client
