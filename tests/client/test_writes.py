"""The pure request builders of kintorm/client/writes.py and the one record id maker."""

from __future__ import annotations

import uuid

import pytest

from kintorm.client.patch import JSONPatch, MergePatch
from kintorm.client.writes import (
    create_request,
    delete_request,
    new_record_id,
    patch_request,
    update_request,
)

PATH = "/buckets/b/collections/c/records/r1"


def test_a_safe_create_is_a_put_with_if_none_match() -> None:
    request = create_request(PATH, {"title": "a"}, {"read": ["system.Everyone"]})
    assert (request.method, request.path) == ("PUT", PATH)
    assert dict(request.headers) == {"If-None-Match": "*", "Content-Type": "application/json"}
    assert request.json() == {"data": {"title": "a"}, "permissions": {"read": ["system.Everyone"]}}
    unsafe = create_request(PATH, {"title": "a"}, safe=False)
    assert dict(unsafe.headers) == {"Content-Type": "application/json"}
    assert unsafe.json() == {"data": {"title": "a"}}


def test_an_update_is_guarded_by_if_match_from_the_data_or_the_argument() -> None:
    request = update_request(PATH, {"title": "a", "last_modified": 12})
    assert request.method == "PUT"
    assert dict(request.headers) == {"If-Match": '"12"', "Content-Type": "application/json"}
    assert update_request(PATH, {"last_modified": 12}, if_match=15).headers["If-Match"] == '"15"'
    assert "If-Match" not in update_request(PATH, {"last_modified": 12}, safe=False).headers


def test_a_patch_says_its_content_type() -> None:
    basic = patch_request(PATH, data={"title": "b"}, if_match=3)
    assert basic.method == "PATCH"
    assert dict(basic.headers) == {"If-Match": '"3"', "Content-Type": "application/json"}
    assert basic.json() == {"data": {"title": "b"}}
    merge = patch_request(PATH, MergePatch(data={"title": None}), original={"last_modified": 4})
    assert merge.headers["Content-Type"] == "application/merge-patch+json"
    assert merge.headers["If-Match"] == '"4"'
    ops = [{"op": "remove", "path": "/data/title"}]
    json_patch = patch_request(PATH, JSONPatch(ops), safe=False)
    assert json_patch.headers == {"Content-Type": "application/json-patch+json"}
    assert json_patch.json() == ops
    with pytest.raises(TypeError, match="changes must be"):
        patch_request(PATH, {"title": "x"})  # type: ignore[arg-type]


def test_a_delete_is_guarded_when_a_version_is_given() -> None:
    assert dict(delete_request(PATH, if_match=7).headers) == {"If-Match": '"7"'}
    assert dict(delete_request(PATH).headers) == {}
    assert delete_request(PATH).body is None


def test_record_ids_are_new_uuids() -> None:
    ids = {new_record_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(uuid.UUID(i).version == 4 for i in ids)
