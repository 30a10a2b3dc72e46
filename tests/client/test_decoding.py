"""Response bodies decode to exactly what ``json.loads`` gives, with or without msgspec.

A Hypothesis property against the reference, ``json.loads``: JSON texts of any
shape (huge integers, ``-0.0``, non-ASCII and lone-surrogate escapes, ``NaN``
and infinities, deep nesting) and arbitrary bytes decode to the same value, of
the same types, or fail with ``json``'s ValueError.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kintorm.client import decoding
from kintorm.client.decoding import collector_paused, decode_json

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=30,
)


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types (NaN equal to NaN, -0.0 apart from 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def decoded_alike(content: bytes) -> None:
    try:
        expected = json.loads(content)
    except ValueError as exc:
        with pytest.raises(ValueError) as raised:
            decode_json(content)
        assert type(raised.value) is type(exc)
        return
    except RecursionError:
        with pytest.raises(RecursionError):
            decode_json(content)
        return
    assert same(decode_json(content), expected), content


@settings(max_examples=400)
@given(values, st.booleans())
def test_json_texts_decode_as_json_loads_does(value: Any, ascii_only: bool) -> None:
    decoded_alike(json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))


@settings(max_examples=300)
@given(st.binary(max_size=40))
def test_any_bytes_decode_or_fail_as_json_loads_does(content: bytes) -> None:
    decoded_alike(content)


@pytest.mark.parametrize(
    "content",
    [
        b'{"a": NaN, "b": Infinity, "c": -Infinity}',
        b'"\\ud800"',
        b"123456789012345678901234567890",
        b"-9223372036854775809",
        b"\xef\xbb\xbf{}",
        b'{"a": 1, "a": 2}',
        b"[1e400]",
        b"[" * 3000 + b"]" * 3000,
        b"",
        b"<html>",
    ],
)
def test_edge_cases_decode_as_json_loads_does(content: bytes) -> None:
    decoded_alike(content)


def test_msgspec_is_used_when_installed() -> None:
    if importlib.util.find_spec("msgspec") is None:
        pytest.skip("msgspec is not installed (the fast extra): bodies go through json alone")
    assert decoding.FAST_DECODER is not None


def _collections_during(work: Any) -> int:
    """How many times the cyclic garbage collector ran while ``work()`` ran."""
    runs: list[str] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            runs.append(phase)

    gc.callbacks.append(count)
    try:
        work()
    finally:
        gc.callbacks.remove(count)
    return len(runs)


LISTING = json.dumps({"data": [{"id": str(i), "tags": ["a"]} for i in range(5000)]}).encode()


@pytest.mark.parametrize("body", [LISTING, LISTING + b"x"], ids=["json", "not-json"])
def test_the_collector_is_paused_while_a_body_decodes_and_turned_back_on(body: bytes) -> None:
    assert gc.isenabled()

    def decode(decoder: Any) -> None:
        with contextlib.suppress(ValueError):
            decoder(body)

    # 10,000 containers: unpaused, the collector runs every few hundred of them; paused,
    # it runs at most once, at the first allocation after it is turned back on
    assert _collections_during(lambda: decode(json.loads)) >= 10_000 // gc.get_threshold()[0]
    assert _collections_during(lambda: decode(decode_json)) <= 1
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with pytest.raises(RuntimeError), collector_paused():
            raise RuntimeError("inside")
        assert not gc.isenabled()
        decode_json(b"{}")
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("inside")
    assert gc.isenabled()
