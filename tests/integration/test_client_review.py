"""The review workflow against a real Kinto, sync and async (``api``).

Plain Kinto has no signer plugin: nothing reacts to the status, but the PATCH each
step sends is applied like any collection PATCH, so this shows that the collection
holds what the signer would read (its status and comment), that other metadata is
kept, and that ``if_match`` guards a step. The changeset endpoint needs
kinto-changes and is covered by the wire tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from kintorm import KintoException, PreconditionFailed


def test_review_steps_write_status_and_comments(api: Any) -> None:
    api.patch_collection(id="items", data={"displayFields": ["title"]})
    steps = [
        (lambda: api.request_review("ready"), "to-review"),
        (lambda: api.decline_changes("typo in r1"), "work-in-progress"),
        (lambda: api.request_review("fixed"), "to-review"),
        (lambda: api.approve_changes(), "to-sign"),
        (lambda: api.rollback_changes("not today"), "to-rollback"),
    ]
    for step, status in steps:
        assert step()["data"]["status"] == status
        assert api.get_collection(id="items")["data"]["status"] == status
    data = api.get_collection(id="items")["data"]
    assert data["last_editor_comment"] == "not today"
    assert data["last_reviewer_comment"] == "typo in r1"
    assert data["displayFields"] == ["title"]


def test_review_step_on_another_collection_by_id(api: Any, uid: Any) -> None:
    other = uid("c")
    api.create_collection(id=other)
    api.request_review("look", id=other)
    assert api.get_collection(id=other)["data"]["status"] == "to-review"
    assert "status" not in api.get_collection(id="items")["data"]


def test_review_step_if_match_refuses_a_stale_collection(api: Any) -> None:
    stale = api.get_collection(id="items")["data"]["last_modified"]
    api.patch_collection(id="items", data={"x": 1})
    with pytest.raises(PreconditionFailed):
        api.approve_changes(if_match=stale)
    assert "status" not in api.get_collection(id="items")["data"]


def test_review_step_on_a_missing_collection_fails(api: Any, uid: Any) -> None:
    with pytest.raises(KintoException) as caught:
        api.request_review("x", id=uid("missing"))
    assert caught.value.response is not None
    assert caught.value.response.status_code in (403, 404)
