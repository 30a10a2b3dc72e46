"""Credentials stay where they belong.

- never in logs (every logger, DEBUG, urllib3 included), reprs or exception messages;
- TLS verification on by default, off only with an explicit ``verify=False``;
- never sent to another origin (a Next-Page link, an HTTP redirect);
- a save that did not touch permissions does not send them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import responses

from kintorm import AsyncClient, Client, ConflictError, KintoException, Record
from kintorm.client import transport as transport_module
from kintorm.server import KintoServer

from .conftest import make_client

USER = "leaky"
PASSWORD = "s3cr3t-Pa55w0rd-do-not-log"
TOKEN = "tok-0123456789-never-shown"


class Note(Record, collection="items"):
    text: str = ""
    n: int = 0


def _secrets() -> list[str]:
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return [PASSWORD, basic, TOKEN]


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture
def all_logs() -> Iterator[_Everything]:
    handler = _Everything()
    root = logging.getLogger()
    loggers = [root, logging.getLogger("urllib3"), logging.getLogger("httpx")]
    levels = [lg.level for lg in loggers]
    root.addHandler(handler)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def test_credentials_never_in_logs_reprs_or_errors(
    kinto_server: KintoServer, bucket: str, all_logs: _Everything
) -> None:
    kinto_server.create_account(USER, PASSWORD)
    admin = make_client(kinto_server, bucket)
    admin.patch_bucket(id=bucket, permissions={"write": [f"account:{USER}"]})
    shown: list[str] = []
    client = Client(
        server_url=kinto_server.url.replace("://", f"://{USER}:{PASSWORD}@"),
        bucket=bucket,
        collection="items",
        retry=1,
        retry_after=0,
    )
    shown += [repr(client), str(client), repr(client._credentials)]
    client.create_record(id="n1", data={"text": "a"})
    client.get_records(_limit=1, pages=2)
    with client.batch() as batch:
        batch.create_record(id="n2", data={"text": "b"})
    notes = Note.objects.using(client)
    note = notes.get(id="n1")
    note.n = 1
    note.save()
    other = notes.get(id="n1")
    other.n = 2
    other.save()
    note.text = "conflict"
    failures: list[BaseException] = []
    with pytest.raises(ConflictError) as conflict:
        note.save()
    failures.append(conflict.value)
    for call in (
        lambda: client.get_record(id="missing"),
        lambda: client.get_bucket(id="not-a-bucket-of-mine"),
        lambda: Client(
            server_url=kinto_server.url, auth=(USER, "wrong-" + PASSWORD), bucket=bucket
        ).create_record(collection="items", data={"x": 1}),
        lambda: Client(server_url=kinto_server.url, auth=f"Bearer {TOKEN}").get_bucket(id=bucket),
        lambda: Client(
            server_url=f"http://{USER}:{PASSWORD}@127.0.0.1:9/v1", retry=1, retry_after=0
        ).server_info(),
    ):
        with pytest.raises(KintoException) as info:
            call()
        failures.append(info.value)
    for exc in failures:
        shown += [str(exc), repr(exc), repr(getattr(exc, "request", None))]
        shown += [repr(getattr(exc, "response", None))]
    logging.getLogger("kintorm.test").debug("done", exc_info=failures[-1])
    assert len(all_logs.lines) > 10  # the run did log (urllib3 included)
    assert any("urllib3" in line or "Starting new HTTP" in line for line in all_logs.lines)
    everything = "\n".join(all_logs.lines + shown)
    for secret in _secrets():
        assert secret not in everything


# --- TLS ----------------------------------------------------------------------------------


def test_requests_transport_verifies_tls_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def send(self: requests.Session, prepared: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("verify"))
        raise requests.ConnectionError("stop here")

    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # they would replace True
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(requests.Session, "send", send)
    for client in (Client(server_url="https://kinto.test/v1"),):
        with pytest.raises(KintoException):
            client.server_info()
    with pytest.raises(KintoException):
        Client(server_url="https://kinto.test/v1", verify=False).server_info()
    with pytest.raises(KintoException):
        Client(server_url="https://kinto.test/v1", verify="/etc/ssl/ca.pem").server_info()
    assert seen == [True, False, "/etc/ssl/ca.pem"]


def test_a_ca_bundle_from_the_environment_is_still_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The environment is read once per origin now, not on every request: the
    variables requests honours (a CA bundle, proxies) still apply."""
    seen: list[Any] = []

    def send(self: requests.Session, prepared: Any, **kwargs: Any) -> Any:
        seen.append((kwargs.get("verify"), kwargs.get("proxies")))
        raise requests.ConnectionError("stop here")

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    monkeypatch.setattr(requests.Session, "send", send)
    with pytest.raises(KintoException):
        Client(server_url="https://kinto.test/v1").server_info()
    assert seen == [("/etc/ssl/company.pem", {"https": "http://proxy.test:3128"})]


