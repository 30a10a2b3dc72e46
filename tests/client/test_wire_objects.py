"""The six verbs on buckets, groups, collections and records: method, path, headers, body."""

from __future__ import annotations

from typing import Any

import pytest

from kintorm import BasicPatch, JSONPatch, MergePatch

from ._wire import Wire

#: kind, plural, parent ids, plural path under /v1
KINDS = [
    ("bucket", "buckets", {}, "/buckets"),
    ("group", "groups", {"bucket": "b"}, "/buckets/b/groups"),
    ("collection", "collections", {"bucket": "b"}, "/buckets/b/collections"),
    ("record", "records", {"bucket": "b", "collection": "c"}, "/buckets/b/collections/c/records"),
]
PERMS = {"read": ["system.Everyone"]}


@pytest.fixture(params=KINDS, ids=[k[0] for k in KINDS])
def kind(request: pytest.FixtureRequest) -> tuple[str, str, dict[str, str], str]:
    return request.param  # type: ignore[no-any-return]


def call(wire: Wire, verb: str, kwargs: dict[str, Any]) -> Any:
    return wire.run(lambda c: getattr(c, verb)(**kwargs))


def test_get(wire: Wire, kind: Any) -> None:
    name, _, parents, plural = kind
    body = {"data": {"id": "x1", "last_modified": 3}, "permissions": {"write": ["a"]}}
    wire.reply("GET", f"{plural}/x1", json=body)
    assert call(wire, f"get_{name}", {"id": "x1", **parents}) == body
    (sent,) = wire.calls
    assert (sent.method, sent.path, sent.query, sent.body) == ("GET", f"/v1{plural}/x1", [], b"")
    assert "If-Match" not in sent.headers and "Content-Type" not in sent.headers


def test_list(wire: Wire, kind: Any) -> None:
    _, plural_name, parents, plural = kind
    wire.ok("GET", plural, [{"id": "a"}, {"id": "b"}])
    assert call(wire, f"get_{plural_name}", {**parents, "_sort": "id"}) == [
        {"id": "a"},
        {"id": "b"},
    ]
    (sent,) = wire.calls
    assert (sent.method, sent.path, sent.query) == ("GET", f"/v1{plural}", [("_sort", "id")])


def test_create_is_safe_by_default(wire: Wire, kind: Any) -> None:
    name, _, parents, plural = kind
    wire.reply("PUT", f"{plural}/x1", status=201, json={"data": {"id": "x1"}})
    result = call(
        wire,
        f"create_{name}",
        {"id": "x1", "data": {"title": "t"}, "permissions": PERMS, **parents},
    )
    assert result == {"data": {"id": "x1"}}
    (sent,) = wire.calls
    assert (sent.method, sent.path) == ("PUT", f"/v1{plural}/x1")
    assert sent.headers["If-None-Match"] == "*"
    assert sent.headers["Content-Type"] == "application/json"
    assert "If-Match" not in sent.headers
    assert sent.json() == {"data": {"title": "t"}, "permissions": PERMS}


def test_create_takes_the_id_from_data(wire: Wire, kind: Any) -> None:
    name, _, parents, plural = kind
    wire.reply("PUT", f"{plural}/fromdata", json={"data": {"id": "fromdata"}})
    call(wire, f"create_{name}", {"data": {"id": "fromdata"}, **parents})
    assert wire.calls[0].path == f"/v1{plural}/fromdata"


def test_create_unsafe_sends_no_precondition(wire: Wire, kind: Any) -> None:
    name, _, parents, plural = kind
    wire.ok("PUT", f"{plural}/x1")
    call(wire, f"create_{name}", {"id": "x1", "safe": False, **parents})
    (sent,) = wire.calls
    assert "If-None-Match" not in sent.headers and "If-Match" not in sent.headers
    assert sent.json() == {}


def test_update_if_match_from_data(wire: Wire, kind: Any) -> None:
    name, _, parents, plural = kind
    data = {"id": "x1", "title": "new", "last_modified": 1234}
    wire.ok("PUT", f"{plural}/x1", data)
    assert call(wire, f"update_{name}", {"data": data, **parents}) == {"data": data}
    (sent,) = wire.calls
    assert (sent.method, sent.path) == ("PUT", f"/v1{plural}/x1")
    assert sent.headers["If-Match"] == '"1234"'
    assert "If-None-Match" not in sent.headers
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.json() == {"data": data}


def test_update_explicit_if_match_and_permissions(wire: Wire, kind: Any) -> None:
    name, _, parents, plural = kind
    wire.ok("PUT", f"{plural}/x1")
    call(
        wire,
        f"update_{name}",
        {"id": "x1", "data": {"last_modified": 1}, "if_match": 99, "permissions": PERMS, **parents},
    )
    (sent,) = wire.calls
    assert sent.headers["If-Match"] == '"99"'
    assert sent.json() == {"data": {"last_modified": 1}, "permissions": PERMS}


def test_update_unsafe_sends_no_if_match(wire: Wire, kind: Any) -> None:
    name, _, parents, plural = kind
    wire.ok("PUT", f"{plural}/x1")
    data = {"id": "x1", "last_modified": 1234}
    call(wire, f"update_{name}", {"data": data, "safe": False, "if_match": 5, **parents})
    assert "If-Match" not in wire.calls[0].headers


