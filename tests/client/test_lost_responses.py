"""Lost responses: retried when idempotent, and a replayed write recognised by its result.

A write whose answer was lost (reset, timeout, a body cut short, a proxy's 502)
may have been applied. Re-sent, it then meets its own result: a create gets 412
(the record exists), an If-Match update gets 412 (the timestamp moved), a delete
gets 404. The client reads the object back and reports success when it holds
what was sent.
"""

from __future__ import annotations

from typing import Any

import pytest

from kintorm import BasicPatch, JSONPatch, KintoException, MergePatch, PreconditionFailed
from kintorm.client.exceptions import MalformedResponse, TransportError

from ._wire import Wire

RECORD = "/buckets/b/collections/c/records/r1"
JSON = {"Content-Type": "application/json"}
EXISTS = {"code": 412, "errno": 114, "error": "Precondition Failed"}
GONE = {"code": 404, "errno": 110, "error": "Not Found"}
STORED = {"data": {"id": "r1", "last_modified": 20, "title": "a", "n": 1}, "permissions": {}}


def lose(wire: Wire, method: str, how: str) -> None:
    """Queue one lost answer to ``method RECORD``."""
    if how == "reset":
        wire.reply(method, RECORD, error=True)
    elif how == "truncated":
        wire.reply(method, RECORD, status=201, body='{"data": {"id": "r1", "ti', headers=JSON)
    elif how == "502":
        wire.reply(method, RECORD, status=502, body="<html>502 Bad Gateway</html>")
    else:  # pragma: no cover
        raise AssertionError(how)


def calls(wire: Wire) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in wire.calls]


def create(client: Any) -> Any:
    return client.create_record(id="r1", bucket="b", collection="c", data={"title": "a", "n": 1})


@pytest.mark.parametrize("how", ["reset", "truncated", "502"])
def test_a_replayed_create_that_finds_its_record_succeeds(
    wire: Wire, sleeps: list[float], how: str
) -> None:
    lose(wire, "PUT", how)
    wire.reply("PUT", RECORD, status=412, json=EXISTS)
    wire.reply("GET", RECORD, json=STORED)
    assert wire.run(create, wire.client(retry=2)) == STORED
    assert calls(wire) == [("PUT", "/v1" + RECORD)] * 2 + [("GET", "/v1" + RECORD)]
    assert [c.headers["If-None-Match"] for c in wire.calls[:2]] == ["*", "*"]


def test_a_truncated_412_on_the_replay_is_still_a_412(wire: Wire, sleeps: list[float]) -> None:
    lose(wire, "PUT", "truncated")
    wire.reply("PUT", RECORD, status=412, body='{"code": 412, "errno"', headers=JSON)
    wire.reply("GET", RECORD, json=STORED)
    assert wire.run(create, wire.client(retry=2)) == STORED


def test_a_replayed_create_that_finds_another_record_fails(wire: Wire, sleeps: list[float]) -> None:
    lose(wire, "PUT", "reset")
    wire.reply("PUT", RECORD, status=412, json=EXISTS)
    wire.reply("GET", RECORD, json={"data": {"id": "r1", "title": "someone else's"}})
    with pytest.raises(PreconditionFailed) as info:
        wire.run(create, wire.client(retry=2))
    assert info.value.maybe_applied


def test_a_412_without_a_lost_answer_is_not_checked(wire: Wire, sleeps: list[float]) -> None:
    wire.reply("PUT", RECORD, status=503, json={"code": 503, "errno": 201})  # Kinto rolled back
    wire.reply("PUT", RECORD, status=412, json=EXISTS)
    with pytest.raises(PreconditionFailed) as info:
        wire.run(create, wire.client(retry=2))
    assert not info.value.maybe_applied
    assert calls(wire) == [("PUT", "/v1" + RECORD)] * 2  # no GET


def test_a_truncated_2xx_is_retried_for_reads(wire: Wire, sleeps: list[float]) -> None:
    wire.reply("GET", RECORD, body='{"data": {"id": "r', headers=JSON)
    wire.reply("GET", RECORD, json=STORED)
    client = wire.client(retry=1)
    assert wire.run(lambda c: c.get_record(id="r1", bucket="b", collection="c"), client) == STORED
    assert len(sleeps) == 1


def test_a_truncated_2xx_without_retries_says_it_may_have_been_applied(wire: Wire) -> None:
    lose(wire, "PUT", "truncated")
    with pytest.raises(MalformedResponse, match="may have been applied") as info:
        wire.run(create)
    assert info.value.maybe_applied


