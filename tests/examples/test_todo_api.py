"""The example Todo API (examples/todo_app) through FastAPI's test client, on the real
Kinto of the test session: each request as its user, cursor pages, the hook that
stamps the writer, to_dict/from_dict, ETag and If-Match, attachments."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from tests.examples.conftest import Users


def create(api: TestClient, users: Users, name: str, **fields: object) -> dict[str, object]:
    response = api.post("/todos", json=fields, headers=users.headers(name))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_create_and_get_as_the_user_with_the_hooks_stamps(api: TestClient, users: Users) -> None:
    alice = users.headers("alice")
    created = api.post(
        "/todos", json={"title": "buy milk", "tags": ["home"], "due": "2026-06-01"}, headers=alice
    )
    assert created.status_code == 201
    todo = created.json()
    assert todo == {
        "id": todo["id"],
        "last_modified": todo["last_modified"],
        "title": "buy milk",
        "done": False,
        "tags": ["home"],
        "due": "2026-06-01",
        "created_by": users.principal("alice"),  # by the before_save hook
        "updated_by": users.principal("alice"),
        "photo": None,
        "permissions": {"write": [users.principal("alice")]},  # Kinto: the creator's
    }
    assert created.headers["ETag"] == f'"{todo["last_modified"]}"'
    got = api.get(f"/todos/{todo['id']}", headers=alice)
    assert got.status_code == 200 and got.json() == todo
    assert got.headers["ETag"] == created.headers["ETag"]


def test_patch_with_if_match_and_the_412_with_the_current_version(
    api: TestClient, users: Users
) -> None:
    alice = users.headers("alice")
    todo = create(api, users, "alice", title="a", tags=["x"])
    seen = f'"{todo["last_modified"]}"'
    first = api.patch(
        f"/todos/{todo['id']}", json={"done": True}, headers={**alice, "If-Match": seen}
    )
    assert first.status_code == 200
    assert first.json()["done"] is True and first.json()["tags"] == ["x"]  # the rest kept
    assert first.headers["ETag"] != seen
    # a second writer still holding the old ETag is refused, and shown the current version
    stale = api.patch(
        f"/todos/{todo['id']}", json={"title": "b"}, headers={**alice, "If-Match": seen}
    )
    assert stale.status_code == 412
    without_permissions = {k: v for k, v in first.json().items() if k != "permissions"}
    assert stale.json()["current"] == without_permissions  # Kinto's 412 has none
    assert stale.headers["ETag"] == first.headers["ETag"]  # what to send once looked at
    assert api.get(f"/todos/{todo['id']}", headers=alice).json()["title"] == "a"
    retried = api.patch(
        f"/todos/{todo['id']}",
        json={"title": "b"},
        headers={**alice, "If-Match": stale.headers["ETag"]},
    )
    assert retried.status_code == 200 and retried.json()["title"] == "b"
    # without If-Match, the change applies to the current version; null clears a field
    cleared = api.patch(f"/todos/{todo['id']}", json={"tags": [], "due": None}, headers=alice)
    assert cleared.json()["tags"] == [] and cleared.json()["due"] is None


def test_delete_with_if_match(api: TestClient, users: Users) -> None:
    alice = users.headers("alice")
    todo = create(api, users, "alice", title="a")
    stale = {**alice, "If-Match": '"1"'}
    refused = api.delete(f"/todos/{todo['id']}", headers=stale)
    assert refused.status_code == 412 and refused.json()["current"]["id"] == todo["id"]
    current = {**alice, "If-Match": f'"{todo["last_modified"]}"'}
    assert api.delete(f"/todos/{todo['id']}", headers=current).status_code == 204
    assert api.get(f"/todos/{todo['id']}", headers=alice).status_code == 404


def test_cursor_pages_newest_first_with_filters(api: TestClient, users: Users) -> None:
    alice = users.headers("alice")
    made = [
        create(api, users, "alice", title=f"t{i}", done=i % 2 == 0, tags=[f"k{i % 3}"])
        for i in range(7)
    ]
    newest_first = [t["id"] for t in reversed(made)]

    def walk(limit: int, **query: str) -> tuple[list[str], int]:
        ids, cursor, pages = [], None, 0
        while True:
            params = {"limit": limit, **query, **({"cursor": cursor} if cursor else {})}
            response = api.get("/todos", params=params, headers=alice)
            assert response.status_code == 200, response.text
            body = response.json()
            assert len(body["items"]) <= limit
            ids += [t["id"] for t in body["items"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                return ids, pages

    assert walk(3) == (newest_first, 3)
    assert walk(7)[0] == newest_first
    done_ids = [t["id"] for t in reversed(made) if t["done"]]
    assert walk(2, done="true") == (done_ids, 2)
    assert walk(1, tag="k1")[0] == [t["id"] for t in reversed(made) if t["tags"] == ["k1"]]
    first = api.get("/todos", params={"limit": 2}, headers=alice).json()
    newest = api.get(f"/todos/{newest_first[0]}", headers=alice).json()
    assert first["items"][0] == {k: v for k, v in newest.items() if k != "permissions"}
    # the cursor is not bound to the page size: the next page starts after the last seen
    rest = api.get("/todos", params={"limit": 10, "cursor": first["next_cursor"]}, headers=alice)
    assert [t["id"] for t in rest.json()["items"]] == newest_first[2:]
    assert rest.json()["next_cursor"] is None
    assert api.get("/todos", headers=alice).json()["items"][0]["id"] == newest_first[0]


def test_each_user_lists_their_own_and_what_is_shared_with_them(
    api: TestClient, users: Users
) -> None:
    alices = create(api, users, "alice", title="alice's")
    bobs = create(api, users, "bob", title="bob's")

    def listed(name: str) -> list[str]:
        return [t["id"] for t in api.get("/todos", headers=users.headers(name)).json()["items"]]

    assert listed("alice") == [alices["id"]] and listed("bob") == [bobs["id"]]
    hidden = api.get(f"/todos/{alices['id']}", headers=users.headers("bob"))
    assert hidden.status_code == 404  # Kinto's 403 for another's todo: not found, to Bob
    share = {"permissions": {"read": [users.principal("bob")]}}
    shared = api.patch(f"/todos/{alices['id']}", json=share, headers=users.headers("alice"))
    assert shared.json()["permissions"] == {
        "read": [users.principal("bob")],
        "write": [users.principal("alice")],
    }
    assert set(listed("bob")) == {alices["id"], bobs["id"]}
    seen_by_bob = api.get(f"/todos/{alices['id']}", headers=users.headers("bob"))
    assert seen_by_bob.status_code == 200 and seen_by_bob.json()["title"] == "alice's"
    assert seen_by_bob.json()["permissions"] == {}  # Kinto shows them to writers only
    # given write, Bob's change is stamped as his by the hook
    share = {"permissions": {"write": [users.principal("alice"), users.principal("bob")]}}
    api.patch(f"/todos/{alices['id']}", json=share, headers=users.headers("alice"))
    edited = api.patch(f"/todos/{alices['id']}", json={"done": True}, headers=users.headers("bob"))
    assert edited.status_code == 200
    assert edited.json()["created_by"] == users.principal("alice")
    assert edited.json()["updated_by"] == users.principal("bob")


def test_attachment_upload_and_download(api: TestClient, users: Users) -> None:
    alice = users.headers("alice")
    todo = create(api, users, "alice", title="with a photo", tags=["x"])
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    seen = f'"{todo["last_modified"]}"'
    uploaded = api.post(
        f"/todos/{todo['id']}/attachment",
        files={"file": ("cat picture.png", png, "image/png")},
        headers={**alice, "If-Match": seen},
    )
    assert uploaded.status_code == 200, uploaded.text
    photo = uploaded.json()["photo"]
    assert photo["filename"] == "cat picture.png" and photo["mimetype"] == "image/png"
    assert (photo["size"], photo["hash"]) == (len(png), hashlib.sha256(png).hexdigest())
    assert uploaded.json()["tags"] == ["x"]  # the todo's fields are untouched
    assert uploaded.headers["ETag"] != seen  # the upload is a new version of the todo
    again = api.post(
        f"/todos/{todo['id']}/attachment",
        files={"file": ("late.png", png, "image/png")},
        headers={**alice, "If-Match": seen},
    )
    assert again.status_code == 412 and again.json()["current"]["photo"] == photo

    downloaded = api.get(f"/todos/{todo['id']}/attachment", headers=alice)
    assert downloaded.status_code == 200 and downloaded.content == png
    assert downloaded.headers["Content-Type"] == "image/png"
    assert (
        downloaded.headers["Content-Disposition"]
        == "attachment; filename*=UTF-8''cat%20picture.png"
    )
    assert downloaded.headers["X-Content-Type-Options"] == "nosniff"
    assert (
        api.get(f"/todos/{todo['id']}/attachment", headers=users.headers("bob")).status_code == 404
    )
