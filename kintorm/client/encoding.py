"""JSON and query-string encoding as Kinto reads them, and ETag quoting."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from typing import Any


def _json_default(value: object) -> str:
    if isinstance(value, datetime.date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, set | frozenset):  # permissions are sets in kinto-http
        return sorted(value)  # type: ignore[return-value]
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON serialisable")


#: The integers Kinto keeps exactly: its JSON parser (rapidjson) reads any other
#: integer as a float (2**64 comes back as 1.8446744073709552e+19), on every backend.
KINTO_INT_RANGE = (-(2**63), 2**64 - 1)
#: The deepest nesting of objects and arrays in a body kintorm sends. Kinto 26 answers
#: 500 from about 480 levels (a recursive copy of the record), on every backend.
MAX_JSON_DEPTH = 320
#: every digit as "0": a run of 19 means an integer that may be outside KINTO_INT_RANGE
#: (shorter ones are all inside), or digits in a string (a false alarm costs a walk)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19
#: what _nests_deeper keeps of a JSON text: brackets, and what strings need to be found
_SKELETON_DROP = bytes(sorted(set(range(256)) - set(b'{}[]"\\bfnrtu/')))
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_INNERMOST = re.compile(rb"\[\]|\{\}")


def encode_json(payload: Any) -> bytes:
    """UTF-8 JSON bytes; dates become ISO-8601 strings; anything else unknown raises
    TypeError; NaN, infinities and lone surrogates ValueError (Kinto would answer 400);
    so do integers outside KINTO_INT_RANGE (Kinto would store a float) and nesting
    deeper than MAX_JSON_DEPTH (Kinto would answer 500), naming where they are."""
    try:
        text = json.dumps(
            payload,
            default=_json_default,
            separators=(",", ":"),
            allow_nan=False,
            ensure_ascii=False,
        )
        data = text.encode()
    except ValueError as exc:  # NaN and infinities (UnicodeEncodeError is one too)
        raise ValueError(f"cannot send as JSON: {_reason(exc)}") from None
    except RecursionError:
        check_json(payload)
        raise ValueError("cannot send as JSON: nested too deep") from None
    check_encoded(payload, data)
    return data


def check_encoded(
    value: Any, data: bytes, *, path: str = "", max_depth: int = MAX_JSON_DEPTH
) -> None:
    """:func:`check_json` of ``value`` whose UTF-8 JSON is ``data``, only when ``data``
    holds a run of 19 digits or nests deeper than ``max_depth`` (C-speed scans)."""
    if len(data) < min(len(_LONG_NUMBER), 2 * max_depth + 2):
        return  # too short for such an integer or for that many brackets
    if _LONG_NUMBER in data.translate(_DIGITS_AS_ZERO) or _nests_deeper(data, max_depth):
        check_json(value, path=path, max_depth=max_depth)


def _nests_deeper(data: bytes, max_depth: int) -> bool:
    """Whether the JSON text ``data`` nests objects and arrays deeper than ``max_depth``:
    the brackets outside strings, with innermost pairs removed level by level."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    skeleton = _STRING.sub(b"", data.translate(None, _SKELETON_DROP))
    skeleton = skeleton.translate(None, b"bfnrtu/")  # true, false, null
    for _ in range(max_depth):
        if not skeleton:
            return False
        skeleton = _INNERMOST.sub(b"", skeleton)  # one level: "{[]}" becomes "{}"
    return bool(skeleton)


def check_json(value: Any, *, path: str = "", max_depth: int = MAX_JSON_DEPTH) -> None:
    """ValueError naming the place (``path``, then ``.key`` / ``[index]``) of the first
    integer outside KINTO_INT_RANGE, or of nesting deeper than ``max_depth`` levels.
    A loop, not recursion: any depth can be checked."""
    low, high = KINTO_INT_RANGE
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool):
            if not low <= item <= high:
                raise ValueError(
                    f"the integer {item} at {where or 'the top'} is outside -2**63..2**64-1, "
                    "the range Kinto stores exactly (it would store a float)"
                )
            continue
        if isinstance(item, dict):
            children: Any = ((f"{where}.{k}" if where else str(k), v) for k, v in item.items())
        elif isinstance(item, list | tuple | set | frozenset):
            children = ((f"{where}[{i}]", v) for i, v in enumerate(item))
        else:
            continue
        if depth >= max_depth:
            shown = where if len(where) <= 60 else f"{where[:40]}...{where[-16:]}"
            raise ValueError(
                f"{path or 'the value'} nests objects and arrays more than {max_depth} "
                f"levels deep (at {shown or 'the top'}): Kinto cannot store it"
            )
        stack.extend((child, name, depth + 1) for name, child in children)


def _reason(exc: ValueError) -> str:
    if isinstance(exc, UnicodeEncodeError):
        return f"a string holds a lone surrogate {exc.object[exc.start : exc.end]!r}"
    return str(exc)


def encode_param(key: str, value: Any) -> str:
    """One querystring value as Kinto parses it (kinto-http's rules, so the same call means
    the same thing): strings go as they are, lists of ``in_``/``exclude_`` are comma
    separated, everything else is JSON."""
    if isinstance(value, str):
        return value
    if key.startswith(("in_", "exclude_")) and isinstance(value, list | tuple | set):
        return ",".join(v if isinstance(v, str) else json.dumps(v) for v in value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return json.dumps(value, default=_json_default)


def encode_params(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The query of ``params`` (:func:`encode_param` each), ``None`` values left out."""
    return tuple((k, encode_param(k, v)) for k, v in params.items() if v is not None)


def quote_etag(value: Any) -> str:
    """``value`` between double quotes, as ``If-Match``/``If-None-Match`` take it."""
    return '"{}"'.format(str(value).strip('"'))


def unquote_etag(value: str | None) -> str | None:
    """An ``ETag`` header's value without its double quotes."""
    return None if value is None else value.strip('"')
