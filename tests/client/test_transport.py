"""The sync transport reads a body whole, as sent, and keeps its connection.

A small HTTP/1.1 server on loopback answers with bodies of a known length, chunked,
gzip-compressed, or announced longer than what it sends before hanging up.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kintorm.client.exceptions import TransportError
from kintorm.client.messages import Request
from kintorm.client.transport import RequestsTransport

BODY = json.dumps({"data": [{"id": f"r{i}", "title": "é" * 20} for i in range(20_000)]}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:
        how = self.path.strip("/")
        body = gzip.compress(BODY) if how == "gzip" else BODY
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if how == "gzip":
            self.send_header("Content-Encoding", "gzip")
        if how == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 7_000):
                piece = body[start : start + 7_000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if how == "short":  # announced whole, cut short, then the connection is closed
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _get(transport: RequestsTransport, server: _Server, how: str) -> Any:
    url = f"http://127.0.0.1:{server.server_address[1]}/{how}"
    return transport.send(Request("GET", f"/{how}"), url, {}, 10)


@pytest.mark.parametrize("how", ["length", "chunked", "gzip"])
def test_a_body_is_read_whole_and_its_connection_kept(server: _Server, how: str) -> None:
    transport = RequestsTransport()
    try:
        for _ in range(3):
            response = _get(transport, server, how)
            assert response.status_code == 200
            assert response.content == BODY
    finally:
        transport.close()
    assert server.connections == 1


def test_a_body_cut_short_is_a_transport_error_naming_the_request(server: _Server) -> None:
    transport = RequestsTransport()
    try:
        cut = r"^GET /short: no response \(ChunkedEncodingError"
        with pytest.raises(TransportError, match=cut):
            _get(transport, server, "short")
        assert _get(transport, server, "length").content == BODY  # on a new connection
    finally:
        transport.close()
    assert server.connections == 2
