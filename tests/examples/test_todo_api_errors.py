"""Every bad input to the example Todo API answers 4xx with the app's JSON error
(``{"message": ..., "errors": [{"field", "message"}]}``), never 5xx: a table of each
kind, on the real Kinto, and Hypothesis posting arbitrary JSON, bytes, queries and
headers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attrs
import httpx2
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examples.todo_app.app import MAX_UPLOAD_BYTES
from tests.examples.conftest import Users, basic


@attrs.define
class World:
    """Alice's todo (``todo``, its path and ETag), one she shares with Bob to read
    only (``shared``), and cursors of two queries."""

    api: TestClient
    users: Users
    todo: dict[str, Any]
    shared: dict[str, Any]
    cursor: str
    done_cursor: str

    @property
    def path(self) -> str:
        return f"/todos/{self.todo['id']}"

    def alice(self, **more: str) -> dict[str, str]:
        return self.users.headers("alice", **more)

    def bob(self, **more: str) -> dict[str, str]:
        return self.users.headers("bob", **more)

    def post(self, content: bytes) -> httpx2.Response:
        return self.api.post("/todos", content=content, headers=self.alice())

    def list(self, **params: str) -> httpx2.Response:
        return self.api.get("/todos", params=params, headers=self.alice())


@pytest.fixture
def world(api: TestClient, users: Users) -> World:
    def create(**fields: Any) -> dict[str, Any]:
        response = api.post("/todos", json=fields, headers=users.headers("alice"))
        assert response.status_code == 201
        return dict(response.json())

    todo = create(title="a", done=True)
    shared = create(title="shared", permissions={"read": [users.principal("bob")]})
    create(title="b", done=True)
    alice = users.headers("alice")
    cursor = api.get("/todos", params={"limit": 1}, headers=alice).json()["next_cursor"]
    done = api.get("/todos", params={"limit": 1, "done": "true"}, headers=alice)
    return World(api, users, todo, shared, cursor, done.json()["next_cursor"])


def error_of(response: httpx2.Response) -> dict[str, Any]:
    """The app's JSON error, checked for its shape."""
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) <= {"message", "errors", "current"}
    assert isinstance(body["message"], str) and body["message"]
    assert all(set(e) == {"field", "message"} for e in body["errors"])
    return dict(body)


@attrs.frozen
class Bad:
    status: int
    #: the field the answer names (its first error's), None: no field
    field: str | None
    send: Callable[[World], httpx2.Response]


def tampered(cursor: str) -> str:
    middle = len(cursor) // 2
    return cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]


def upload(w: World, headers: dict[str, str], **files: Any) -> httpx2.Response:
    return w.api.post(f"{w.path}/attachment", files=files, headers=headers)


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


