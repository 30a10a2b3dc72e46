"""A ``POST /batch`` whose answer was lost, re-sent: its sub-requests meet their own writes.

Every sub-request of these batches is conditional (creates under ``If-None-Match: *``,
updates under ``If-Match``, deletes), so the POST is re-sent after a lost answer
and a replayed sub-request that Kinto had applied gets 412 (or 404 for a delete).
The client recognises them by the rule of single writes (see
test_lost_responses.py): the objects are read back in one batch of GETs and the
sub-request succeeds when the object holds what it sent.
"""

from __future__ import annotations

from typing import Any

import pytest

from kintorm import KintoBatchException, MergePatch

from ._wire import SERVER_INFO, Wire

RECORDS = "/buckets/b/collections/c/records"
EXISTS = {"code": 412, "errno": 114, "error": "Precondition Failed"}
JSON = {"Content-Type": "application/json"}
GONE = {"code": 404, "errno": 110, "error": "Not Found"}


def sub(status: int, n: int, body: Any) -> dict[str, Any]:
    return {"status": status, "path": f"/v1{RECORDS}/r{n}", "headers": {}, "body": body}


def stored(n: int, **data: Any) -> dict[str, Any]:
    return {"data": {"id": f"r{n}", "last_modified": 100 + n, **data}, "permissions": {}}


def lose(wire: Wire, how: str) -> None:
    """Queue one lost answer to ``POST /batch``."""
    if how == "reset":
        wire.reply("POST", "/batch", error=True)
    elif how == "truncated":
        wire.reply("POST", "/batch", body='{"responses": [{"status": 2', headers=JSON)
    elif how == "502":
        wire.reply("POST", "/batch", status=502, body="<html>502 Bad Gateway</html>")
    else:  # pragma: no cover
        raise AssertionError(how)


def creates(b: Any) -> list[Any]:
    return [b.create_record(id=f"r{n}", data={"title": f"t{n}"}) for n in range(3)]


def sub_requests(wire: Wire, call: int) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in wire.calls[call].json()["requests"]]


@pytest.mark.parametrize("how", ["reset", "truncated", "502"])
def test_replayed_creates_that_find_their_records_succeed(
    wire: Wire, sleeps: list[float], how: str
) -> None:
    client = wire.client(bucket="b", collection="c", retry=2)
    wire.reply("GET", "/", json=SERVER_INFO)
    lose(wire, how)
    wire.reply("POST", "/batch", json={"responses": [sub(412, n, EXISTS) for n in range(3)]})
    reads = [sub(200, 0, stored(0, title="t0")), sub(200, 1, stored(1, title="t1"))]
    reads.append(sub(200, 2, stored(2, title="someone else's")))
    wire.reply("POST", "/batch", json={"responses": reads})
    with pytest.raises(KintoBatchException) as info:
        wire.batch(client, creates)
    assert [c.method for c in wire.calls] == ["GET", "POST", "POST", "POST"]
    assert sub_requests(wire, 3) == [("GET", f"{RECORDS}/r{n}") for n in range(3)]
    # r0 and r1 were ours; r2 holds something else: a genuine conflict, maybe applied
    assert info.value.results[:2] == [stored(0, title="t0"), stored(1, title="t1")]
    (error,) = info.value.exceptions
    assert error.index == 2 and error.response.status_code == 412  # type: ignore[attr-defined]
    assert error.maybe_applied


def test_a_replayed_if_match_update_and_delete_succeed(wire: Wire, sleeps: list[float]) -> None:
    client = wire.client(bucket="b", collection="c", retry=1)
    wire.reply("GET", "/", json=SERVER_INFO)
    lose(wire, "reset")
    wire.reply("POST", "/batch", json={"responses": [sub(412, 0, EXISTS), sub(404, 1, GONE)]})
    wire.reply("POST", "/batch", json={"responses": [sub(200, 0, stored(0, done=True))]})

    def calls(b: Any) -> list[Any]:
        return [
            b.patch_record(id="r0", changes=MergePatch({"done": True}), if_match=5),
            b.delete_record(id="r1", if_match=6),
        ]

    b = wire.batch(client, calls)
    assert b.results() == [stored(0, done=True), {"data": {"id": "r1", "deleted": True}}]
    assert sub_requests(wire, 3) == [("GET", f"{RECORDS}/r0")]  # a 404 needs no read


