"""kinto-http's keywords on the wire: none of them ever becomes a filter.

kinto-http sends ``if_none_match=`` as an ``If-None-Match`` header (and gives
``None`` / ``[]`` / no page on 304), takes ``pages=`` as a page count and
``get_permissions(params=...)`` as query parameters; these tests prove each
request, on both clients. Also: kinto-http's positional arguments, error
messages (``METHOD /v1/path - STATUS ...``, the 403 and 401 hints), dry mode,
``client.session`` and a session replaced by a mock.
"""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

import pytest

from kintorm import (
    AsyncClient,
    BearerTokenAuth,
    Client,
    KintoException,
    Page,
    PreconditionFailed,
    Session,
)

from ._wire import SERVER, SERVER_INFO, Wire

RECORDS = "/buckets/b/collections/c/records"
#: every read, its path and what it gives back on 304
READS: list[tuple[str, str, dict[str, Any], Any]] = [
    ("get_buckets", "/buckets", {}, []),
    ("get_groups", "/buckets/b/groups", {"bucket": "b"}, []),
    ("get_collections", "/buckets/b/collections", {"bucket": "b"}, []),
    ("get_records", RECORDS, {"bucket": "b", "collection": "c"}, []),
    ("get_history", "/buckets/b/history", {"bucket": "b"}, []),
    ("get_bucket", "/buckets/b", {"id": "b"}, None),
    ("get_group", "/buckets/b/groups/g", {"bucket": "b", "id": "g"}, None),
    ("get_collection", "/buckets/b/collections/c", {"bucket": "b", "id": "c"}, None),
    ("get_record", f"{RECORDS}/r1", {"bucket": "b", "collection": "c", "id": "r1"}, None),
]
READ_IDS = [name for name, *_ in READS]


@pytest.mark.parametrize(("method", "path", "ids", "on_304"), READS, ids=READ_IDS)
def test_if_none_match_is_a_header_never_a_filter(
    wire: Wire, method: str, path: str, ids: dict[str, Any], on_304: Any
) -> None:
    wire.reply("GET", path, status=304, headers={"ETag": '"123"'})
    result = wire.run(lambda c: getattr(c, method)(if_none_match="123", **ids))
    assert result == on_304
    [call] = wire.calls
    assert call.query == []
    assert call.headers["If-None-Match"] == '"123"'


@pytest.mark.parametrize(("method", "path", "ids", "on_304"), READS, ids=READ_IDS)
def test_headers_and_params_keywords_are_not_filters(
    wire: Wire, method: str, path: str, ids: dict[str, Any], on_304: Any
) -> None:
    body = {"data": [] if on_304 == [] else {"id": "x"}}
    wire.reply("GET", path, json=body)
    wire.run(
        lambda c: getattr(c, method)(headers={"X-Trace": "t1"}, params={"_fields": "id"}, **ids)
    )
    [call] = wire.calls
    assert call.query == [("_fields", "id")]
    assert call.headers["X-Trace"] == "t1"


def test_if_none_match_that_does_not_match_returns_the_records(wire: Wire) -> None:
    wire.ok("GET", RECORDS, [{"id": "a"}], headers={"ETag": '"124"'})
    records = wire.run(lambda c: c.get_records(bucket="b", collection="c", if_none_match='"123"'))
    assert records == [{"id": "a"}]
    assert wire.calls[0].headers["If-None-Match"] == '"123"'


def test_paginated_records_send_if_none_match_on_every_page(wire: Wire) -> None:
    nxt = f"{SERVER}{RECORDS}?_token=t1"
    wire.ok("GET", RECORDS, [{"id": "a"}], headers={"Next-Page": nxt})
    wire.ok("GET", RECORDS, [{"id": "b"}])
    pages = wire.pages(
        lambda c: c.get_paginated_records(bucket="b", collection="c", if_none_match=7, pages=5)
    )
    assert pages == [[{"id": "a"}], [{"id": "b"}]]
    assert all(isinstance(page, Page) for page in pages)
    assert pages[0]["data"] == [{"id": "a"}]  # kinto-http's page["data"]
    assert pages[0].get("data") == [{"id": "a"}] and pages[0].get("permissions") is None
    assert pages[0][0] == {"id": "a"} and pages[0][-1:] == [{"id": "a"}]
    assert [c.headers["If-None-Match"] for c in wire.calls] == ['"7"', '"7"']
    assert [c.query for c in wire.calls] == [[], [("_token", "t1")]]


