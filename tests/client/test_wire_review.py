"""Changesets (kinto-changes) and the signing review workflow (kinto-signer): the exact
requests, sync and async, checked against what kinto-http itself sends.

Neither plugin is installed with the test server (kinto-changes and kinto-signer are
on PyPI but not dependencies of this project), so these are wire tests, with the
response shape of kinto-remote-settings' ``changes/views.py``.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import kinto_http
import pytest
import responses

from kintorm import Client, MergePatch

from ._wire import SERVER, SERVER_INFO, Call, Wire

COLLECTION = "/buckets/main-workspace/collections/cfr"
CHANGESET = {
    "metadata": {"id": "cfr", "last_modified": 1700, "status": "signed", "bucket": "main"},
    "timestamp": 1690,
    "changes": [
        {"id": "r2", "last_modified": 1690, "title": "b"},
        {"id": "r1", "last_modified": 1680, "deleted": True},
    ],
}
#: step, positional arguments, the collection data it sends
STEPS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("request_review", ("please",), {"status": "to-review", "last_editor_comment": "please"}),
    ("decline_changes", ("typo",), {"status": "work-in-progress", "last_reviewer_comment": "typo"}),
    ("approve_changes", (), {"status": "to-sign"}),
    ("rollback_changes", ("oops",), {"status": "to-rollback", "last_editor_comment": "oops"}),
]


def changeset_call(wire: Wire, **kwargs: Any) -> tuple[Any, Call]:
    wire.reply("GET", "/buckets/main/collections/cfr/changeset", json=CHANGESET)
    result = wire.run(lambda c: c.get_changeset(**kwargs), wire.client(bucket="main"))
    (sent,) = wire.calls
    return result, sent


def test_changeset_returns_the_body_and_sends_expected_zero(wire: Wire) -> None:
    result, sent = changeset_call(wire, collection="cfr")
    assert result == CHANGESET
    assert (sent.method, sent.path, sent.query) == (
        "GET",
        "/v1/buckets/main/collections/cfr/changeset",
        [("_expected", "0")],
    )
    assert sent.body == b""


def test_changeset_bust_cache_sends_a_random_expected_in_kinto_http_range(wire: Wire) -> None:
    _, sent = changeset_call(wire, collection="cfr", bust_cache=True)
    assert 999999000000 <= int(sent.params["_expected"]) <= 999999999999


def test_changeset_expected_given_wins_over_bust_cache(wire: Wire) -> None:
    _, sent = changeset_call(wire, collection="cfr", bust_cache=True, _expected="42")
    assert sent.query == [("_expected", "42")]


@pytest.mark.parametrize("since", [1680, "1680", '"1680"'])
def test_changeset_since_is_sent_quoted(wire: Wire, since: Any) -> None:
    _, sent = changeset_call(wire, collection="cfr", _since=since, _limit=10)
    assert sent.params == {"_since": '"1680"', "_limit": "10", "_expected": "0"}


@pytest.mark.parametrize("since", ["yesterday", True, 1.5, '"12'])
def test_changeset_bad_since_raises_before_any_request(wire: Wire, since: Any) -> None:
    with pytest.raises(ValueError, match="_since must be a timestamp"):
        wire.run(lambda c: c.get_changeset(collection="cfr", _since=since))
    assert wire.calls == []


def test_changeset_positional_bucket_and_collection_as_in_kinto_http(wire: Wire) -> None:
    wire.reply("GET", "/buckets/main/collections/cfr/changeset", json=CHANGESET)
    assert wire.run(lambda c: c.get_changeset("main", "cfr")) == CHANGESET


def test_changeset_uses_the_client_defaults(wire: Wire) -> None:
    wire.reply("GET", "/buckets/main/collections/cfr/changeset", json=CHANGESET)
    client = wire.client(bucket="main", collection="cfr")
    assert wire.run(lambda c: c.get_changeset(), client) == CHANGESET


def test_changeset_on_the_monitor_changes_collection_passes_its_filters(wire: Wire) -> None:
    monitor = {"metadata": {}, "timestamp": 5, "changes": [{"id": "x", "bucket": "main"}]}
    wire.reply("GET", "/buckets/monitor/collections/changes/changeset", json=monitor)
    result = wire.run(
        lambda c: c.get_changeset(bucket="monitor", collection="changes", bucket_="x")
    )
    assert result == monitor
    (sent,) = wire.calls
    assert sent.params == {"bucket_": "x", "_expected": "0"}


def test_get_endpoint_knows_the_changeset() -> None:
    client = Client(server_url=SERVER, bucket="b", collection="c")
    assert client.get_endpoint("changeset") == "/buckets/b/collections/c/changeset"


@pytest.mark.parametrize(("step", "args", "data"), STEPS, ids=[s[0] for s in STEPS])
def test_review_step_patches_the_collection_status(
    wire: Wire, step: str, args: tuple[Any, ...], data: dict[str, Any]
) -> None:
    body = {"data": {"id": "cfr", "last_modified": 9, **data}, "permissions": {}}
    wire.reply("PATCH", COLLECTION, json=body)
    client = wire.client(bucket="main-workspace", collection="cfr")
    assert wire.run(lambda c: getattr(c, step)(*args), client) == body
    (sent,) = wire.calls
    assert (sent.method, sent.path, sent.query) == ("PATCH", f"/v1{COLLECTION}", [])
    assert sent.headers["Content-Type"] == "application/json"
    assert "If-Match" not in sent.headers
    assert sent.json() == {"data": data}


@pytest.mark.parametrize(("step", "args", "data"), STEPS, ids=[s[0] for s in STEPS])
def test_review_step_takes_id_bucket_data_and_if_match(
    wire: Wire, step: str, args: tuple[Any, ...], data: dict[str, Any]
) -> None:
    wire.reply("PATCH", COLLECTION, json={"data": {}})
    wire.run(
        lambda c: getattr(c, step)(
            *args,
            id="cfr",
            bucket="main-workspace",
            data={"extra": 1, "status": "ignored"},
            if_match=7,
        )
    )
    (sent,) = wire.calls
    assert sent.path == f"/v1{COLLECTION}"
    assert sent.headers["If-Match"] == '"7"'
    assert sent.json() == {"data": {"extra": 1, **data}}  # the step's status wins


def test_review_step_message_by_keyword(wire: Wire) -> None:
    wire.reply("PATCH", COLLECTION, json={"data": {}})
    wire.run(lambda c: c.request_review(message="hi", id="cfr", bucket="main-workspace"))
    assert wire.calls[0].json() == {"data": {"status": "to-review", "last_editor_comment": "hi"}}


def test_review_step_unknown_keyword_is_a_type_error(wire: Wire) -> None:
    with pytest.raises(TypeError, match="colour"):
        wire.run(lambda c: c.approve_changes(id="cfr", bucket="b", colour="red"))
    assert wire.calls == []


def test_review_step_refuses_a_patch_that_would_drop_the_status(wire: Wire) -> None:
    with pytest.raises(TypeError, match="not changes="):
        wire.run(lambda c: c.request_review("x", id="cfr", bucket="b", changes=MergePatch({})))
    assert wire.calls == []


def test_review_steps_in_a_batch(wire: Wire) -> None:
    client = wire.client(bucket="main-workspace")
    wire.reply("GET", "/", json=SERVER_INFO)
    replies = [{"status": 200, "path": f"/v1{COLLECTION}", "headers": {}, "body": {"data": {}}}]
    wire.reply("POST", "/batch", json={"responses": replies * 2})
    wire.batch(client, lambda b: [b.request_review("r", id="cfr"), b.approve_changes(id="cfr")])
    post = wire.calls[-1]
    assert post.json()["requests"] == [
        {
            "method": "PATCH",
            "path": COLLECTION,
            "headers": {"Content-Type": "application/json"},
            "body": {"data": {"status": "to-review", "last_editor_comment": "r"}},
        },
        {
            "method": "PATCH",
            "path": COLLECTION,
            "headers": {"Content-Type": "application/json"},
            "body": {"data": {"status": "to-sign"}},
        },
    ]


# --- the same calls through kinto-http itself ----------------------------------------

CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("get_changeset", ("main", "cfr"), {}),
    ("get_changeset", (), {"bucket": "main", "collection": "cfr", "_since": '"1680"'}),
    ("get_changeset", (), {"bucket": "main", "collection": "cfr", "_limit": 3}),
    ("get_changeset", (), {"bucket": "main", "collection": "cfr", "bust_cache": True}),
    ("request_review", ("please",), {"id": "cfr", "bucket": "main"}),
    ("decline_changes", ("no",), {"id": "cfr", "bucket": "main", "if_match": 4}),
    ("approve_changes", (), {"id": "cfr", "bucket": "main", "data": {"x": [1]}}),
    ("rollback_changes", ("undo",), {"id": "cfr", "bucket": "main", "safe": False}),
]


def _sent(rsps: responses.RequestsMock, make: Any, name: str, args: Any, kwargs: Any) -> Any:
    rsps.calls.reset()
    random.seed(1)  # the same cache-busting value on both sides
    getattr(make(), name)(*args, **kwargs)
    (call,) = rsps.calls
    request = call.request
    headers = {k: v for k, v in request.headers.items() if k in ("If-Match", "Content-Type")}
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    return request.method, request.url, headers, body and json.loads(body)


@pytest.mark.parametrize(("name", "args", "kwargs"), CALLS)
def test_same_request_as_kinto_http(
    rsps: responses.RequestsMock, name: str, args: Any, kwargs: Any
) -> None:
    for method in ("GET", "PATCH"):
        rsps.add(method, re.compile(".*"), json={"data": {}})
    theirs = _sent(rsps, lambda: kinto_http.Client(server_url=SERVER), name, args, kwargs)
    ours = _sent(rsps, lambda: Client(server_url=SERVER), name, args, kwargs)
    assert ours == theirs
