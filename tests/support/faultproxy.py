"""A fault-injecting HTTP proxy on loopback, between a client and Kinto.

Each request is forwarded to the upstream server unless the plan gives it a
fault. Faults (see :data:`FAULTS`) either stand in for the server (a 503, a
proxy's HTML 502, a reset before forwarding) or spoil its answer after the
request was applied (a reset after forwarding, a truncated body, a stall
longer than the client's timeout): the latter are the lost responses a client
must recover from without doing the work twice.

Only loopback addresses are used: the proxy listens on 127.0.0.1 and forwards
to the upstream URL it is given (a local Kinto).
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: Request headers not forwarded (hop-by-hop).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}


def _drop(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection without a response (the client sees a reset)."""
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)


def _reply(
    handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes
) -> None:
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def reset_before(proxy: FaultProxy, handler: Handler, forward: Callable[[], Any]) -> None:
    _drop(handler)


def reset_after(proxy: FaultProxy, handler: Handler, forward: Callable[[], Any]) -> None:
    forward()
    _drop(handler)


def unavailable(proxy: FaultProxy, handler: Handler, forward: Callable[[], Any]) -> None:
    body = b'{"code":503,"errno":201,"error":"Service Unavailable","message":"injected"}'
    _reply(handler, 503, {"Content-Type": "application/json", "Retry-After": "0"}, body)


def bad_gateway_html(proxy: FaultProxy, handler: Handler, forward: Callable[[], Any]) -> None:
    body = b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"
    _reply(handler, 502, {"Content-Type": "text/html"}, body)


def bad_gateway_after(proxy: FaultProxy, handler: Handler, forward: Callable[[], Any]) -> None:
    """A gateway that forwarded the request (Kinto applied it), then answered 502."""
    forward()
    bad_gateway_html(proxy, handler, forward)


def truncated(proxy: FaultProxy, handler: Handler, forward: Callable[[], Any]) -> None:
    status, headers, body = forward()
    cut = body[: max(1, len(body) // 2)]
    _reply(handler, status, {**headers, "Content-Type": "application/json"}, cut)


def stall(proxy: FaultProxy, handler: Handler, forward: Callable[[], Any]) -> None:
    forward()
    time.sleep(proxy.stall_seconds)
    _drop(handler)


def backoff(proxy: FaultProxy, handler: Handler, forward: Callable[[], Any]) -> None:
    status, headers, body = forward()
    _reply(handler, status, {**headers, "Backoff": "1"}, body)


FAULTS: dict[str, Callable[[FaultProxy, Handler, Callable[[], Any]], None]] = {
    "reset_before": reset_before,
    "reset_after": reset_after,
    "503": unavailable,
    "502_html": bad_gateway_html,
    "truncated": truncated,
    "stall": stall,
    "backoff": backoff,
}
#: Faults used only when asked for by name (not part of ``list(FAULTS)``'s mix).
EXTRA_FAULTS: dict[str, Callable[[FaultProxy, Handler, Callable[[], Any]], None]] = {
    "502_after": bad_gateway_after,
}


class Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        proxy = self.server.proxy
        conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = f"{proxy.upstream_host}:{proxy.upstream_port}"
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            if proxy.on_sent is not None:  # the request is with the server now
                proxy.on_sent(self.command, self.path, conn.sock.getsockname()[1])
            response = conn.getresponse()
            data = response.read()
            kept = {
                k: v
                for k, v in response.getheaders()
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"
            }
            return response.status, kept, data
        finally:
            conn.close()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        proxy = self.server.proxy
        fault = proxy.choose(self.command, self.path)
        forward = lambda: self._forward(body)  # noqa: E731
        if fault is None:
            try:
                answer = forward()
            except (OSError, http.client.HTTPException):  # the server died on it
                _drop(self)
                return
            _reply(self, *answer)
            return
        {**FAULTS, **EXTRA_FAULTS}[fault](proxy, self, forward)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy


class FaultProxy:
    """``with FaultProxy(upstream_url, rate=0.1, faults=[...], seed=1) as proxy:``
    then point the client at ``proxy.url``. ``proxy.injected`` counts faults by kind.

    ``methods`` limits the faults to those methods; ``budget`` to that many faults in
    all (``rate=1.0, budget=2``: the first two matching requests are faulted).
    ``on_sent(method, path, port)`` is called once a request was forwarded, before its
    answer is read, with the local port of the connection to the server (whose
    answer is then relayed, or a reset when the server closed without one)."""

    def __init__(
        self,
        upstream_url: str,
        *,
        rate: float = 0.0,
        faults: list[str] | None = None,
        seed: int = 0,
        stall_seconds: float = 2.0,
        methods: frozenset[str] | None = None,
        budget: int | None = None,
        on_sent: Callable[[str, str, int], None] | None = None,
    ) -> None:
        parts = urlsplit(upstream_url)
        if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("the fault proxy only forwards to loopback servers")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.rate = rate
        self.faults = faults or list(FAULTS)
        self.stall_seconds = stall_seconds
        self.methods = methods
        self.budget = budget
        self.on_sent = on_sent
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def choose(self, method: str, path: str) -> str | None:
        with self._lock:
            self.requests += 1
            if self.methods is not None and method not in self.methods:
                return None
            if self.budget is not None and sum(self.injected.values()) >= self.budget:
                return None
            if self._random.random() >= self.rate:
                return None
            fault = self._random.choice(self.faults)
            self.injected[fault] += 1
            return fault

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
