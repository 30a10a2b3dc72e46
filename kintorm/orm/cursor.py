"""Cursors: a position in a listing, sealed for a client to hold and hand back.

:func:`seal` turns a position (bytes) into URL-safe text that only this
application can read and that is bound to one *context* (the query it came
from); :func:`unseal` gives the position back, or raises :class:`InvalidCursor`
for any other text: altered, made for another context, or made with a key this
process does not hold.

The construction is SIV, deterministic authenticated encryption
(Rogaway and Shrimpton), from HMAC-SHA256 alone: two subkeys are derived from the
application's key; ``tag = HMAC(mac_key, context, position)[:16]``; the position is
XORed with the keystream ``HMAC(enc_key, tag || counter)``; the cursor is
``base64url(version || tag || ciphertext)`` without padding. Opening decrypts with
the tag, recomputes it and compares in constant time. The same position of the same
query always gives the same cursor; a cursor reveals nothing of the position but its
length.

The key (:func:`set_cursor_key`, else ``$KINTORM_CURSOR_KEY``, else one made at
random for this process) is the application's secret: every process that serves one
API must hold the same one. See docs/cursors.md.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
import secrets
import warnings

from kintorm.orm.exceptions import ORMError

__all__ = [
    "CURSOR_KEY_ENV",
    "MAX_CURSOR_LENGTH",
    "MIN_KEY_BYTES",
    "InvalidCursor",
    "InvalidPageSize",
    "PageError",
    "seal",
    "set_cursor_key",
    "unseal",
]

#: the environment variable holding the key(s), read at each use: the first signs,
#: any of them opens (whitespace separated, for rotations)
CURSOR_KEY_ENV = "KINTORM_CURSOR_KEY"
#: a key shorter than this (bytes, UTF-8 for text) is refused: 32 random bytes, or
#: ``secrets.token_urlsafe(32)`` (43 characters), is the intended strength
MIN_KEY_BYTES = 32
#: longer text is refused before it is decoded (cursors grow with the values of the
#: last record's sort fields; a page ordered by short fields makes about 190 characters)
MAX_CURSOR_LENGTH = 65536

_VERSION = b"\x01"
_TAG_BYTES = 16
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_NO_KEY_WARNING = (
    "no cursor key is set (kintorm.set_cursor_key() or ${env}): this process made a "
    "random one, so its cursors are refused by every other process and after a restart; "
    "set the same key on every process that serves the API"
)


class PageError(ORMError, ValueError):
    """A page request refused before any request: an API answers it with 400
    (a :class:`ValueError` too). The message names the problem and never holds a key
    or the cursor's content."""


class InvalidCursor(PageError):
    """A cursor that this application did not make for this query: altered, truncated,
    made for another query (filters, order, ``only()``, model, bucket or collection),
    or sealed with a key this process does not hold (see :func:`set_cursor_key`).
    Nothing was sent."""


class InvalidPageSize(PageError):
    """A page size that is not an ``int`` between 1 and ``MAX_PAGE_SIZE``. Nothing was
    sent."""


# --- keys ---------------------------------------------------------------------------

_configured: tuple[bytes, ...] | None = None
_process_key = secrets.token_bytes(MIN_KEY_BYTES)
_warned = False


def _key_bytes(key: str | bytes, where: str) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes):
        raise TypeError(f"{where}: a cursor key is str or bytes, not {type(key).__name__}")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"{where}: a cursor key has at least {MIN_KEY_BYTES} bytes, this one "
            f"{len(key)} (make one with: python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')"
        )
    return key


def set_cursor_key(key: str | bytes | None, *previous: str | bytes) -> None:
    """Set the secret that seals the cursors of :meth:`QuerySet.page`, for this process.

    ``key`` seals new cursors; cursors sealed with ``key`` or any of ``previous`` are
    accepted (rotation: deploy ``set_cursor_key(new, old)`` everywhere, then drop
    ``old`` once its cursors have expired from your clients' hands). ``None`` removes
    the setting: ``$KINTORM_CURSOR_KEY`` is then read (its keys whitespace separated,
    the first one sealing), else a random key made for this process is used, with a
    RuntimeWarning the first time: its cursors are refused by any other process.

    A key is a str (UTF-8) or bytes of at least 32 bytes; ValueError otherwise (its
    value is never shown). Every process serving one API needs the same key.
    """
    global _configured
    if key is None:
        if previous:
            raise TypeError("set_cursor_key(None) takes no previous keys")
        _configured = None
        return
    where = "set_cursor_key()"
    _configured = tuple(_key_bytes(k, where) for k in (key, *previous))


