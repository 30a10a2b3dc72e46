"""Sealed cursors, without a server: round trips, tampering, contexts, keys.

``seal`` / ``unseal`` are pure; the properties are checked with Hypothesis over
arbitrary positions and contexts, and over every kind of change to the text.
"""

from __future__ import annotations

import base64
import re
import warnings
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kintorm import InvalidCursor, ORMError, PageError, set_cursor_key
from kintorm.orm import cursor
from kintorm.orm.cursor import CURSOR_KEY_ENV, MAX_CURSOR_LENGTH, seal, unseal

KEY = "k" * 32
OTHER_KEY = "o" * 32
URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")

positions = st.binary(max_size=600)
contexts = st.binary(max_size=300)


@pytest.fixture(autouse=True)
def key() -> Iterator[None]:
    set_cursor_key(KEY)
    yield
    set_cursor_key(None)


@given(position=positions, context=contexts)
def test_round_trip_in_url_safe_text(position: bytes, context: bytes) -> None:
    text = seal(position, context)
    assert URL_SAFE.fullmatch(text) and "=" not in text
    assert unseal(text, context) == position
    assert seal(position, context) == text  # deterministic: one cursor per position


@given(position=positions, context=contexts, other=contexts)
def test_another_context_is_refused(position: bytes, context: bytes, other: bytes) -> None:
    text = seal(position, context)
    if other != context:
        with pytest.raises(InvalidCursor):
            unseal(text, context=other)


def _mutations(text: str) -> st.SearchStrategy[str]:
    """Every kind of change to ``text``: a character replaced, inserted or removed, a
    cut, an extension, a swap of two characters, padding."""
    alphabet = st.sampled_from("ABCabc019-_+/=. %\x00é")
    spot = st.integers(0, len(text) - 1)
    return st.one_of(
        st.tuples(spot, alphabet).map(lambda a: text[: a[0]] + a[1] + text[a[0] + 1 :]),
        st.tuples(st.integers(0, len(text)), alphabet).map(
            lambda a: text[: a[0]] + a[1] + text[a[0] :]
        ),
        spot.map(lambda i: text[:i] + text[i + 1 :]),
        st.integers(0, len(text) - 1).map(lambda i: text[:i]),
        st.text(alphabet, min_size=1, max_size=8).map(lambda t: text + t),
        st.tuples(spot, spot).map(lambda a: _swap(text, *a)),
        st.just(text + "=="),
    )


def _swap(text: str, i: int, j: int) -> str:
    chars = list(text)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=400)
@given(position=positions, context=contexts, data=st.data())
def test_any_change_to_a_cursor_is_refused(
    position: bytes, context: bytes, data: st.DataObject
) -> None:
    text = seal(position, context)
    changed = data.draw(_mutations(text))
    if changed == text:
        return
    with pytest.raises(InvalidCursor):
        unseal(changed, context)


@given(position=positions, context=contexts)
def test_every_bit_flip_is_refused(position: bytes, context: bytes) -> None:
    """Changes below the text: each bit of the decoded cursor, re-encoded canonically."""
    body = base64.urlsafe_b64decode(seal(position, context) + "==")
    for index in range(0, len(body), max(1, len(body) // 24)):
        for bit in (0, 7):
            flipped = bytearray(body)
            flipped[index] ^= 1 << bit
            text = base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode()
            with pytest.raises(InvalidCursor):
                unseal(text, context)


def test_the_position_is_not_readable() -> None:
    position = b'{"last_object": {"salary": 123456, "email": "alice@example.com"}}'
    body = base64.urlsafe_b64decode(seal(position, b"q") + "==")
    assert b"alice" not in body and b"123456" not in body and b"salary" not in body
    assert len(body) == 1 + 16 + len(position)  # version, tag, ciphertext


@pytest.mark.parametrize(
    "text",
    ["", " ", "!!!!", "A", "AAAA", "a" * (MAX_CURSOR_LENGTH + 1), "AQ" * 20, "€uro"],
)
def test_malformed_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidCursor) as info:
        unseal(text, b"q")
    assert isinstance(info.value, PageError) and isinstance(info.value, ORMError)
    assert isinstance(info.value, ValueError)  # an API's 400


@pytest.mark.parametrize("value", [None, b"AAAA", 12, ["x"]])
def test_a_cursor_is_text(value: object) -> None:
    with pytest.raises(InvalidCursor, match="a cursor is a string"):
        unseal(value, b"q")


def test_another_key_is_refused_and_rotation_keeps_old_cursors() -> None:
    old = seal(b"position", b"q")
    set_cursor_key(OTHER_KEY)
    with pytest.raises(InvalidCursor, match="another key"):
        unseal(old, b"q")
    set_cursor_key(OTHER_KEY, KEY)  # rotation: the new key seals, the old one still opens
    assert unseal(old, b"q") == b"position"
    new = seal(b"position", b"q")
    assert new != old
    set_cursor_key(OTHER_KEY)
    assert unseal(new, b"q") == b"position"


def test_the_environment_variable_holds_the_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    sealed_with_key = seal(b"p", b"q")
    set_cursor_key(None)
    monkeypatch.setenv(CURSOR_KEY_ENV, f"{OTHER_KEY}  {KEY}\n")
    assert unseal(sealed_with_key, b"q") == b"p"  # the second key opens
    fresh = seal(b"p", b"q")
    monkeypatch.setenv(CURSOR_KEY_ENV, OTHER_KEY)
    assert unseal(fresh, b"q") == b"p"  # the first one sealed


@pytest.mark.parametrize("bad", ["short", b"x" * 31, "é" * 15])
def test_short_keys_are_refused_without_showing_them(
    bad: str | bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes") as info:
        set_cursor_key(bad)
    shown = bad if isinstance(bad, str) else bad.decode()
    assert shown not in str(info.value)
    set_cursor_key(None)
    monkeypatch.setenv(CURSOR_KEY_ENV, f"{KEY} {shown}")
    with pytest.raises(ValueError, match=f"\\${CURSOR_KEY_ENV}") as info:
        seal(b"p", b"q")
    assert shown not in str(info.value)


def test_key_types() -> None:
    with pytest.raises(TypeError, match="str or bytes"):
        set_cursor_key(12345678901234567890123456789012345)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="no previous keys"):
        set_cursor_key(None, KEY)
    set_cursor_key(b"\x00" * 32)  # bytes of any value
    assert unseal(seal(b"p", b"q"), b"q") == b"p"


def test_without_a_key_a_process_key_is_used_with_one_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_cursor_key(None)
    monkeypatch.delenv(CURSOR_KEY_ENV, raising=False)
    monkeypatch.setattr(cursor, "_warned", False)
    with pytest.warns(RuntimeWarning, match="refused by every other process"):
        text = seal(b"p", b"q")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert unseal(text, b"q") == b"p"  # warned once per process
    set_cursor_key(KEY)
    with pytest.raises(InvalidCursor):
        unseal(text, b"q")  # another process (here: another key) refuses it