def test_a_412_without_a_lost_answer_is_not_checked(wire: Wire, sleeps: list[float]) -> None:
    client = wire.client(bucket="b", collection="c", retry=2)
    wire.reply("GET", "/", json=SERVER_INFO)
    wire.reply("POST", "/batch", json={"responses": [sub(412, n, EXISTS) for n in range(3)]})
    with pytest.raises(KintoBatchException) as info:
        wire.batch(client, creates)
    assert [c.method for c in wire.calls] == ["GET", "POST"]  # no read
    assert [e.maybe_applied for e in info.value.exceptions] == [False] * 3


def test_a_replay_rolled_back_by_a_409_is_still_checked(wire: Wire, sleeps: list[float]) -> None:
    """The re-send of what a 409 rolled back follows a lost answer: its 412s are ours too."""
    client = wire.client(bucket="b", collection="c", retry=1, retry_after=0)
    wire.reply("GET", "/", json=SERVER_INFO)
    lose(wire, "reset")
    conflict = {"code": 409, "errno": 122, "error": "Conflict"}
    wire.reply(
        "POST",
        "/batch",
        json={"responses": [sub(412, 0, EXISTS), sub(409, 1, conflict), sub(412, 2, EXISTS)]},
    )
    wire.reply("POST", "/batch", json={"responses": [sub(200, 2, stored(2, title="t2"))]})
    wire.reply("POST", "/batch", json={"responses": [sub(412, 0, EXISTS), sub(201, 1, {})]})
    wire.reply("POST", "/batch", json={"responses": [sub(200, 0, stored(0, title="t0"))]})
    b = wire.batch(client, creates)
    assert b.results() == [stored(0, title="t0"), {}, stored(2, title="t2")]
    assert sub_requests(wire, 3) == [("GET", f"{RECORDS}/r2")]
    assert sub_requests(wire, 4) == [("PUT", f"{RECORDS}/r0"), ("PUT", f"{RECORDS}/r1")]
    assert sub_requests(wire, 5) == [("GET", f"{RECORDS}/r0")]


def test_an_answer_lost_on_every_attempt_says_maybe_applied(
    wire: Wire, sleeps: list[float]
) -> None:
    from kintorm import TransportError

    client = wire.client(bucket="b", collection="c", retry=1)
    wire.reply("GET", "/", json=SERVER_INFO)
    lose(wire, "reset")
    lose(wire, "reset")
    with pytest.raises(TransportError) as info:
        wire.batch(client, creates)
    assert info.value.maybe_applied
    assert [c.method for c in wire.calls] == ["GET", "POST", "POST"]


def test_a_re_send_lost_for_good_keeps_what_is_known(wire: Wire, sleeps: list[float]) -> None:
    """The re-send of what a 409 rolled back loses its answer every time: the items
    kept before are done, the re-sent ones fail as maybe applied."""
    client = wire.client(bucket="b", collection="c", retry=1, retry_after=0)
    wire.reply("GET", "/", json=SERVER_INFO)
    conflict = {"code": 409, "errno": 122, "error": "Conflict"}
    wire.reply(
        "POST",
        "/batch",
        json={"responses": [sub(201, 0, {}), sub(409, 1, conflict), sub(201, 2, {"ok": 1})]},
    )
    lose(wire, "reset")
    lose(wire, "reset")
    with pytest.raises(KintoBatchException) as info:
        wire.batch(client, creates)
    assert [(e.index, e.maybe_applied) for e in info.value.exceptions] == [(0, True), (1, True)]  # type: ignore[attr-defined]
    assert info.value.results[2] == {"ok": 1}
