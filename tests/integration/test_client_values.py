"""What Kinto keeps exactly, and errors of bodiless answers, on a real Kinto (issue 10).

``api`` runs each test on the sync Client and on AsyncClient; with
``KINTORM_BACKEND=postgresql`` on Kinto with PostgreSQL and 4 workers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kintorm import KintoException, MalformedResponse
from kintorm.client.protocol import KINTO_INT_RANGE, MAX_JSON_DEPTH


def nested(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_integers_in_the_range_come_back_exactly(api: Any) -> None:
    low, high = KINTO_INT_RANGE
    data = {"edges": [low, high, 2**63, -(2**63) + 1], "big": high}
    api.create_record(id="ints", data=data)
    back = api.get_record(id="ints")["data"]
    assert back["edges"] == data["edges"] and back["big"] == high
    assert all(type(v) is int for v in back["edges"])
    assert [r["id"] for r in api.get_records(big=high)] == ["ints"]


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 10**30])
def test_integers_outside_the_range_are_refused_and_nothing_is_stored(
    api: Any, number: int
) -> None:
    with pytest.raises(ValueError, match=r"outside -2\*\*63\.\.2\*\*64-1"):
        api.create_record(id="big", data={"n": number})
    with pytest.raises(ValueError, match=r"at data\.n is"):
        api.update_record(id="big", data={"n": number})
    assert api.get_records() == []


def test_deep_values_up_to_the_limit_are_stored(api: Any) -> None:
    deep = nested(MAX_JSON_DEPTH - 2)  # {"data": {"d": ...}}: MAX_JSON_DEPTH in all
    api.create_record(id="deep", data={"d": deep})
    assert api.get_record(id="deep")["data"]["d"] == deep
    with pytest.raises(ValueError, match=f"more than {MAX_JSON_DEPTH} levels"):
        api.create_record(id="deeper", data={"d": nested(MAX_JSON_DEPTH - 1)})
    with pytest.raises(ValueError, match=f"more than {MAX_JSON_DEPTH} levels"):
        api.create_record(id="deeper", data={"d": nested(1_000)})
    assert [r["id"] for r in api.get_records()] == ["deep"]


def test_a_head_error_is_typed_as_the_get(
    api: Any, make_api: Callable[..., Any], kinto_admin_auth: tuple[str, str]
) -> None:
    for call in (
        lambda c: c.get_records_timestamp(collection="not-there"),
        lambda c: c.get_records(collection="not-there"),
    ):
        with pytest.raises(KintoException) as info:
            call(api)
        assert type(info.value) is KintoException
        assert info.value.response.status_code == 404
    wrong = make_api(auth=(kinto_admin_auth[0], "not-the-password"))
    with pytest.raises(KintoException) as head:
        wrong.get_records_timestamp()
    with pytest.raises(KintoException) as get:
        wrong.get_records()
    assert type(head.value) is type(get.value) is KintoException
    assert not isinstance(head.value, MalformedResponse)
    assert head.value.response.status_code == get.value.response.status_code == 401
    assert "401 Unauthorized (no body)" in str(head.value)
