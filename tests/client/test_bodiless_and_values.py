"""Errors without a body (every HEAD) and payloads Kinto would change, on the wire.

An error response with an empty body is named by its status, with the class a GET
would get (not MalformedResponse); integers outside -2**63..2**64-1 and nesting
deeper than MAX_JSON_DEPTH are refused before anything is sent (issue 10)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kintorm import KintoException, MalformedResponse, PreconditionFailed
from kintorm.client.encoding import (
    KINTO_INT_RANGE,
    MAX_JSON_DEPTH,
    _nests_deeper,
    check_encoded,
    check_json,
    encode_json,
)

from ._wire import Wire

RECORDS = "/buckets/b/collections/c/records"


@pytest.mark.parametrize(
    ("status", "phrase"),
    [(401, "Unauthorized"), (403, "Forbidden"), (404, "Not Found"), (503, "Service Unavailable")],
)
def test_an_empty_error_body_is_named_by_its_status(wire: Wire, status: int, phrase: str) -> None:
    wire.reply("HEAD", RECORDS, status=status, body=b"")
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.get_records_timestamp(bucket="b", collection="c"))
    error = info.value
    assert type(error) is KintoException and not isinstance(error, MalformedResponse)
    assert error.response.status_code == status
    assert str(error) == f"HEAD /v1{RECORDS} - {status} {phrase} (no body)"  # kinto-http's form


def test_an_empty_412_is_precondition_failed(wire: Wire) -> None:
    wire.reply("HEAD", RECORDS, status=412, body=b"")
    with pytest.raises(PreconditionFailed):
        wire.run(lambda c: c.get_records_timestamp(bucket="b", collection="c"))


def test_an_empty_5xx_is_retried_then_raised_with_its_status(wire: Wire) -> None:
    for _ in range(2):
        wire.reply("HEAD", RECORDS, status=500, body=b"")
    client = wire.client(retry=1, retry_after=0)
    with pytest.raises(KintoException) as info:
        wire.run(lambda c: c.get_records_timestamp(bucket="b", collection="c"), client)
    assert info.value.response.status_code == 500 and len(wire.calls) == 2


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"n": 2**64}, "data.n"),
        ({"n": -(2**63) - 1}, "data.n"),
        ({"a": [0, {"b": 10**30}]}, "data.a[1].b"),
    ],
)
def test_integers_kinto_would_store_as_floats_are_refused(
    wire: Wire, data: dict[str, Any], where: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(f"at {where} is outside")):
        wire.run(lambda c: c.create_record(id="r1", bucket="b", collection="c", data=data))
    assert wire.calls == []


def test_nesting_deeper_than_the_limit_is_refused(wire: Wire) -> None:
    for depth in (MAX_JSON_DEPTH, 1_000, 10_000):  # with "data": one level more
        with pytest.raises(ValueError, match=f"more than {MAX_JSON_DEPTH} levels deep"):
            wire.run(
                lambda c, d=depth: c.create_record(
                    id="r1", bucket="b", collection="c", data={"d": nested(d)}
                )
            )
    assert wire.calls == []


def test_the_edges_pass() -> None:
    payload = {"data": {"n": [2**64 - 1, -(2**63)], "d": nested(MAX_JSON_DEPTH - 2)}}
    assert b"18446744073709551615,-9223372036854775808" in encode_json(payload)
    check_json(payload)
    assert encode_json({"s": "1" * 40, "b": True}) == b'{"s":"' + b"1" * 40 + b'","b":true}'


# --- the scans that decide when to walk a payload, against a reference --------------


def depth_of(value: Any) -> int:
    """The nesting of objects and arrays in ``value`` (the reference: recursion)."""
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def ints_of(value: Any) -> list[int]:
    if isinstance(value, dict):
        return [i for v in value.values() for i in ints_of(v)]
    if isinstance(value, list):
        return [i for v in value for i in ints_of(v)]
    return [value] if type(value) is int else []


TRICKY_TEXT = st.text(alphabet=st.sampled_from('[]{}"\\/:,0123456789abfnrtué\n\t'), max_size=12)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, max_depth=st.integers(min_value=0, max_value=8))
def test_check_encoded_refuses_exactly_what_the_reference_refuses(
    value: Any, max_depth: int
) -> None:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    low, high = KINTO_INT_RANGE
    too_deep = depth_of(value) > max_depth
    out_of_range = any(not low <= i <= high for i in ints_of(value))
    assert _nests_deeper(data, max_depth) is too_deep
    if too_deep or out_of_range:
        with pytest.raises(ValueError, match=r"levels deep|outside -2"):
            check_encoded(value, data, max_depth=max_depth)
    else:
        check_encoded(value, data, max_depth=max_depth)
