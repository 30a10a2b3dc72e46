"""Batch: recorded calls sent on exit as POST /batch, chunked, with results and failures."""

from __future__ import annotations

from typing import Any

import pytest

from kintorm import KintoBatchException, KintoException, MergePatch

from ._wire import SERVER_INFO, Wire

RECORDS = "/buckets/b/collections/c/records"


def batch_reply(wire: Wire, statuses: list[int], **info: Any) -> None:
    responses = [
        {"status": s, "path": f"/v1{RECORDS}/r{n}", "headers": {}, "body": _body(s, n)}
        for n, s in enumerate(statuses)
    ]
    wire.reply("POST", "/batch", json={"responses": responses})


def _body(status: int, n: int) -> dict[str, Any]:
    if status < 400:
        return {"data": {"id": f"r{n}"}}
    return {"code": status, "errno": 110, "error": "Not Found", "message": f"no r{n}"}


def test_requests_are_recorded_and_sent_on_exit(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c")
    wire.reply("GET", "/", json=SERVER_INFO)
    batch_reply(wire, [201, 200, 200, 200, 200])
    during: list[int] = []

    def calls(b: Any) -> list[Any]:
        result = [
            b.create_record(id="r0", data={"title": "t"}, permissions={"read": ["a"]}),
            b.update_record(data={"id": "r1", "last_modified": 5}),
            b.patch_record(id="r2", changes=MergePatch({"x": None}), if_match=6),
            b.delete_record(id="r3"),
            b.get_records(_sort="id", in_id=["a", "b"]),
        ]
        during.append(len(wire.calls))
        if not wire.is_async:
            assert result == [None] * 5
        return result

    b = wire.batch(client, calls)
    assert during == [0]
    info, post = wire.calls
    assert (info.method, info.path) == ("GET", "/v1/")
    assert (post.method, post.path, post.query) == ("POST", "/v1/batch", [])
    assert post.headers["Content-Type"] == "application/json"
    assert post.json() == {
        "requests": [
            {
                "method": "PUT",
                "path": f"{RECORDS}/r0",
                "headers": {"If-None-Match": "*", "Content-Type": "application/json"},
                "body": {"data": {"title": "t"}, "permissions": {"read": ["a"]}},
            },
            {
                "method": "PUT",
                "path": f"{RECORDS}/r1",
                "headers": {"If-Match": '"5"', "Content-Type": "application/json"},
                "body": {"data": {"id": "r1", "last_modified": 5}},
            },
            {
                "method": "PATCH",
                "path": f"{RECORDS}/r2",
                "headers": {"If-Match": '"6"', "Content-Type": "application/merge-patch+json"},
                "body": {"data": {"x": None}},
            },
            {"method": "DELETE", "path": f"{RECORDS}/r3"},
            {"method": "GET", "path": f"{RECORDS}?_sort=id&in_id=a%2Cb"},
        ]
    }
    assert b.results() == [{"data": {"id": f"r{n}"}} for n in range(5)]


def test_chunked_by_batch_max_requests(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c")
    wire.reply("GET", "/", json=SERVER_INFO)  # batch_max_requests: 25
    for size in (25, 25, 10):
        batch_reply(wire, [200] * size)
    b = wire.batch(client, lambda b: [b.delete_record(id=f"r{n}") for n in range(60)])
    posts = [c for c in wire.calls if c.method == "POST"]
    assert [len(p.json()["requests"]) for p in posts] == [25, 25, 10]
    sent = [r["path"] for p in posts for r in p.json()["requests"]]
    assert sent == [f"{RECORDS}/r{n}" for n in range(60)]
    assert len(b.results()) == 60


def test_no_limit_sends_one_request(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c")
    wire.reply("GET", "/", json={**SERVER_INFO, "settings": {"batch_max_requests": None}})
    batch_reply(wire, [200] * 30)
    wire.batch(client, lambda b: [b.delete_record(id=f"r{n}") for n in range(30)])
    assert [len(c.json()["requests"]) for c in wire.calls if c.method == "POST"] == [30]


def test_failures_listed_with_their_index(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c")
    wire.reply("GET", "/", json=SERVER_INFO)
    batch_reply(wire, [200, 404, 200, 403])
    with pytest.raises(KintoBatchException) as info:
        wire.batch(client, lambda b: [b.get_record(id=f"r{n}") for n in range(4)])
    error = info.value
    assert [e.index for e in error.exceptions] == [1, 3]  # type: ignore[attr-defined]
    assert [e.response.status_code for e in error.exceptions] == [404, 403]
    assert error.exceptions[0].request.path == f"{RECORDS}/r1"
    assert "#1: GET /buckets/b/collections/c/records/r1 - 404 no r1" in str(error)
    assert "#3:" in str(error) and "403" in str(error)
    assert len(error.results) == 4


def test_ignore_batch_4xx(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c", ignore_batch_4xx=True)
    wire.reply("GET", "/", json=SERVER_INFO)
    batch_reply(wire, [200, 404])
    b = wire.batch(client, lambda b: [b.get_record(id="r0"), b.get_record(id="r1")])
    assert b.results() == [{"data": {"id": "r0"}}, _body(404, 1)]


def test_ignore_batch_4xx_as_a_batch_argument(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c")
    wire.reply("GET", "/", json=SERVER_INFO)
    batch_reply(wire, [404])
    b = wire.batch(client, lambda b: b.get_record(id="r0"), ignore_batch_4xx=True)
    assert b.results() == [_body(404, 0)]


def test_5xx_sub_response_raises(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c", ignore_batch_4xx=True)
    wire.reply("GET", "/", json=SERVER_INFO)
    batch_reply(wire, [200, 503])
    with pytest.raises(KintoBatchException) as info:
        wire.batch(client, lambda b: [b.get_record(id="r0"), b.get_record(id="r1")])
    # a 5xx rolls the whole batch back: the 200 before it was not kept either
    assert [e.index for e in info.value.exceptions] == [0, 1]
    assert [e.response.status_code for e in info.value.exceptions] == [503, 503]


def _creates(b: Any) -> list[Any]:
    return [b.create_record(id=f"r{n}", data={"n": n}) for n in range(4)]


def test_409_re_sends_everything_up_to_the_last_conflict(wire: Wire, sleeps: list[float]) -> None:
    """Kinto aborts the transaction on a 409: the sub-requests before it report
    success but are lost, the ones after it are kept. Only the lost ones go again."""
    client = wire.client(bucket="b", collection="c", retry=2)
    wire.reply("GET", "/", json=SERVER_INFO)
    conflict = {"status": 409, "path": "/v1/x", "headers": {"Retry-After": "3"}, "body": {}}
    first = [{"status": 201, "path": "/v1/x", "headers": {}, "body": {"data": {"id": "r0"}}}]
    first += [conflict]
    first += [
        {"status": 201, "path": "/v1/x", "headers": {}, "body": {"data": {"id": f"r{n}"}}}
        for n in (2, 3)
    ]
    wire.reply("POST", "/batch", json={"responses": first})
    second = [
        {"status": 201, "path": "/v1/x", "headers": {}, "body": {"data": {"id": f"r{n}"}}}
        for n in (0, 1)
    ]
    wire.reply("POST", "/batch", json={"responses": second})
    b = wire.batch(client, _creates)
    posts = [c for c in wire.calls if c.path == "/v1/batch"]
    assert [[r["path"][-2:] for r in p.json()["requests"]] for p in posts] == [
        ["r0", "r1", "r2", "r3"],
        ["r0", "r1"],
    ]
    # not Kinto's generic Retry-After (3 s): 0.1 s, jittered, for a first re-send
    assert len(sleeps) == 1 and 0.05 <= sleeps[0] <= 0.15
    assert [r["data"]["id"] for r in b.results()] == ["r0", "r1", "r2", "r3"]


def test_409_without_retries_reports_the_rolled_back_requests(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c", ignore_batch_4xx=True)
    wire.reply("GET", "/", json=SERVER_INFO)
    batch_reply(wire, [201, 201, 409, 201])
    with pytest.raises(KintoBatchException) as info:
        wire.batch(client, _creates)
    assert [e.index for e in info.value.exceptions] == [0, 1, 2]
    assert {e.response.status_code for e in info.value.exceptions} == {409}


def test_nothing_sent_when_the_block_raises(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c")

    def fail(b: Any) -> Any:
        recorded = b.delete_record(id="r0")
        if wire.is_async:

            async def then_fail() -> None:
                await recorded
                raise RuntimeError("boom")

            return then_fail()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        wire.batch(client, fail)
    assert wire.calls == []


def test_nested_batch_is_refused(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c")
    with pytest.raises(KintoException, match="nested"):
        wire.batch(client, lambda b: b.batch())
    assert wire.calls == []


def test_results_before_exit_is_an_error(sync_wire: Wire) -> None:
    client = sync_wire.client()
    with pytest.raises(KintoException, match="after its exit"):
        client.results()


def test_a_json_patch_cannot_be_batched(wire: Wire) -> None:
    from kintorm import JSONPatch

    client = wire.client(bucket="b", collection="c")
    wire.reply("GET", "/", json=SERVER_INFO)
    ops = [{"op": "remove", "path": "/data/x"}]
    with pytest.raises(KintoException, match="JSONPatch cannot be batched"):
        wire.batch(client, lambda b: b.patch_record(id="r0", changes=JSONPatch(ops)))
    assert [c.method for c in wire.calls] == ["GET"]


def test_malformed_batch_response(wire: Wire) -> None:
    from kintorm import MalformedResponse

    client = wire.client(bucket="b", collection="c")
    wire.reply("GET", "/", json=SERVER_INFO)
    wire.reply("POST", "/batch", json={"responses": []})
    with pytest.raises(MalformedResponse, match="a batch of 1 requests"):
        wire.batch(client, lambda b: b.delete_record(id="r0"))


def test_a_failed_batch_post_fails_its_requests_not_the_others(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c")
    wire.reply("GET", "/", json={**SERVER_INFO, "settings": {"batch_max_requests": 2}})
    wire.reply("POST", "/batch", status=409, json={"code": 409, "errno": 122, "error": "x"})
    batch_reply(wire, [201, 201])
    with pytest.raises(KintoBatchException) as info:
        wire.batch(client, _creates)
    assert [e.index for e in info.value.exceptions] == [0, 1]
    assert info.value.results[2:] == [{"data": {"id": "r0"}}, {"data": {"id": "r1"}}]


@pytest.mark.parametrize(
    ("retry_after", "header", "attempt", "low", "high"),
    [
        (None, "3", 0, 0.05, 0.15),  # 0.1 s first
        (None, "3", 3, 0.4, 1.2),  # doubling: 0.8 s
        (None, "3", 10, 1.5, 4.5),  # capped by the server's Retry-After
        (None, None, 10, 0.5, 1.5),  # no header: capped at 1 s
        (None, "0", 2, 0.0, 0.0),  # the server says "now"
        (0.05, "3", 5, 0.025, 0.075),  # the client's retry_after wins
    ],
)
def test_the_wait_before_re_sending_rolled_back_requests(
    retry_after: float | None, header: str | None, attempt: int, low: float, high: float
) -> None:
    from kintorm.client.batch import _resend_wait
    from kintorm.client.protocol import Session

    session = Session("http://kinto.test/v1", retry=3, retry_after=retry_after)
    headers = {"Retry-After": header} if header is not None else {}
    waits = [_resend_wait(session, headers, attempt) for _ in range(50)]
    assert all(low <= w <= high for w in waits), (min(waits), max(waits))
