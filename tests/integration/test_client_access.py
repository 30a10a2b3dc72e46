"""Accounts, permissions between users, bad credentials and the history plugin."""

from __future__ import annotations

from typing import Any

import pytest

from kintorm import BucketNotFound, Client, KintoException


def test_second_account_needs_a_read_permission(api: Any, make_api: Any, bob_auth: Any) -> None:
    api.create_record(id="secret", data={"v": 1})
    bob = make_api(auth=bob_auth)
    assert bob.server_info()["user"]["id"] == f"account:{bob_auth[0]}"

    with pytest.raises(BucketNotFound) as caught:
        bob.get_bucket()
    assert caught.value.response.status_code == 403
    with pytest.raises(KintoException) as caught:
        bob.get_records()
    assert caught.value.response.status_code == 403
    assert "403" in str(caught.value)

    granted = api.patch_bucket(permissions={"read": [f"account:{bob_auth[0]}"]})
    assert f"account:{bob_auth[0]}" in granted["permissions"]["read"]
    assert bob.get_bucket()["data"]["id"] == api.bucket_name
    assert [r["id"] for r in bob.get_records()] == ["secret"]
    # read is not write
    with pytest.raises(KintoException) as caught:
        bob.create_record(data={"v": 2})
    assert caught.value.response.status_code == 403


def test_group_principal_grants_read(api: Any, make_api: Any, bob_auth: Any) -> None:
    api.create_record(id="shared", data={"v": 1})
    bob = make_api(auth=bob_auth)
    with pytest.raises(KintoException):
        bob.get_record(id="shared")

    api.create_group(id="readers", data={"members": [f"account:{bob_auth[0]}"]})
    group = f"/buckets/{api.bucket_name}/groups/readers"
    collection = api.patch_collection(id="items", permissions={"read": [group]})
    assert collection["permissions"]["read"] == [group]

    assert bob.get_record(id="shared")["data"]["v"] == 1
    assert group in make_api(auth=bob_auth).server_info()["user"]["principals"]
    # removing him from the group takes the permission away
    api.patch_group(id="readers", data={"members": []})
    with pytest.raises(KintoException) as caught:
        bob.get_record(id="shared")
    assert caught.value.response.status_code in (401, 403)


def test_wrong_password_is_anonymous(
    kinto_server_url: str, kinto_admin_auth: tuple[str, str], uid: Any
) -> None:
    password = "definitely-wrong-pw"
    client = Client(server_url=kinto_server_url, auth=(kinto_admin_auth[0], password))
    info = client.server_info()
    assert "user" not in info  # Kinto treats bad credentials as anonymous
    bucket = uid("anon")
    with pytest.raises(KintoException) as caught:
        client.create_bucket(id=bucket)
    status = caught.value.response.status_code
    assert status in (401, 403)
    message = str(caught.value)
    assert str(status) in message
    assert f"/buckets/{bucket}" in message
    assert password not in message
    assert password not in repr(caught.value)
    assert password not in repr(client)


def test_history_and_purge(api: Any) -> None:
    api.create_record(id="h", data={"v": 1})
    api.patch_record(id="h", data={"v": 2})
    api.delete_record(id="h")
    entries = api.get_history(resource_name="record")
    assert [e["action"] for e in entries] == ["delete", "update", "create"]  # newest first
    assert {e["record_id"] for e in entries} == {"h"}
    assert entries[1]["target"]["data"]["v"] == 2
    assert [e["action"] for e in api.get_history(action="create")] == ["create"] * 3

    purged = api.purge_history()
    assert len(purged) >= 3
    assert api.get_history() == []
