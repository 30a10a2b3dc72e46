"""Attachments on other servers than the suite's: files served from a second origin
(a stand-in CDN), and a stock Kinto without kintorm.kinto_plugin.

Every test taking ``cdn_orm`` or ``stock_orm`` runs with the sync methods and with
their awaited twins (as ``orm`` does, see conftest.py).
"""

from __future__ import annotations

import contextlib
import pathlib
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kintorm import (
    Attachment,
    AttachmentHashMismatch,
    Client,
    ConflictError,
    Record,
)
from kintorm.client.attachments import upload_request
from kintorm.client.messages import File
from kintorm.orm import connection
from kintorm.server import _PLUGINS, KintoServer
from kintorm.server.settings import _ATTACHMENTS_MODULE

from .conftest import ORM, Counter, _orm


class Todo(Record, collection="items"):
    title: str
    photo: Attachment | None = None


class Cdn:
    """A second local HTTP server standing in for a CDN: it serves the files of a
    Kinto's attachments folder (fetched from the Kinto's own static view), records
    the headers of every request it gets, and can spoil the bytes it serves."""

    def __init__(self) -> None:
        self.upstream = ""  # the Kinto's URL of the files, once it runs
        self.requests: list[dict[str, str]] = []
        self.tamper = False
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                cdn.requests.append(dict(self.headers.items()))
                name = self.path.removeprefix("/cdn/")
                with urllib.request.urlopen(cdn.upstream + name) as answer:  # noqa: S310
                    body = answer.read()
                if cdn.tamper:
                    body = body[:-1] + bytes([body[-1] ^ 1])
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cdn/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Cdn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def cdn() -> Iterator[Cdn]:
    with Cdn() as stand_in:
        yield stand_in


@pytest.fixture(scope="module")
def cdn_server(cdn: Cdn) -> Iterator[KintoServer]:
    """A Kinto whose attachments are announced (and located) on the CDN's origin."""
    with KintoServer(settings={"kinto.attachment.base_url": cdn.url}, attachments=True) as server:
        cdn.upstream = server.url + "/attachments/"
        yield server


@pytest.fixture(scope="module")
def stock_server() -> Iterator[KintoServer]:
    """A Kinto with kinto-attachment but without kintorm.kinto_plugin."""
    plugins = [p for p in _PLUGINS if p != "kintorm.kinto_plugin"]
    plugins += ["kinto_attachment", _ATTACHMENTS_MODULE]  # as attachments=True adds them
    settings = {"kinto.includes": " ".join(plugins)}
    with KintoServer(settings=settings, attachments=True) as server:
        yield server


@contextlib.contextmanager
def _on(server: KintoServer, mode: str) -> Iterator[ORM]:
    bucket = f"att-{uuid.uuid4().hex[:10]}"
    client = Client(
        server_url=server.url, auth=server.admin_auth, bucket=bucket, collection="items"
    )
    client.create_bucket(id=bucket)
    client.create_collection(id="items")
    client.server_info()  # read once, as a long-lived client has it (see conftest.client)
    try:
        with _orm(mode, client) as made:
            yield made
    finally:
        connection.disconnect()
        client.delete_bucket(id=bucket, if_exists=True)


@pytest.fixture(params=["sync", "async"])
def cdn_orm(request: pytest.FixtureRequest, cdn_server: KintoServer, cdn: Cdn) -> Iterator[ORM]:
    cdn.requests.clear()
    cdn.tamper = False
    with _on(cdn_server, request.param) as made:
        yield made


@pytest.fixture(params=["sync", "async"])
def stock_orm(request: pytest.FixtureRequest, stock_server: KintoServer) -> Iterator[ORM]:
    with _on(stock_server, request.param) as made:
        yield made


# --- another origin --------------------------------------------------------------------