BAD: dict[str, Bad] = {
    # the body
    "empty body": Bad(400, None, lambda w: w.post(b"")),
    "blank body": Bad(400, None, lambda w: w.post(b" \n\t")),
    "malformed JSON": Bad(400, None, lambda w: w.post(b'{"title": ')),
    "not UTF-8": Bad(400, None, lambda w: w.post(b'{"title": "\xff"}')),
    "nested too deeply": Bad(400, None, lambda w: w.post(b"[" * 100_000)),
    "integer too long": Bad(400, None, lambda w: w.post(b'{"title": 1' + b"0" * 5000 + b"}")),
    "lone surrogate": Bad(400, None, lambda w: w.post(b'{"title": "\\ud800"}')),
    "a list": Bad(400, "", lambda w: w.post(b'["title"]')),
    "a string": Bad(400, "", lambda w: w.post(b'"title"')),
    "null": Bad(400, "", lambda w: w.post(b"null")),
    "missing field": Bad(400, "title", lambda w: w.post(as_json({"done": True}))),
    "wrong type": Bad(400, "title", lambda w: w.post(as_json({"title": 5}))),
    "wrong type, bool": Bad(400, "done", lambda w: w.post(as_json({"title": "a", "done": 1}))),
    "wrong item type": Bad(
        400, "tags[1]", lambda w: w.post(as_json({"title": "a", "tags": ["x", 2]}))
    ),
    "not a date": Bad(400, "due", lambda w: w.post(as_json({"title": "a", "due": "tomorrow"}))),
    "empty title": Bad(400, "title", lambda w: w.post(as_json({"title": ""}))),
    "title too long": Bad(400, "title", lambda w: w.post(as_json({"title": "x" * 201}))),
    "NUL in a tag": Bad(400, "tags", lambda w: w.post(as_json({"title": "a", "tags": ["\x00"]}))),
    "unknown field": Bad(400, "colour", lambda w: w.post(as_json({"title": "a", "colour": 1}))),
    "id in the body": Bad(400, "id", lambda w: w.post(as_json({"title": "a", "id": "mine"}))),
    "set by the server": Bad(
        400, "created_by", lambda w: w.post(as_json({"title": "a", "created_by": "me"}))
    ),
    "the file's field": Bad(400, "photo", lambda w: w.post(as_json({"title": "a", "photo": None}))),
    "a permission Kinto has not": Bad(
        400, "permissions", lambda w: w.post(as_json({"title": "a", "permissions": {"own": ["x"]}}))
    ),
    "PATCH wrong type": Bad(
        400, "done", lambda w: w.api.patch(w.path, json={"done": "no"}, headers=w.alice())
    ),
    "PATCH a list": Bad(400, "", lambda w: w.api.patch(w.path, json=[1], headers=w.alice())),
    "PATCH unknown field": Bad(
        400, "x", lambda w: w.api.patch(w.path, json={"x": 1}, headers=w.alice())
    ),
    "PATCH empty body": Bad(400, None, lambda w: w.api.patch(w.path, headers=w.alice())),
    # the id, the query, If-Match
    "bad id": Bad(400, "todo_id", lambda w: w.api.get("/todos/-leading", headers=w.alice())),
    "id with a space": Bad(400, "todo_id", lambda w: w.api.get("/todos/a%20b", headers=w.alice())),
    "id not ASCII": Bad(
        400, "todo_id", lambda w: w.api.delete("/todos/%C3%A9t%C3%A9", headers=w.alice())
    ),
    "limit 0": Bad(400, "limit", lambda w: w.list(limit="0")),
    "limit negative": Bad(400, "limit", lambda w: w.list(limit="-5")),
    "limit huge": Bad(400, "limit", lambda w: w.list(limit="1" + "0" * 30)),
    "limit over 100": Bad(400, "limit", lambda w: w.list(limit="101")),
    "limit not a number": Bad(400, "limit", lambda w: w.list(limit="ten")),
    "limit a fraction": Bad(400, "limit", lambda w: w.list(limit="1.5")),
    "limit empty": Bad(400, "limit", lambda w: w.list(limit="")),
    "done not a bool": Bad(400, "done", lambda w: w.list(done="maybe")),
    "cursor made up": Bad(400, "cursor", lambda w: w.list(cursor="made-up")),
    "cursor tampered": Bad(400, "cursor", lambda w: w.list(cursor=tampered(w.cursor))),
    "cursor cut short": Bad(400, "cursor", lambda w: w.list(cursor=w.cursor[:-3])),
    "cursor of another query": Bad(400, "cursor", lambda w: w.list(cursor=w.done_cursor)),
    "cursor with another filter": Bad(400, "cursor", lambda w: w.list(cursor=w.cursor, tag="x")),
    **{
        f"If-Match {value}": Bad(
            400,
            "If-Match",
            lambda w, v=value: w.api.patch(w.path, json={}, headers=w.alice(**{"If-Match": v})),
        )
        for value in ("abc", "123", 'W/"123"', '"-1"', '"1", "2"', "*", '""')
    },
    # who is asking
    "no credentials": Bad(401, None, lambda w: w.api.get("/todos")),
    "no credentials, a write": Bad(401, None, lambda w: w.api.post("/todos", json={"title": "a"})),
    "wrong password": Bad(
        401,
        None,
        lambda w: w.api.get(
            "/todos", headers={"Authorization": basic(w.users.account["alice"], "wrong")}
        ),
    ),
    "wrong password, a write": Bad(
        401,
        None,
        lambda w: w.api.post(
            "/todos",
            json={"title": "a"},
            headers={"Authorization": basic(w.users.account["alice"], "x")},
        ),
    ),
    "unknown account": Bad(
        401, None, lambda w: w.api.get(w.path, headers={"Authorization": basic("nobody", "x")})
    ),
    "no scheme": Bad(
        401, None, lambda w: w.api.get("/todos", headers={"Authorization": "alice:pw"})
    ),
    "scheme only": Bad(
        401, None, lambda w: w.api.get("/todos", headers={"Authorization": "Basic"})
    ),
    "not ASCII": Bad(
        401, None, lambda w: w.api.get("/todos", headers={"Authorization": b"Basic \xff\xfe"})
    ),
    "unknown token": Bad(
        401, None, lambda w: w.api.get("/todos", headers={"Authorization": "Bearer abc"})
    ),
    # what Kinto refuses
    "shared to read: PATCH": Bad(
        403,
        None,
        lambda w: w.api.patch(f"/todos/{w.shared['id']}", json={"done": True}, headers=w.bob()),
    ),
    "shared to read: DELETE": Bad(
        403, None, lambda w: w.api.delete(f"/todos/{w.shared['id']}", headers=w.bob())
    ),
    "shared to read: upload": Bad(
        403,
        None,
        lambda w: w.api.post(
            f"/todos/{w.shared['id']}/attachment", files={"file": ("a.txt", b"a")}, headers=w.bob()
        ),
    ),
    "no such todo": Bad(404, None, lambda w: w.api.get("/todos/nothing-here", headers=w.alice())),
    "another's todo": Bad(404, None, lambda w: w.api.get(w.path, headers=w.bob())),
    "another's todo, PATCH": Bad(
        404, None, lambda w: w.api.patch(w.path, json={"done": False}, headers=w.bob())
    ),
    "another's todo, DELETE": Bad(404, None, lambda w: w.api.delete(w.path, headers=w.bob())),
    "no file": Bad(404, None, lambda w: w.api.get(f"{w.path}/attachment", headers=w.alice())),
    "unknown path": Bad(404, None, lambda w: w.api.get("/nothing", headers=w.alice())),
    "method not allowed": Bad(405, None, lambda w: w.api.put(w.path, json={}, headers=w.alice())),
    "stale PATCH": Bad(
        412,
        None,
        lambda w: w.api.patch(w.path, json={"done": False}, headers=w.alice(**{"If-Match": '"1"'})),
    ),
    "stale PATCH changing nothing": Bad(
        412, None, lambda w: w.api.patch(w.path, json={}, headers=w.alice(**{"If-Match": '"1"'}))
    ),
    "stale DELETE": Bad(
        412, None, lambda w: w.api.delete(w.path, headers=w.alice(**{"If-Match": '"1"'}))
    ),
    "stale upload": Bad(
        412, None, lambda w: upload(w, w.alice(**{"If-Match": '"1"'}), file=("a.txt", b"a"))
    ),
    # uploads
    "file too large": Bad(
        413, "file", lambda w: upload(w, w.alice(), file=("big.bin", bytes(MAX_UPLOAD_BYTES + 1)))
    ),
    "no file part": Bad(400, "file", lambda w: upload(w, w.alice(), other=("a.txt", b"a"))),
    "not multipart": Bad(
        400, "file", lambda w: w.api.post(f"{w.path}/attachment", json={}, headers=w.alice())
    ),
    "no filename": Bad(400, "file", lambda w: upload(w, w.alice(), file=("", b"a"))),
    "a file type the plugin refuses": Bad(
        400, "photo", lambda w: upload(w, w.alice(), file=("tool.exe", b"MZ"))
    ),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_input_answers_4xx_with_the_apps_json_error(world: World, case: Bad) -> None:
    response = case.send(world)
    assert response.status_code == case.status, response.text
    error = error_of(response)
    fields = [e["field"] for e in error["errors"]]
    if case.field is None:
        assert fields == []
    else:
        assert fields[:1] == [case.field], error
    if case.status == 401:
        assert response.headers["WWW-Authenticate"] == 'Basic realm="todos"'
    if case.status == 412:
        current = error["current"]
        assert current["id"] == world.todo["id"]
        assert response.headers["ETag"] == f'"{current["last_modified"]}"'
    # nothing was written: Alice's todos are as they were
    alice = world.alice()
    assert world.api.get(world.path, headers=alice).json() == world.todo
    assert world.api.get(f"/todos/{world.shared['id']}", headers=alice).json() == world.shared
    assert len(world.list().json()["items"]) == 3


@pytest.mark.parametrize(
    "body", [{"title": "a", "tags": "home"}, {"title": "a", "permissions": {"read": "bob"}}]
)
def test_a_string_for_a_list_is_refused(world: World, body: dict[str, Any]) -> None:
    response = world.post(as_json(body))
    assert response.status_code == 400, response.text


# --- arbitrary input ------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
TODO_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "title": st.text(max_size=210) | JSON,
        "done": st.booleans() | JSON,
        "tags": st.lists(st.text(max_size=8), max_size=3) | JSON,
        "due": st.dates().map(str) | st.text(max_size=12) | JSON,
        "permissions": st.dictionaries(
            st.sampled_from(["read", "write", "own"]), st.lists(st.text(max_size=12), max_size=2)
        )
        | JSON,
        "id": st.text(max_size=8),
        "created_by": JSON,
    },
)
#: a todo-like object, and keys of no todo
TODO_LIKE = st.builds(
    lambda todo, more: {**more, **todo},
    TODO_LIKE,
    st.dictionaries(st.text(max_size=8), JSON, max_size=2),
)
BODIES = (TODO_LIKE | JSON).map(lambda v: json.dumps(v).encode()) | st.binary(max_size=64)
FUZZ = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def never_5xx(response: httpx2.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error_of(response)


@FUZZ
@given(body=BODIES)
def test_any_body_is_answered_without_a_5xx(world: World, body: bytes) -> None:
    never_5xx(world.post(body))
    never_5xx(world.api.patch(world.path, content=body, headers=world.alice()))


TEXT = st.text(max_size=20) | st.sampled_from(["0", "-1", "101", "20", "true", "1e3", ""])


@FUZZ
@given(limit=TEXT, cursor=TEXT, done=TEXT, tag=TEXT)
def test_any_query_is_answered_without_a_5xx(
    world: World, limit: str, cursor: str, done: str, tag: str
) -> None:
    never_5xx(world.list(limit=limit, cursor=cursor, done=done, tag=tag))
    never_5xx(world.list(cursor=world.cursor, tag=tag))


HEADER = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"))


@FUZZ
@given(authorization=HEADER, if_match=HEADER)
def test_any_header_is_answered_without_a_5xx(
    world: World, authorization: str, if_match: str
) -> None:
    headers = {
        "Authorization": authorization.encode("latin-1"),
        "If-Match": if_match.encode("latin-1"),
    }
    response = world.api.patch(world.path, json={"done": False}, headers=headers)
    never_5xx(response)
    assert response.status_code in (400, 401)  # nobody could write Alice's todo
