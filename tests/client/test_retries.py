"""Retries on 5xx/409/429, Retry-After, Backoff and Alert headers."""

from __future__ import annotations

import pytest

from kintorm import BackoffException, KintoException, TransportError

from ._wire import Wire

PATH = "/buckets/b"
BUSY = {"code": 503, "errno": 201, "error": "Service Unavailable"}


@pytest.mark.parametrize("status", [500, 503, 409, 429])
def test_retries_honour_retry_after(wire: Wire, sleeps: list[float], status: int) -> None:
    wire.reply("GET", PATH, status=status, json=BUSY, headers={"Retry-After": "3"})
    wire.reply("GET", PATH, status=status, json=BUSY, headers={"Retry-After": "1"})
    wire.ok("GET", PATH, {"id": "b"})
    result = wire.run(lambda c: c.get_bucket(id="b"), wire.client(retry=2))
    assert result == {"data": {"id": "b"}}
    assert sleeps == [3, 1]
    assert [(c.method, c.path) for c in wire.calls] == [("GET", "/v1/buckets/b")] * 3


def test_forced_retry_after(wire: Wire, sleeps: list[float]) -> None:
    wire.reply("PUT", PATH, status=503, json=BUSY, headers={"Retry-After": "3"})
    wire.ok("PUT", PATH)
    wire.run(lambda c: c.create_bucket(id="b"), wire.client(retry=1, retry_after=7))
    assert sleeps == [7]
    assert [c.headers["If-None-Match"] for c in wire.calls] == ["*", "*"]


def test_without_retry_after_waits_a_little(wire: Wire, sleeps: list[float]) -> None:
    wire.reply("GET", PATH, status=500, json=BUSY).ok("GET", PATH)
    wire.run(lambda c: c.get_bucket(id="b"), wire.client(retry=1))
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 5


def test_stops_after_n_retries(wire: Wire, sleeps: list[float]) -> None:
    for _ in range(3):
        wire.reply("GET", PATH, status=503, json=BUSY, headers={"Retry-After": "2"})
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.get_bucket(id="b"), wire.client(retry=2))
    assert info.value.response.status_code == 503
    assert len(wire.calls) == 3
    assert sleeps == [2, 2]


def test_no_retry_by_default(wire: Wire, sleeps: list[float]) -> None:
    wire.reply("GET", PATH, status=503, json=BUSY, headers={"Retry-After": "2"})
    with pytest.raises(KintoException):
        wire.run(lambda c: c.get_bucket(id="b"))
    assert (len(wire.calls), sleeps) == (1, [])


@pytest.mark.parametrize("status", [400, 401, 403, 404, 412])
def test_4xx_is_not_retried(wire: Wire, sleeps: list[float], status: int) -> None:
    wire.reply("GET", PATH, status=status, json={"code": status, "errno": 107})
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.get_bucket(id="b"), wire.client(retry=3))
    assert info.value.response.status_code == status
    assert (len(wire.calls), sleeps) == (1, [])


def test_transport_errors_are_retried_for_idempotent_methods(
    wire: Wire, sleeps: list[float]
) -> None:
    wire.reply("GET", PATH, error=True).ok("GET", PATH)
    assert wire.run(lambda c: c.get_bucket(id="b"), wire.client(retry=1)) == {"data": {}}
    assert len(wire.calls) == 2 and len(sleeps) == 1


def test_transport_errors_are_not_retried_for_post(wire: Wire, sleeps: list[float]) -> None:
    """A batch holding a PATCH without If-Match could do its work twice: not re-sent."""
    from ._wire import SERVER_INFO

    client = wire.client(retry=3)
    wire.reply("GET", "/", json=SERVER_INFO).reply("POST", "/batch", error=True)
    with pytest.raises(TransportError) as info:
        wire.batch(client, lambda b: b.patch_bucket(id="b", data={"n": 1}, safe=False))
    assert [c.method for c in wire.calls] == ["GET", "POST"]
    assert sleeps == []
    assert info.value.maybe_applied


def test_a_post_of_idempotent_sub_requests_is_retried(wire: Wire, sleeps: list[float]) -> None:
    from ._wire import SERVER_INFO

    client = wire.client(retry=3)
    wire.reply("GET", "/", json=SERVER_INFO).reply("POST", "/batch", error=True)
    ok = {"status": 200, "path": "/v1/buckets/b", "headers": {}, "body": {"data": {"id": "b"}}}
    wire.reply("POST", "/batch", json={"responses": [ok]})
    b = wire.batch(client, lambda b: b.delete_bucket(id="b"))
    assert b.results() == [{"data": {"id": "b"}}]
    assert [c.method for c in wire.calls] == ["GET", "POST", "POST"]


def test_a_502_on_a_non_idempotent_post_is_not_retried(wire: Wire, sleeps: list[float]) -> None:
    """The gateway may have forwarded it: re-sending could apply it twice."""
    from ._wire import SERVER_INFO

    client = wire.client(retry=3)
    wire.reply("GET", "/", json=SERVER_INFO)
    wire.reply("POST", "/batch", status=502, body="<html>502 Bad Gateway</html>")
    with pytest.raises(KintoException) as info:
        wire.batch(client, lambda b: b.patch_bucket(id="b", data={"n": 1}, safe=False))
    assert [c.method for c in wire.calls] == ["GET", "POST"]
    assert info.value.maybe_applied and info.value.response.status_code == 502


def test_backoff_raises_on_the_next_request_without_retry(wire: Wire, sleeps: list[float]) -> None:
    client = wire.client()
    wire.ok("GET", PATH, headers={"Backoff": "30"})
    assert wire.run(lambda c: c.get_bucket(id="b"), client) == {"data": {}}
    with pytest.raises(BackoffException) as info:
        wire.run(lambda c: c.get_bucket(id="b"), client)
    assert 29 <= info.value.backoff <= 31
    assert len(wire.calls) == 1 and sleeps == []


def test_backoff_waits_with_retry(wire: Wire, sleeps: list[float]) -> None:
    client = wire.client(retry=1)
    wire.ok("GET", PATH, headers={"Backoff": "30"}).ok("GET", PATH)
    wire.run(lambda c: c.get_bucket(id="b"), client)
    wire.run(lambda c: c.get_bucket(id="b"), client)
    assert len(wire.calls) == 2
    assert len(sleeps) == 1 and 29 < sleeps[0] <= 30


def test_backoff_is_shared_with_clones(wire: Wire, sleeps: list[float]) -> None:
    client = wire.client()
    wire.ok("GET", PATH, headers={"Backoff": "30"})
    wire.run(lambda c: c.get_bucket(id="b"), client)
    with pytest.raises(BackoffException):
        wire.run(lambda c: c.get_bucket(id="b"), client.clone(bucket="x"))


def test_backoff_ends_when_a_response_has_none(wire: Wire, sleeps: list[float]) -> None:
    client = wire.client(retry=1)
    wire.ok("GET", PATH, headers={"Backoff": "30"}).ok("GET", PATH).ok("GET", PATH)
    for _ in range(3):
        wire.run(lambda c: c.get_bucket(id="b"), client)
    assert len(sleeps) == 1


def test_alert_header_is_a_deprecation_warning(wire: Wire) -> None:
    alert = '{"code": "soft-eol", "message": "upgrade", "url": "http://x"}'
    wire.ok("GET", PATH, headers={"Alert": alert})
    with pytest.warns(DeprecationWarning, match="soft-eol") as record:
        assert wire.run(lambda c: c.get_bucket(id="b")) == {"data": {}}
    assert str(record[0].message) == alert