def test_paginated_records_yield_nothing_on_304(wire: Wire) -> None:
    wire.reply("GET", RECORDS, status=304)
    assert (
        wire.pages(lambda c: c.get_paginated_records(bucket="b", collection="c", if_none_match=1))
        == []
    )


def test_get_permissions_takes_kinto_http_positional_and_params(wire: Wire) -> None:
    wire.ok("GET", "/permissions", [{"id": "b", "resource_name": "bucket"}])
    result = wire.run(lambda c: c.get_permissions(["record"], params={"resource_name": "bucket"}))
    assert result == [{"id": "b", "resource_name": "bucket"}]
    assert wire.calls[0].params == {
        "_sort": "id",
        "resource_name": "bucket",
        "exclude_resource_name": "record",
    }


def test_remove_attachment_takes_kinto_http_positional_arguments(wire: Wire) -> None:
    wire.ok("DELETE", f"{RECORDS}/r1/attachment", {})
    wire.run(lambda c: c.remove_attachment("r1", "b", "c"))
    assert wire.calls[0].method == "DELETE"


def test_permissions_objects_with_as_dict_are_sent_as_their_dict(wire: Wire) -> None:
    class Perms:
        def as_dict(self) -> dict[str, list[str]]:
            return {"read": ["system.Everyone"]}

    wire.ok("PUT", "/buckets/b", {"id": "b"})
    wire.run(lambda c: c.create_bucket(id="b", permissions=Perms()))
    assert wire.calls[0].json() == {"permissions": {"read": ["system.Everyone"]}}


# --- error messages ----------------------------------------------------------------

FORBIDDEN = {"code": 403, "errno": 121, "error": "Forbidden", "message": "Unauthorized"}


@pytest.mark.parametrize(
    ("method", "path", "ids", "hint"),
    [
        ("create_group", "/buckets/b/groups/g", {"bucket": "b", "id": "g"}, "bucket exists"),
        ("create_collection", "/buckets/b/collections/c", {"bucket": "b", "id": "c"}, "bucket"),
        (
            "create_record",
            f"{RECORDS}/r1",
            {"bucket": "b", "collection": "c", "id": "r1"},
            "record",
        ),
    ],
)
def test_a_403_on_create_gives_kinto_http_hint(
    wire: Wire, method: str, path: str, ids: dict[str, Any], hint: str
) -> None:
    wire.reply("PUT", path, status=403, json=FORBIDDEN)
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: getattr(c, method)(**ids))
    error = info.value
    assert error.message is not None and error.message.startswith(
        "Unauthorized. Please check that the "
    )
    assert hint in error.message
    assert str(error) == f"PUT /v1{path} - 403 {error.message}"
    assert error.response.status_code == 403


def test_create_record_403_is_kinto_http_exact_wording(wire: Wire) -> None:
    wire.reply("PUT", f"{RECORDS}/r1", status=403, json=FORBIDDEN)
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.create_record(bucket="b", collection="c", id="r1", data={}))
    assert info.value.message == (
        "Unauthorized. Please check that the collection exists and that you have the "
        "permission to create or write on this collection record."
    )


def test_a_401_on_get_bucket_gives_kinto_http_hint(wire: Wire) -> None:
    wire.reply("GET", "/buckets/b", status=401, json={"code": 401, "errno": 104})
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.get_bucket(id="b"))
    assert info.value.message == (
        "Unauthorized. Please authenticate or make sure the bucket can be read anonymously."
    )
    assert str(info.value).startswith("GET /v1/buckets/b - 401 Unauthorized.")


def test_error_messages_never_show_credentials(wire: Wire) -> None:
    wire.reply("PUT", "/buckets/b/groups/g", status=403, json=FORBIDDEN)
    client = wire.client(auth=("alice", "s3cret-pw"))
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.create_group(bucket="b", id="g"), client)
    shown = str(info.value) + repr(info.value) + repr(client.session) + repr(client)
    assert "s3cret" not in shown and "YWxpY2U6czNjcmV0LXB3" not in shown


# --- dry mode ----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["init", "clone"])
def test_dry_mode_records_batches_and_sends_nothing(wire: Wire, how: str) -> None:
    if how == "init":
        client = wire.client(bucket="b", collection="c", dry_mode=True)
    else:
        client = wire.client(bucket="b", collection="c").clone(dry_mode=True)
        wire.mock(client)
    batch = wire.batch(client, lambda b: [b.create_record(data={"n": 1}), b.delete_record(id="r1")])
    assert batch.results() == [{}, {}]
    assert wire.run(lambda c: c.create_record(data={"n": 2}), client) == {}
    assert wire.run(lambda c: c.get_records(), client) == []
    assert wire.calls == []


