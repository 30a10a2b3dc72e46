"""The example Todo API (examples/todo_app) through Starlette's test client, on the
real Kinto of the test session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from examples.todo_app.app import create_app
from kintorm import Client
from kintorm.server import KintoServer


@pytest.fixture
def api(kinto_server: KintoServer) -> Iterator[TestClient]:
    bucket = f"todo-{uuid.uuid4().hex[:10]}"
    with TestClient(create_app(kinto_server.url, kinto_server.admin_auth, bucket)) as client:
        yield client
    Client(server_url=kinto_server.url, auth=kinto_server.admin_auth).delete_bucket(
        id=bucket, if_exists=True
    )


def test_create_get_list_with_filters(api: TestClient) -> None:
    created = api.post("/todos", json={"title": "buy milk", "tags": ["home"]})
    assert created.status_code == 201
    todo = created.json()
    assert todo["title"] == "buy milk" and todo["done"] is False and todo["id"]
    assert created.headers["ETag"] == f'"{todo["last_modified"]}"'
    api.post("/todos", json={"title": "write report", "tags": ["work"], "done": True})
    api.post("/todos", json={"title": "Milk the cow", "tags": ["farm"]})

    got = api.get(f"/todos/{todo['id']}")
    assert got.status_code == 200 and got.json() == todo

    def titles(query: str) -> list[str]:
        response = api.get(f"/todos{query}")
        assert response.status_code == 200
        return [t["title"] for t in response.json()]

    assert titles("") == ["Milk the cow", "write report", "buy milk"]  # newest first
    assert titles("?done=true") == ["write report"]
    assert titles("?done=false&tag=home") == ["buy milk"]
    assert titles("?q=milk") == ["Milk the cow", "buy milk"]  # case-insensitive
    assert titles("?q=_") == []  # literal: not PostgreSQL's one-character wildcard
    star = api.get("/todos?q=*")  # Kinto's wildcard cannot be searched for: a 400
    assert star.status_code == 400 and "'*'" in star.json()["error"]
    assert titles("?limit=1") == ["Milk the cow"]


def test_patch_with_if_match_and_conflict(api: TestClient) -> None:
    todo = api.post("/todos", json={"title": "a"}).json()
    seen = f'"{todo["last_modified"]}"'
    first = api.patch(f"/todos/{todo['id']}", json={"done": True}, headers={"If-Match": seen})
    assert first.status_code == 200 and first.json()["done"] is True
    assert first.headers["ETag"] != seen
    # a second writer still holding the old ETag is refused, and shown the current version
    stale = api.patch(f"/todos/{todo['id']}", json={"title": "b"}, headers={"If-Match": seen})
    assert stale.status_code == 412
    assert stale.json()["current"]["done"] is True
    assert api.get(f"/todos/{todo['id']}").json()["title"] == "a"
    # without If-Match, the change applies to the current version
    assert api.patch(f"/todos/{todo['id']}", json={"title": "b"}).json()["title"] == "b"


def test_delete_not_found_and_bad_input(api: TestClient) -> None:
    todo = api.post("/todos", json={"title": "a"}).json()
    stale = '"1"'
    assert api.delete(f"/todos/{todo['id']}", headers={"If-Match": stale}).status_code == 412
    assert api.delete(f"/todos/{todo['id']}").status_code == 204
    assert api.get(f"/todos/{todo['id']}").status_code == 404
    assert api.patch(f"/todos/{todo['id']}", json={"done": True}).status_code == 404
    assert api.post("/todos", json={"title": 5}).status_code == 400
    assert api.post("/todos", json={"title": "a", "owner": "me"}).status_code == 400
    assert api.get("/todos").json() == []
