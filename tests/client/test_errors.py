"""Failed calls: KintoException with .request and .response, and its subclasses."""

from __future__ import annotations

import socket

import pytest
import requests

from kintorm import (
    AsyncClient,
    BucketNotFound,
    Client,
    CollectionNotFound,
    KintoException,
    MalformedResponse,
    PreconditionFailed,
    TransportError,
)

from ._wire import Wire

RECORD = "/buckets/b/collections/c/records/r1"
NOT_FOUND = {"code": 404, "errno": 110, "error": "Not Found", "message": "record not found"}


def test_error_carries_request_and_response(wire: Wire) -> None:
    wire.reply("GET", RECORD, status=404, json=NOT_FOUND, headers={"X-Req": "abc"})
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.get_record(id="r1", bucket="b", collection="c", _fields="title"))
    error = info.value
    assert type(error) is KintoException
    assert (error.request.method, error.request.path) == ("GET", RECORD)
    assert error.response.status_code == 404
    assert error.response.headers["x-req"] == "abc"
    assert error.response.json() == NOT_FOUND
    # kinto-http's form: the server's path prefix before the path
    assert str(error) == f"GET /v1{RECORD}?_fields=title - 404 record not found (errno 110)"


def test_error_without_message_uses_the_error_field(wire: Wire) -> None:
    wire.reply("GET", RECORD, status=404, json={"code": 404, "errno": 110, "error": "Not Found"})
    with pytest.raises(KintoException, match=r"404 Not Found \(errno 110\)"):
        wire.run(lambda c: c.get_record(id="r1", bucket="b", collection="c"))


def test_412_is_precondition_failed(wire: Wire) -> None:
    existing = {"id": "r1", "last_modified": 9}
    body = {"code": 412, "errno": 114, "message": "modified", "details": {"existing": existing}}
    wire.reply("PATCH", RECORD, status=412, json=body)
    with pytest.raises(PreconditionFailed) as info:
        wire.run(lambda c: c.patch_record(id="r1", bucket="b", collection="c", if_match=1))
    assert isinstance(info.value, KintoException)
    assert info.value.existing == existing
    assert "PATCH" in str(info.value) and "412" in str(info.value)


def test_html_error_from_a_proxy(wire: Wire) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>" + "x" * 500
    wire.reply("GET", RECORD, status=502, body=html, headers={"Content-Type": "text/html"})
    with pytest.raises(MalformedResponse) as info:
        wire.run(lambda c: c.get_record(id="r1", bucket="b", collection="c"))
    message = str(info.value)
    assert isinstance(info.value, KintoException)
    assert message.startswith(f"GET /v1{RECORD} - 502 non-JSON body:")
    assert "<html><body><h1>502 Bad Gateway" in message
    assert len(message) < 400  # a preview, not the whole page
    assert info.value.response.status_code == 502


def test_200_with_a_non_json_body(wire: Wire) -> None:
    wire.reply("GET", RECORD, body="<html>login</html>")
    with pytest.raises(MalformedResponse, match="expected JSON, got '<html>login</html>'") as info:
        wire.run(lambda c: c.get_record(id="r1", bucket="b", collection="c"))
    assert info.value.response.status_code == 200
    assert info.value.request.path == RECORD


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"'])
def test_200_with_json_that_is_not_an_object(wire: Wire, body: bytes) -> None:
    wire.reply("GET", RECORD, body=body)
    with pytest.raises(MalformedResponse, match="expected a JSON object"):
        wire.run(lambda c: c.get_record(id="r1", bucket="b", collection="c"))


def test_listing_without_a_data_list(wire: Wire) -> None:
    wire.reply("GET", "/buckets", json={"data": {"id": "x"}})
    with pytest.raises(MalformedResponse, match="without a data list"):
        wire.run(lambda c: c.get_buckets())


def test_connection_refused_is_a_transport_error(wire: Wire) -> None:
    wire.reply("GET", RECORD, error=True)
    with pytest.raises(TransportError) as info:
        wire.run(lambda c: c.get_record(id="r1", bucket="b", collection="c"))
    assert not isinstance(info.value, requests.RequestException)
    assert str(info.value).startswith(f"GET {RECORD}: no response (")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_real_connection_refused_sync() -> None:
    client = Client(server_url=f"http://127.0.0.1:{_closed_port()}/v1", auth=("u", "s3cret"))
    with pytest.raises(TransportError, match="GET /: no response") as info:
        client.server_info()
    assert "s3cret" not in str(info.value)


def test_real_connection_refused_async() -> None:
    import asyncio

    client = AsyncClient(server_url=f"http://127.0.0.1:{_closed_port()}/v1")
    with pytest.raises(TransportError, match="GET /: no response"):
        asyncio.run(client.server_info())


@pytest.mark.parametrize("status", [403, 404])
def test_get_bucket_not_found(wire: Wire, status: int) -> None:
    wire.reply("GET", "/buckets/nope", status=status, json={"code": status, "errno": 121})
    with pytest.raises(BucketNotFound) as info:
        wire.run(lambda c: c.get_bucket(id="nope"))
    assert info.value.response.status_code == status
    assert info.value.request.path == "/buckets/nope"


def test_get_collection_not_found(wire: Wire) -> None:
    wire.reply("GET", "/buckets/b/collections/nope", status=404, json={"code": 404, "errno": 111})
    with pytest.raises(CollectionNotFound) as info:
        wire.run(lambda c: c.get_collection(id="nope", bucket="b"))
    assert info.value.response.status_code == 404


def test_get_collection_403_is_not_collection_not_found(wire: Wire) -> None:
    wire.reply("GET", "/buckets/b/collections/x", status=403, json={"code": 403, "errno": 121})
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.get_collection(id="x", bucket="b"))
    assert type(info.value) is KintoException