def test_httpx_transport_verifies_tls_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    http = transport_module.async_http()
    real = http.AsyncClient

    def recording(**kwargs: Any) -> Any:
        seen.append(kwargs.get("verify", "<default: True>"))
        return real(**kwargs)

    monkeypatch.setattr(http, "AsyncClient", recording)
    AsyncClient(server_url="https://kinto.test/v1")
    AsyncClient(server_url="https://kinto.test/v1", verify=False)
    assert seen == [True, False]


# --- other origins ------------------------------------------------------------------------


def test_a_next_page_on_another_origin_is_refused() -> None:
    seen: list[requests.PreparedRequest] = []

    def page(request: requests.PreparedRequest) -> Any:
        seen.append(request)
        headers = {"Next-Page": "https://evil.test/v1/buckets/b/collections/c/records?_token=x"}
        return 200, headers, json.dumps({"data": [{"id": "r1"}]})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("GET", "https://kinto.test/v1/buckets/b/collections/c/records", page)
        mock.add_callback("GET", "https://evil.test/v1/buckets/b/collections/c/records", page)
        client = Client(server_url="https://kinto.test/v1", auth=(USER, PASSWORD))
        with pytest.raises(KintoException, match="refusing to follow a link to another origin"):
            client.get_records(bucket="b", collection="c")
    assert [r.url for r in seen] == ["https://kinto.test/v1/buckets/b/collections/c/records"]
    assert "Authorization" in seen[0].headers


class _Recorder(BaseHTTPRequestHandler):
    """The other origin: records the headers it gets, answers a record."""

    seen: list[dict[str, str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        body = b'{"data": {"id": "r1"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _redirector(target: str) -> type[BaseHTTPRequestHandler]:
    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(307)
            self.send_header("Location", target + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Redirect


@pytest.fixture
def redirect_to_other_origin() -> Iterator[str]:
    """The URL of a 'Kinto' that answers 307 to another port on loopback."""
    _Recorder.seen = []
    other = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    front = ThreadingHTTPServer(
        ("127.0.0.1", 0), _redirector(f"http://127.0.0.1:{other.server_address[1]}")
    )
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (other, front)]
    for thread in threads:
        thread.start()
    try:
        yield f"http://127.0.0.1:{front.server_address[1]}/v1"
    finally:
        for server in (front, other):
            server.shutdown()
            server.server_close()


@pytest.mark.parametrize("auth", [(USER, PASSWORD), f"Bearer {TOKEN}"])
def test_a_redirect_to_another_origin_gets_no_credentials(
    redirect_to_other_origin: str, auth: Any
) -> None:
    client = Client(server_url=redirect_to_other_origin, auth=auth, bucket="b", collection="c")
    assert client.get_record(id="r1") == {"data": {"id": "r1"}}
    aclient = AsyncClient(server_url=redirect_to_other_origin, auth=auth, bucket="b")
    asyncio.run(aclient.get_record(id="r1", collection="c"))
    assert len(_Recorder.seen) == 2
    for headers in _Recorder.seen:
        assert not {k.lower() for k in headers} & {"authorization", "cookie"}
        assert not any(s in json.dumps(headers) for s in _secrets())


# --- permissions ----------------------------------------------------------------------------


def test_a_save_that_did_not_touch_permissions_does_not_send_them(
    kinto_server: KintoServer, bucket: str
) -> None:
    client = make_client(kinto_server, bucket)
    bodies: list[tuple[str, Any]] = []
    original = client._transport.send

    def send(request: Any, *args: Any, **kwargs: Any) -> Any:
        bodies.append((request.method, request.json()))
        return original(request, *args, **kwargs)

    client._transport.send = send
    notes = Note.objects.using(client)
    note = notes.create(text="new")  # a create without permissions
    loaded = notes.get(id=note.id)
    assert loaded.permissions["write"]  # Kinto made us the writer
    loaded.text = "changed"
    loaded.save()
    loaded.n = 3
    loaded.save(patch="json")
    writes = [body for method, body in bodies if method in ("PUT", "PATCH")]
    assert len(writes) == 3
    assert "permissions" not in writes[0]
    assert "permissions" not in writes[1]
    assert not any(op["path"].startswith("/permissions") for op in writes[2])
    loaded.permissions["read"].append("system.Everyone")
    loaded.save()
    assert bodies[-1][1]["permissions"] == {"read": ["system.Everyone"]}
    client.delete_bucket(id=bucket)