def _keys() -> tuple[bytes, ...]:
    """The keys in force, the sealing one first (see :func:`set_cursor_key`)."""
    global _warned
    if _configured is not None:
        return _configured
    from_env = os.environ.get(CURSOR_KEY_ENV, "").split()
    if from_env:
        return tuple(_key_bytes(k, f"${CURSOR_KEY_ENV}") for k in from_env)
    if not _warned:
        _warned = True
        warnings.warn(_NO_KEY_WARNING.format(env=CURSOR_KEY_ENV), RuntimeWarning, 4)
    return (_process_key,)


@functools.lru_cache(maxsize=16)
def _subkeys(key: bytes) -> tuple[bytes, bytes]:
    """(authentication key, encryption key), derived from ``key`` for cursors only."""
    mac = hmac.digest(key, b"kintorm cursor 1: authentication", hashlib.sha256)
    enc = hmac.digest(key, b"kintorm cursor 1: encryption", hashlib.sha256)
    return mac, enc


# --- sealing ------------------------------------------------------------------------


def _tag(mac_key: bytes, context: bytes, position: bytes) -> bytes:
    framed = len(context).to_bytes(8, "big") + context + position
    return hmac.digest(mac_key, framed, hashlib.sha256)[:_TAG_BYTES]


def _xor_keystream(enc_key: bytes, tag: bytes, data: bytes) -> bytes:
    blocks = (len(data) + 31) // 32
    stream = b"".join(
        hmac.digest(enc_key, tag + i.to_bytes(4, "big"), hashlib.sha256) for i in range(blocks)
    )
    mixed = int.from_bytes(data, "big") ^ int.from_bytes(stream[: len(data)], "big")
    return mixed.to_bytes(len(data), "big")


def _text(body: bytes) -> str:
    return base64.urlsafe_b64encode(body).rstrip(b"=").decode("ascii")


def seal(position: bytes, context: bytes) -> str:
    """``position`` as a cursor for ``context``, with the sealing key (URL-safe text)."""
    mac_key, enc_key = _subkeys(_keys()[0])
    tag = _tag(mac_key, context, position)
    return _text(_VERSION + tag + _xor_keystream(enc_key, tag, position))


def _body(cursor: object) -> bytes:
    """The bytes of a well-formed cursor text; InvalidCursor for anything else."""
    if not isinstance(cursor, str):
        raise InvalidCursor(f"a cursor is a string, not {type(cursor).__name__}")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor(f"invalid cursor: longer than {MAX_CURSOR_LENGTH} characters")
    if not _URL_SAFE.fullmatch(cursor):
        raise InvalidCursor("invalid cursor: not a cursor this API made (bad characters)")
    try:
        body = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCursor("invalid cursor: not a cursor this API made") from None
    if _text(body) != cursor:  # one text per cursor: unused bits must be zero
        raise InvalidCursor("invalid cursor: not a cursor this API made")
    return body


def unseal(cursor: object, context: bytes) -> bytes:
    """The position sealed in ``cursor`` for ``context``; InvalidCursor when ``cursor``
    was not sealed by one of the keys in force for exactly this context."""
    body = _body(cursor)
    if body[:1] != _VERSION or len(body) < 1 + _TAG_BYTES:
        raise InvalidCursor("invalid cursor: not a cursor this API made")
    tag, sealed = body[1 : 1 + _TAG_BYTES], body[1 + _TAG_BYTES :]
    for key in _keys():
        mac_key, enc_key = _subkeys(key)
        position = _xor_keystream(enc_key, tag, sealed)
        if hmac.compare_digest(_tag(mac_key, context, position), tag):
            return position
    raise InvalidCursor(
        "invalid cursor: altered, made for another query (filters, order, fields, "
        "collection), or sealed with another key"
    )
