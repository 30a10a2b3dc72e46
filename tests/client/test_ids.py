"""Ids Kinto would reject raise ValueError before any request; valid ones go unchanged."""

from __future__ import annotations

import re
from typing import Any

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from kintorm import Client

from ._wire import SERVER, Wire

VALID = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]*")
BAD_IDS = ["with space", "unicodé", "-leading", "_leading", "", "../x", "a/b", "a\n", "a.b", "?q"]
CALLS = [
    lambda c, bad: c.get_bucket(id=bad),
    lambda c, bad: c.create_bucket(id=bad),
    lambda c, bad: c.delete_bucket(id=bad),
    lambda c, bad: c.delete_group(id=bad, bucket="b"),
    lambda c, bad: c.get_groups(bucket=bad),
    lambda c, bad: c.update_collection(id=bad, bucket="b", data={}),
    lambda c, bad: c.get_records(bucket="b", collection=bad),
    lambda c, bad: c.create_record(id=bad, bucket="b", collection="c", data={}),
    lambda c, bad: c.patch_record(id=bad, bucket="b", collection="c", data={"a": 1}),
    lambda c, bad: c.get_history(bucket=bad),
]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("call", range(len(CALLS)))
def test_invalid_ids_raise_before_any_request(
    wire: Wire, rsps: responses.RequestsMock, bad: str, call: int
) -> None:
    with pytest.raises(ValueError, match=r"invalid \w+ id"):
        wire.run(lambda c: CALLS[call](c, bad))
    assert wire.calls == []
    assert len(rsps.calls) == 0


def test_invalid_data_id_in_create(wire: Wire) -> None:
    with pytest.raises(ValueError, match=r"invalid record id '\.\./x'"):
        wire.run(lambda c: c.create_record(bucket="b", collection="c", data={"id": "../x"}))
    assert wire.calls == []


def test_invalid_id_in_a_batch_is_refused_at_once(wire: Wire) -> None:
    client = wire.client(bucket="b", collection="c")
    with pytest.raises(ValueError, match="invalid"):
        wire.batch(client, lambda b: b.delete_record(id="no way"))
    assert wire.calls == []


CLIENT = Client(server_url=SERVER)


@given(st.text())
def test_ids_not_matching_the_rule_are_refused(value: str) -> None:
    if VALID.fullmatch(value):
        assert CLIENT.get_endpoint("record", bucket="b", collection="c", id=value).endswith(
            "/records/" + value
        )
    else:
        with pytest.raises(ValueError, match="invalid record id"):
            CLIENT.get_endpoint("record", bucket="b", collection="c", id=value)


@settings(max_examples=50)
@given(st.from_regex(VALID, fullmatch=True))
def test_valid_ids_reach_the_path_unchanged(value: str) -> None:
    with responses.RequestsMock() as rsps:
        url = f"{SERVER}/buckets/{value}/collections/{value}/records/{value}"
        rsps.get(url, json={"data": {"id": value}})
        assert CLIENT.get_record(id=value, bucket=value, collection=value) == {
            "data": {"id": value}
        }
        assert rsps.calls[0].request.url == url


@pytest.mark.parametrize("value", [b"abc", ["a"], True, 1.5])
def test_non_string_ids(value: Any) -> None:
    with pytest.raises(ValueError, match="invalid bucket id"):
        CLIENT.get_endpoint("bucket", bucket=value)


def test_integer_ids_are_their_decimal_string() -> None:
    """kinto-http programs pass ``id=1234``; an int has one string form, so it is kept."""
    assert CLIENT.get_endpoint("record", bucket="b", collection="c", id=1234) == (  # type: ignore[arg-type]
        "/buckets/b/collections/c/records/1234"
    )
    with pytest.raises(ValueError, match="invalid record id"):
        CLIENT.get_endpoint("record", bucket="b", collection="c", id=-1)  # type: ignore[arg-type]


def test_endpoints_take_integer_ids_zero_included() -> None:
    """kinto-http's Endpoints().get(...): an integer id is its decimal string, 0 too."""
    from kintorm import Endpoints

    assert Endpoints().get("record", bucket="b", collection="c", id=0) == (
        "/buckets/b/collections/c/records/0"
    )
    assert Endpoints("/v1").get("bucket", bucket=7) == "/v1/buckets/7"