@pytest.mark.parametrize(
    ("changes", "content_type", "body"),
    [
        (None, "application/json", {"data": {"a": None}, "permissions": PERMS}),
        (
            BasicPatch({"a": None}, PERMS),
            "application/json",
            {"data": {"a": None}, "permissions": PERMS},
        ),
        (MergePatch({"a": None}), "application/merge-patch+json", {"data": {"a": None}}),
        (
            MergePatch(permissions={"read": None}),
            "application/merge-patch+json",
            {"permissions": {"read": None}},
        ),
        (
            JSONPatch([{"op": "add", "path": "/data/members/0", "value": "x"}]),
            "application/json-patch+json",
            [{"op": "add", "path": "/data/members/0", "value": "x"}],
        ),
    ],
    ids=["data", "basic", "merge", "merge-perms", "json-patch"],
)
def test_patch_content_types(
    wire: Wire, kind: Any, changes: Any, content_type: str, body: Any
) -> None:
    name, _, parents, plural = kind
    wire.ok("PATCH", f"{plural}/x1", {"id": "x1"})
    kwargs: dict[str, Any] = {"id": "x1", **parents}
    if changes is None:
        kwargs |= {"data": {"a": None}, "permissions": PERMS}
    else:
        kwargs["changes"] = changes
    assert call(wire, f"patch_{name}", kwargs) == {"data": {"id": "x1"}}
    (sent,) = wire.calls
    assert (sent.method, sent.path) == ("PATCH", f"/v1{plural}/x1")
    assert sent.headers["Content-Type"] == content_type
    assert "If-Match" not in sent.headers
    assert sent.json() == body


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"original": {"id": "x1", "last_modified": 10}}, '"10"'),
        ({"data": {"last_modified": 11}}, '"11"'),
        ({"if_match": 12}, '"12"'),
        ({"if_match": '"13"'}, '"13"'),
        ({"original": {"id": "x1", "last_modified": 10}, "if_match": 14}, '"14"'),
        ({"original": {"id": "x1", "last_modified": 10}, "safe": False}, None),
    ],
)
def test_patch_if_match(wire: Wire, kind: Any, extra: dict[str, Any], expected: str | None) -> None:
    name, _, parents, plural = kind
    wire.ok("PATCH", f"{plural}/x1")
    call(wire, f"patch_{name}", {"id": "x1", "changes": MergePatch({"t": 1}), **extra, **parents})
    assert wire.calls[0].headers.get("If-Match") == expected


def test_patch_takes_the_id_from_original(wire: Wire, kind: Any) -> None:
    name, _, parents, plural = kind
    wire.ok("PATCH", f"{plural}/orig")
    original = {"id": "orig", "last_modified": 7}
    call(wire, f"patch_{name}", {"original": original, "changes": MergePatch({"t": 1}), **parents})
    assert wire.calls[0].path == f"/v1{plural}/orig"
    assert wire.calls[0].headers["If-Match"] == '"7"'


def test_patch_refuses_a_plain_dict(wire: Wire, kind: Any) -> None:
    name, _, parents, _ = kind
    with pytest.raises(TypeError, match="BasicPatch, MergePatch or JSONPatch"):
        call(wire, f"patch_{name}", {"id": "x1", "changes": {"t": 1}, **parents})
    assert wire.calls == []


def test_delete(wire: Wire, kind: Any) -> None:
    name, _, parents, plural = kind
    tombstone = {"id": "x1", "last_modified": 5, "deleted": True}
    wire.ok("DELETE", f"{plural}/x1", tombstone)
    assert call(wire, f"delete_{name}", {"id": "x1", **parents}) == tombstone
    (sent,) = wire.calls
    assert (sent.method, sent.path, sent.body) == ("DELETE", f"/v1{plural}/x1", b"")
    assert "If-Match" not in sent.headers


def test_delete_if_match(wire: Wire, kind: Any) -> None:
    name, _, parents, plural = kind
    wire.ok("DELETE", f"{plural}/x1").ok("DELETE", f"{plural}/x1")
    call(wire, f"delete_{name}", {"id": "x1", "if_match": 42, **parents})
    call(wire, f"delete_{name}", {"id": "x1", "if_match": 42, "safe": False, **parents})
    assert [c.headers.get("If-Match") for c in wire.calls] == ['"42"', None]


def test_delete_all(wire: Wire, kind: Any) -> None:
    _, plural_name, parents, plural = kind
    tombstones = [{"id": "a", "deleted": True}, {"id": "b", "deleted": True}]
    wire.ok("DELETE", plural, tombstones)
    assert call(wire, f"delete_{plural_name}", {"if_match": 8, **parents}) == tombstones
    (sent,) = wire.calls
    assert (sent.method, sent.path, sent.query) == ("DELETE", f"/v1{plural}", [])
    assert sent.headers["If-Match"] == '"8"'


def test_defaults_come_from_the_client(wire: Wire) -> None:
    client = wire.client(bucket="mybucket", collection="mycoll")
    wire.ok("GET", "/buckets/mybucket/collections/mycoll/records/r1")
    wire.ok("GET", "/buckets/mybucket/collections/mycoll")
    wire.ok("GET", "/buckets/mybucket")
    wire.run(lambda c: c.get_record(id="r1"), client)
    wire.run(lambda c: c.get_collection(), client)
    wire.run(lambda c: c.get_bucket(), client)
    assert [c.path for c in wire.calls] == [
        "/v1/buckets/mybucket/collections/mycoll/records/r1",
        "/v1/buckets/mybucket/collections/mycoll",
        "/v1/buckets/mybucket",
    ]


def test_create_bucket_defaults_to_the_client_bucket(wire: Wire) -> None:
    wire.ok("PUT", "/buckets/default")
    wire.run(lambda c: c.create_bucket())
    assert wire.calls[0].path == "/v1/buckets/default"