def test_dry_mode_is_off_again_on_a_clone(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c", dry_mode=True)
    live = client.clone(dry_mode=False)
    wire.mock(live)
    wire.ok("GET", RECORDS, [])
    wire.run(lambda c: c.get_records(), live)
    assert len(wire.calls) == 1


# --- client.session ------------------------------------------------------------------


def test_session_request_runs_through_retries_and_error_mapping(
    wire: Wire, sleeps: list[float]
) -> None:
    wire.reply(
        "GET", "/__heartbeat__", status=503, json={"code": 503}, headers={"Retry-After": "2"}
    )
    wire.reply("GET", "/__heartbeat__", json={"storage": True}, headers={"X-A": "1"})
    client = wire.client(retry=1)
    body, headers = wire.run(lambda c: c.session.request("get", "/__heartbeat__"), client)
    assert body == {"storage": True}
    assert headers["x-a"] == "1"
    assert sleeps == [2.0]
    wire.reply("POST", "/plugin", status=400, json={"code": 400, "errno": 107, "message": "bad"})
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.session.request("post", "/plugin", data={"x": 1}), client)
    assert str(info.value) == "POST /v1/plugin - 400 bad (errno 107)"
    assert wire.calls[-1].json() == {"data": {"x": 1}}
    assert wire.calls[-1].headers["Content-Type"] == "application/json"


def test_session_request_params_payload_and_bodiless_answers(wire: Wire) -> None:
    wire.reply("HEAD", RECORDS, headers={"Total-Objects": "3"})
    wire.reply("PATCH", "/x", status=204)
    client = wire.client()
    body, headers = wire.run(
        lambda c: c.session.request("head", RECORDS, params={"in_id": ["a", "b"]}), client
    )
    assert body is None and headers["Total-Objects"] == "3"
    assert wire.calls[0].params == {"in_id": "a,b"}
    body, _ = wire.run(lambda c: c.session.request("patch", "/x", payload=[{"op": "x"}]), client)
    assert body is None
    assert wire.calls[1].json() == [{"op": "x"}]
    with pytest.raises(KintoException, match="not allowed to have a body"):
        wire.run(lambda c: c.session.request("get", "/x", data={"a": 1}), client)
    with pytest.raises(TypeError, match="stream"):
        wire.run(lambda c: c.session.request("get", "/x", stream=True), client)


def test_session_attributes(wire: Wire) -> None:
    client = wire.client(auth=("alice", "pw"), retry=2, retry_after=1)
    session = client.session
    assert session.server_url == SERVER
    assert session.nb_retry == 2 and session.retry_after == 1
    assert client.clone(bucket="x").session == session
    assert client.clone(auth=("bob", "pw")).session != session
    assert session.auth == ("alice", "pw")  # as given, as kinto-http's session.auth
    assert client.clone(bucket="x").session.auth == ("alice", "pw")
    assert "pw" not in repr(session) + repr(client) + repr(client._credentials)
    assert wire.client(auth="bob:s:e").session.auth == ("bob", "s:e")
    bearer = wire.client(auth="Bearer abc").session.auth
    assert isinstance(bearer, BearerTokenAuth) and bearer.token == "abc"


def test_session_request_in_a_batch_is_recorded(wire: Wire) -> None:
    wire.reply("GET", "/", json=SERVER_INFO)
    wire.reply("POST", "/batch", json={"responses": [{"status": 200, "body": {"ok": 1}}]})
    client = wire.client()
    batch = wire.batch(client, lambda b: b.session.request("put", "/plugin/x", data={"a": 1}))
    assert batch.results() == [{"ok": 1}]
    assert wire.calls[-1].json()["requests"][0]["path"] == "/plugin/x"


def test_standalone_session_is_shared_by_a_client(sync_wire: Wire) -> None:
    sync_wire.ok("GET", "/buckets/b", {"id": "b"})
    session = Session(SERVER, auth=("alice", "pw"))
    client = Client(session=session, bucket="b")
    assert client.session == session
    assert client.get_bucket() == {"data": {"id": "b"}}
    assert sync_wire.calls[0].headers["Authorization"].startswith("Basic ")
    with pytest.raises(AttributeError, match="either session or"):
        Client(session=session, server_url=SERVER)


