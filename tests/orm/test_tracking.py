"""The diff, without a server; and the property: the emitted patch, applied by the real
server, turns document A into document B."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kintorm import Client, JSONPatch, MergePatch
from kintorm.orm.tracking import diff_documents, json_diff, merge_diff, same

from .models import Doc

keys = st.text("abcdefgh_~/", min_size=1, max_size=4)
# no NUL: PostgreSQL cannot store it in jsonb (Kinto answers 503 there, 201 on memory);
# no lone surrogates: they are not text (kintorm refuses them, see test_bad_input)
text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=5)
scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | text
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=8,
)
documents = st.dictionaries(keys, json_values, max_size=5)


def test_merge_diff() -> None:
    assert merge_diff({"a": 1, "b": 2}, {"a": 1}) == {"b": None}
    assert merge_diff({"a": {"x": 1, "y": 2}}, {"a": {"x": 1, "y": 3}}) == {"a": {"y": 3}}
    assert merge_diff({"a": 1}, {"a": None}) is None  # null would delete
    assert merge_diff({"a": 1}, {"a": {"x": None}}) is None
    assert merge_diff({}, {"a": [None]}) == {"a": [None]}  # arrays are copied whole
    # Kinto merges an object into a non-object instead of replacing it (found by Hypothesis)
    assert merge_diff({"a": None}, {"a": {}}) is None
    assert merge_diff({}, {"a": {"b": 1}}) == {"a": {"b": 1}}


def test_same_is_strict() -> None:
    assert not same(1, True) and not same(1, 1.0) and same({"a": [1]}, {"a": [1]})


def test_json_diff_paths_are_escaped() -> None:
    assert json_diff({"a/b": 1}, {"a/b": 2, "~": 3}, ["data"]) == [
        {"op": "add", "path": "/data/a~1b", "value": 2},
        {"op": "add", "path": "/data/~0", "value": 3},
    ]


def test_permissions_diff() -> None:
    old = {"data": {}, "permissions": {"read": ["a"], "write": ["w"]}}
    new = {"data": {}, "permissions": {"read": ["a", "b"], "write": ["w"]}}
    assert diff_documents(old, new) == MergePatch(permissions={"read": ["a", "b"]})
    assert diff_documents(old, new, "json") == JSONPatch(
        [{"op": "add", "path": "/permissions/read/b"}]
    )
    assert diff_documents(old, old) is None


def _roundtrip(client: Client, a: dict[str, Any], b: dict[str, Any], mode: str) -> None:
    doc = Doc()
    doc.extra_fields.update(a)
    doc.save()
    doc.extra_fields.clear()
    doc.extra_fields.update(b)
    if same(a, b):
        assert doc.diff() is None
    doc.save(patch=mode)  # type: ignore[arg-type]
    stored = client.get_record(id=doc.id)["data"]
    stored.pop("id"), stored.pop("last_modified")
    assert same(stored, b), (a, b, stored)
    doc.delete()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(a=documents, b=documents)
def test_merge_patch_applied_by_kinto(client: Client, a: dict[str, Any], b: dict[str, Any]) -> None:
    _roundtrip(client, a, b, "auto")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(a=documents, b=documents)
def test_json_patch_applied_by_kinto(client: Client, a: dict[str, Any], b: dict[str, Any]) -> None:
    _roundtrip(client, a, b, "json")


@pytest.mark.parametrize("mode", ["auto", "json"])
def test_unchanged_sends_nothing(client: Client, mode: str) -> None:
    doc = Doc()
    doc.extra_fields.update({"a": {"b": [1, {"c": None}]}})
    doc.save()
    assert doc.diff(mode) is None  # type: ignore[arg-type]