def test_a_replayed_update_that_finds_its_data_succeeds(wire: Wire, sleeps: list[float]) -> None:
    lose(wire, "PUT", "reset")
    wire.reply("PUT", RECORD, status=412, json=EXISTS)
    wire.reply("GET", RECORD, json=STORED)
    data = {"id": "r1", "title": "a", "n": 1, "last_modified": 10}
    result = wire.run(
        lambda c: c.update_record(id="r1", bucket="b", collection="c", data=data),
        wire.client(retry=1),
    )
    assert result == STORED
    assert [c.headers["If-Match"] for c in wire.calls[:2]] == ['"10"', '"10"']


def test_a_replayed_update_that_finds_other_data_fails(wire: Wire, sleeps: list[float]) -> None:
    lose(wire, "PUT", "reset")
    wire.reply("PUT", RECORD, status=412, json=EXISTS)
    wire.reply("GET", RECORD, json=STORED)
    data = {"id": "r1", "title": "a", "last_modified": 10}  # n is gone in ours: not equal
    with pytest.raises(PreconditionFailed):
        wire.run(
            lambda c: c.update_record(id="r1", bucket="b", collection="c", data=data),
            wire.client(retry=1),
        )


@pytest.mark.parametrize(
    ("changes", "stored", "applied"),
    [
        (BasicPatch(data={"n": 1}), STORED, True),
        (BasicPatch(data={"n": 2}), STORED, False),
        (MergePatch(data={"n": 1, "gone": None}), STORED, True),
        (MergePatch(data={"title": None}), STORED, False),
        (
            MergePatch(data={"n": 1}, permissions={"read": ["system.Everyone"]}),
            {**STORED, "permissions": {"read": ["system.Everyone"], "write": ["me"]}},
            True,
        ),
        (
            MergePatch(data={"n": 1}, permissions={"read": ["system.Everyone"]}),
            STORED,
            False,
        ),
    ],
)
def test_a_replayed_if_match_patch(
    wire: Wire, sleeps: list[float], changes: Any, stored: Any, applied: bool
) -> None:
    lose(wire, "PATCH", "truncated")
    wire.reply("PATCH", RECORD, status=412, json=EXISTS)
    wire.reply("GET", RECORD, json=stored)

    def patch(c: Any) -> Any:
        return c.patch_record(id="r1", bucket="b", collection="c", changes=changes, if_match=10)

    if applied:
        assert wire.run(patch, wire.client(retry=1)) == stored
    else:
        with pytest.raises(PreconditionFailed):
            wire.run(patch, wire.client(retry=1))
    assert [c.method for c in wire.calls] == ["PATCH", "PATCH", "GET"]


def test_a_patch_without_if_match_is_not_replayed(wire: Wire, sleeps: list[float]) -> None:
    wire.reply("PATCH", RECORD, error=True)
    with pytest.raises(TransportError) as info:
        wire.run(
            lambda c: c.patch_record(
                id="r1", bucket="b", collection="c", data={"n": 2}, safe=False
            ),
            wire.client(retry=3),
        )
    assert len(wire.calls) == 1
    assert info.value.maybe_applied


def test_a_replayed_json_patch_cannot_be_checked(wire: Wire, sleeps: list[float]) -> None:
    lose(wire, "PATCH", "reset")
    wire.reply("PATCH", RECORD, status=412, json=EXISTS)
    changes = JSONPatch([{"op": "add", "path": "/data/tags/0", "value": "x"}])
    with pytest.raises(PreconditionFailed, match="may have been applied"):
        wire.run(
            lambda c: c.patch_record(
                id="r1", bucket="b", collection="c", changes=changes, if_match=10
            ),
            wire.client(retry=1),
        )
    assert [c.method for c in wire.calls] == ["PATCH", "PATCH"]  # nothing to GET


@pytest.mark.parametrize("how", ["reset", "502"])
def test_a_replayed_delete_that_finds_nothing_succeeds(
    wire: Wire, sleeps: list[float], how: str
) -> None:
    lose(wire, "DELETE", how)
    wire.reply("DELETE", RECORD, status=404, json=GONE)
    result = wire.run(
        lambda c: c.delete_record(id="r1", bucket="b", collection="c"), wire.client(retry=1)
    )
    assert result == {"id": "r1", "deleted": True}


def test_a_delete_of_a_missing_record_still_fails(wire: Wire, sleeps: list[float]) -> None:
    wire.reply("DELETE", RECORD, status=404, json=GONE)
    with pytest.raises(KintoException) as info:
        wire.run(
            lambda c: c.delete_record(id="r1", bucket="b", collection="c"), wire.client(retry=1)
        )
    assert info.value.response.status_code == 404