# --- a session replaced by a mock (kinto-http's tests) -------------------------------


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_a_mock_session_gets_every_request(cls: type[Any]) -> None:
    session = mock.MagicMock()
    session.request.return_value = ({"data": {"id": "b"}, "permissions": {}}, {})
    client = cls(session=session, bucket="mybucket")

    def run(value: Any) -> Any:
        return asyncio.run(_await(value)) if cls is AsyncClient else value

    assert run(client.get_bucket()) == {"data": {"id": "b"}, "permissions": {}}
    session.request.assert_called_with("get", "/buckets/mybucket")
    run(client.update_bucket(id="testbucket", data={"foo": "bar"}, if_match=1234))
    session.request.assert_called_with(
        "put",
        "/buckets/testbucket",
        data={"foo": "bar"},
        permissions=None,
        headers={"If-Match": '"1234"'},
    )
    error = KintoException()
    error.response = mock.MagicMock(status_code=412, headers={})
    session.request.side_effect = [error, ({"data": {"id": "r"}}, {})]
    result = run(client.create_record(collection="c", id="r", data={}, if_not_exists=True))
    assert result == {"data": {"id": "r"}}
    session.request.side_effect = KintoException("An error occured")
    with pytest.raises(KintoException, match="An error occured"):
        run(client.delete_group(id="g", if_exists=True))


def test_patching_session_request_routes_the_client_through_it(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c")
    error = KintoException()
    error.response = mock.MagicMock(status_code=412, headers={})
    with (
        mock.patch.object(client.session, "request", side_effect=error),
        pytest.raises(PreconditionFailed),
    ):
        wire.run(lambda c: c.create_record(id="r1", data={}), client)
    assert wire.calls == []


def test_a_patched_session_serves_the_clients_clones(wire: Wire) -> None:
    """kinto-http's tests patch client.session.request, then work through clones."""
    client = wire.client(bucket="b", collection="c")
    with mock.patch.object(client.session, "request", return_value=({"data": []}, {})) as fake:
        assert wire.run(lambda c: c.get_records(), client.clone(collection="d")) == []
    assert fake.call_args.args[:2] == ("get", "/buckets/b/collections/d/records")
    assert wire.calls == []


async def _await(value: Any) -> Any:
    return await value


def test_async_client_methods_that_kinto_http_awaits_can_be_awaited() -> None:
    client = AsyncClient(server_url=SERVER, bucket="b")
    assert asyncio.run(_await(client.get_endpoint("collection", collection="c"))) == (
        "/buckets/b/collections/c"
    )
    assert client.get_endpoint("bucket") == "/buckets/b"  # kintorm's plain call still works


def test_the_awaited_batch_form_is_for_the_async_client() -> None:
    client = Client(server_url=SERVER)
    with pytest.raises(TypeError, match="for an AsyncClient"):
        asyncio.run(_await(client.batch()))


def test_a_mock_session_follows_its_own_next_page_links() -> None:
    link = "http://example.org/buckets/b/collections/c/records?_token=t1"
    session = mock.MagicMock()
    session.request.side_effect = [
        ({"data": [{"id": "1"}]}, {"Next-Page": link}),
        ({"data": [{"id": "2"}]}, {}),
    ]
    client = Client(session=session, bucket="b", collection="c")
    assert client.get_records() == [{"id": "1"}, {"id": "2"}]
    session.request.assert_called_with(
        "get", "http://example.org/buckets/b/collections/c/records", params={"_token": "t1"}
    )


def test_a_real_client_still_refuses_a_foreign_next_page(wire: Wire) -> None:
    wire.ok("GET", RECORDS, [], headers={"Next-Page": "http://evil.test/v1/x?_token=1"})
    with pytest.raises(KintoException, match="another origin"):
        wire.run(lambda c: c.get_records(bucket="b", collection="c"))


def test_a_missing_id_is_a_value_error_and_kinto_http_key_error(wire: Wire) -> None:
    for call in (
        lambda c: c.create_group(bucket="b", data={"members": []}),
        lambda c: c.update_record(bucket="b", collection="c", data={"x": 1}),
    ):
        with pytest.raises(ValueError) as info:
            wire.run(call)
        assert isinstance(info.value, KeyError)
        assert "id" in str(info.value) or "group" in str(info.value)
    assert wire.calls == []
