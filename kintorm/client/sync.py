"""``Client``: performs the effects of ``BaseClient``'s operations with ``requests``.

The loop that runs an operation is the sync trampoline (``trampoline.py``); this
driver only performs one effect at a time, from a table: a request goes to the
network (or to a replaced session), a sleep to ``time.sleep``, file I/O runs here,
and a request sent ahead (``Start``) goes out from the transport's worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

from kintorm.client.base import BaseClient
from kintorm.client.effects import FILE_EFFECTS, Effect, FileEffect, Finish, Sleep, Start, Started
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
        return answer if answer is not None else self._exchange(request)

    def _exchange(self, request: Request) -> Any:
        """Send ``request`` (to the network, or to a replaced session): its outcome."""
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


#: how long a Start waits for the worker thread to take its request up (an idle one
#: does at once; a busy one may not, and the request is then sent by Finish)
_TAKE_UP = 0.005


def _start(client: Client, effect: Start) -> Started:
    """Send the request from the transport's worker thread, which has a connection of
    its own. A request the driver answers itself (batch, dry mode) is answered now; one
    for a replaced session is left for Finish (the session gets it when it is needed)."""
    request = effect.request
    answer = client._intercept(request)
    if answer is not None:
        answered: Future[Any] = Future()
        answered.set_result(answer)
        return Started(request, answered)
    if client._router() is not None:
        return Started(request)
    worker = client._transport.worker()
    return Started(request, worker.submit(client._exchange, request, wait=_TAKE_UP))


def _finish(client: Client, effect: Finish) -> Any:
    started = effect.started
    if started.future is None or started.future.cancel():  # not taken up: sent from here
        return client._exchange(started.request)
    return started.future.result()


#: how the sync driver performs each kind of effect
_PERFORM: Mapping[type, Callable[[Client, Any], Any]] = {
    Request: Client._request,
    Sleep: _sleep,
    Start: _start,
    Finish: _finish,
    **{kind: _file for kind in FILE_EFFECTS},
}

#: a Session built on its own (kinto-http's ``Session(server_url, auth)``) runs on a Client
Session.client_class = Client

KintoClient = Client