def test_no_credentials_reach_the_attachments_origin(cdn_orm: ORM, cdn: Cdn) -> None:
    orm = cdn_orm
    http = Counter(orm.client)
    todo = orm(Todo(title="a")).save()
    attachment = orm(todo).attach(b"secret plans", filename="plans.txt")
    assert attachment.location.startswith(cdn.url)
    assert orm(todo).download() == b"secret plans"
    assert len(cdn.requests) == 1
    received = {k.lower() for k in cdn.requests[0]}
    assert "authorization" not in received and "cookie" not in received
    # the server's own requests did carry them
    (upload,) = [headers for method, _, headers in http.requests if method == "POST"]
    assert "Authorization" in upload
    (download,) = [(url, h) for method, url, h in http.requests if url.startswith(cdn.url)]
    assert "Authorization" not in download[1]


def test_a_file_that_is_not_the_attachment_is_refused_and_not_written(
    cdn_orm: ORM, cdn: Cdn, tmp_path: pathlib.Path
) -> None:
    orm = cdn_orm
    todo = orm(Todo(title="a")).save()
    attachment = orm(todo).attach(b"the real bytes", filename="real.txt")
    cdn.tamper = True
    kept = tmp_path / "kept.txt"
    kept.write_bytes(b"an older copy")
    for target in (None, kept, tmp_path / "new.txt", str(tmp_path)):
        with pytest.raises(AttachmentHashMismatch, match="nothing was written") as caught:
            orm(todo).download(target)
        assert caught.value.expected == attachment.hash != caught.value.actual
        assert caught.value.size == attachment.size
    assert kept.read_bytes() == b"an older copy"  # left whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]  # nothing partial
    cdn.tamper = False
    assert orm(todo).download(kept) == b"the real bytes"
    assert kept.read_bytes() == b"the real bytes"


# --- a stock server ----------------------------------------------------------------------

WARNING = r"does not announce kintorm\.kinto_plugin"


def test_a_stock_server_checks_the_version_before_the_upload(stock_orm: ORM) -> None:
    """kinto-attachment ignores If-Match; without the plugin the mapper checks the
    version just before (not atomic, as stock Kinto's own checks), and warns."""
    orm = stock_orm
    http = Counter(orm.client)
    todo = orm(Todo(title="a")).save()
    version = todo.last_modified
    http.reset()
    with pytest.warns(RuntimeWarning, match=WARNING):
        orm(todo).attach(b"one", filename="one.txt")
    assert http.methods == ["GET", "POST"]  # the check, then the upload
    assert [h["If-Match"] for _, _, h in http.requests] == [f'"{version}"'] * 2
    stale = orm(Todo.objects).get(id=todo.id)
    todo.title = "changed"
    orm(todo).save()
    with pytest.raises(ConflictError, match="modified on the server"):
        orm(stale).attach(b"two", filename="two.txt")
    with pytest.raises(ConflictError):
        orm(stale).detach()
    server = orm.raw.get_record(id=todo.id)["data"]
    assert server["attachment"]["filename"] == "one.txt" and server["title"] == "changed"
    orm.raw.create_record(id="taken", data={"title": "theirs"})
    with pytest.raises(ConflictError, match="already exists"):
        orm(Todo(id="taken", title="mine")).attach(b"x", filename="x.txt")
    taken = orm.raw.get_record(id="taken")["data"]
    assert taken["title"] == "theirs" and "attachment" not in taken
    fresh = orm(Todo(title="fresh")).attach(b"f", filename="f.txt")
    assert fresh.size == 1


def test_the_stock_plugin_ignores_if_match(stock_server: KintoServer) -> None:
    """Why the mapper checks itself on such a server: a stale upload is applied."""
    bucket = f"raw-{uuid.uuid4().hex[:10]}"
    client = Client(
        server_url=stock_server.url, auth=stock_server.admin_auth, bucket=bucket, collection="c"
    )
    client.create_bucket(id=bucket)
    try:
        client.create_collection(id="c")
        client.create_record(id="r", data={})
        request = upload_request(
            client.get_endpoint("record", id="r"),
            File("attachment", "a.txt", b"a", "text/plain"),
            headers={"If-Match": '"1"'},
        )
        assert client.send(request).status_code == 200
        assert client.get_record(id="r")["data"]["attachment"]["filename"] == "a.txt"
    finally:
        client.delete_bucket(id=bucket)
